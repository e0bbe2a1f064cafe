import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders } from './helpers/request-signing.js';
import { testKey } from './helpers/keys.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const PATH = '/v1/management/api_users';

describe('bad input gets a clear error', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'input-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  async function raw(body: string, contentType: string) {
    return p.app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: {
        ...authHeaders(admin.key.privateKey, admin.id, PATH, body),
        'content-type': contentType,
      },
    });
  }

  it('malformed JSON → 400 / 1001', async () => {
    const res = await raw('{"name": ', 'application/json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ message: 'Request body is not valid JSON', code: 1001 });
  });

  it('a content type other than JSON → 415 / 1002', async () => {
    const res = await raw('name=x', 'application/x-www-form-urlencoded');
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe(1002);
  });

  it('unknown fields and missing fields → 400 / 1003', async () => {
    const key = await testKey('input-key', 2048);
    const unknown = await signedRequest(p, admin, 'POST', PATH, {
      body: { name: 'n', role: 'VIEWER', csrPem: key.csrPem, admin: true },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe(1003);
    expect(unknown.json().message).toMatch(/additional/i);
    const missing = await signedRequest(p, admin, 'POST', PATH, { body: { name: 'n' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().code).toBe(1003);
  });

  it('a body over 1 MiB → 413 / 1004', async () => {
    const res = await raw(
      JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
      'application/json',
    );
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe(1004);
  });

  it('an unknown route → 404 with the error shape', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 1404 });
  });

  it('random garbage never crashes the server or leaves rows behind', async () => {
    const before = (await p.app.services.database.db.selectFrom('api_users').select('id').execute())
      .length;
    const samples = [
      '[]',
      'null',
      '"str"',
      '{"name":null,"role":1,"csrPem":{}}',
      '{"name":"a","role":"VIEWER","csrPem":"-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----"}',
    ];
    for (const body of samples) {
      const res = await raw(body, 'application/json');
      expect(res.statusCode, body).toBe(400);
      expect(typeof res.json().code).toBe('number');
    }
    expect((await p.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(
      (await p.app.services.database.db.selectFrom('api_users').select('id').execute()).length,
    ).toBe(before);
  });
});
