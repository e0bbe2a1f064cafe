/** Logs are for operators: they must never carry keys, tokens or JWTs, even at trace level. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders } from './helpers/request-signing.js';
import {
  createApiUser,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('logging', () => {
  const lines: string[] = [];
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform({ logLevel: 'trace' }, undefined, {
      write: (line) => lines.push(line),
    });
    admin = await createApiUser(p, 'log-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  it('never writes the bearer token, the private key or the CSR', async () => {
    const url = '/v1/management/api_users';
    const ok = authHeaders(admin.key.privateKey, admin.id, url);
    const bad = authHeaders(admin.key.privateKey, admin.id, url, '', { uri: '/elsewhere' });
    expect((await p.app.inject({ url, headers: ok })).statusCode).toBe(200);
    expect((await p.app.inject({ url, headers: bad })).statusCode).toBe(401);
    const body = JSON.stringify({ name: 'x', role: 'VIEWER', csrPem: admin.key.csrPem });
    await p.app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: {
        ...authHeaders(admin.key.privateKey, admin.id, url, body),
        'content-type': 'application/json',
      },
    });
    // Something was logged about these requests, so the check below means something.
    expect(lines.some((l) => l.includes('/v1/management/api_users'))).toBe(true);
    const all = lines.join('\n');
    for (const headers of [ok, bad]) {
      const jwt = headers['authorization']!.slice('Bearer '.length);
      for (const part of jwt.split('.')) expect(all).not.toContain(part);
    }
    expect(all).not.toMatch(/PRIVATE KEY|CERTIFICATE REQUEST/);
    expect(all).not.toContain(admin.key.csrPem.split('\n')[1]!);
  });
});
