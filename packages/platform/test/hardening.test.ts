/** Findings of the security review, each pinned by a test. */
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
const deepJson = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('request pipeline hardening', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'hardening-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  it('refuses an unauthenticated body before parsing it', async () => {
    const res = await p.app.inject({
      method: 'POST',
      url: PATH,
      payload: deepJson(100_000),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe(-2);
  });

  it('refuses a signed body whose hash does not match before parsing it', async () => {
    const body = deepJson(100_000);
    const res = await p.app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: {
        ...authHeaders(admin.key.privateKey, admin.id, PATH, '{}'),
        'content-type': 'application/json',
      },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe(-1);
  });

  it('refuses JSON nested deeper than 32 levels, even when authenticated', async () => {
    const body = deepJson(33);
    const res = await p.app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: {
        ...authHeaders(admin.key.privateKey, admin.id, PATH, body),
        'content-type': 'application/json',
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 1001, message: expect.stringMatching(/deeper/) });
  });

  it('a nonce with control characters is an invalid token and does not disturb concurrent requests', async () => {
    const results = await Promise.all([
      signedRequest(p, admin, 'GET', '/v1/countersign/session', { claims: { nonce: 'x\u0000y' } }),
      ...Array.from({ length: 5 }, () => signedRequest(p, admin, 'GET', '/v1/countersign/session')),
    ]);
    expect(results[0].statusCode).toBe(401);
    expect(results[0].json().code).toBe(-1);
    expect(results.slice(1).map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
  });

  it('a NON_SIGNING_ADMIN may not create an ADMIN or a SIGNER', async () => {
    const nsa = await createApiUser(p, 'non-signing', 'NON_SIGNING_ADMIN');
    const key = await testKey('escalation', 2048);
    for (const role of ['ADMIN', 'SIGNER']) {
      const res = await signedRequest(p, nsa, 'POST', PATH, {
        body: { name: `esc-${role}`, role, csrPem: key.csrPem },
      });
      expect(res.statusCode, role).toBe(403);
      expect(res.json().code).toBe(-8);
    }
    const ok = await signedRequest(p, nsa, 'POST', PATH, {
      body: { name: 'esc-viewer', role: 'VIEWER', csrPem: key.csrPem },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('bodies are not type-coerced; query strings are', async () => {
    const key = await testKey('coercion', 2048);
    for (const body of [
      { name: ['x'], role: 'VIEWER', csrPem: key.csrPem },
      { name: 'x', role: ['VIEWER'], csrPem: key.csrPem },
      { name: 'x', role: 'VIEWER', csrPem: key.csrPem, coSignerSetupIsFirstUser: 'false' },
      { name: 'x', role: 'VIEWER', csrPem: key.csrPem, coSignerSetupType: 12 },
    ]) {
      const res = await signedRequest(p, admin, 'POST', PATH, { body });
      expect(res.statusCode, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.json().code).toBe(1003);
    }
    expect(
      (await signedRequest(p, admin, 'GET', '/v1/management/audit_logs?limit=2')).statusCode,
    ).toBe(200);
  });

  it('values the database cannot store are a 400, never a 500', async () => {
    const key = await testKey('nul-name', 2048);
    for (const name of ['nul\u0000name', 'lone\ud800surrogate', 'tab\tname']) {
      const res = await signedRequest(p, admin, 'POST', PATH, {
        body: { name, role: 'VIEWER', csrPem: key.csrPem },
      });
      expect(res.statusCode, JSON.stringify(name)).toBe(400);
    }
    const cursor = await signedRequest(
      p,
      admin,
      'GET',
      '/v1/management/audit_logs?cursor=9999999999999999999',
    );
    expect(cursor.statusCode).toBe(400);
  });
});

describe('failed authentication is bounded', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform({ authFailuresPerMinute: 3 });
    admin = await createApiUser(p, 'limit-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  const auditCount = async (action: string) =>
    (
      await p.app.services.database.db
        .selectFrom('audit_log')
        .select('seq')
        .where('action', '=', action)
        .execute()
    ).length;

  it('an address over the limit gets 429 and stops producing audit rows', async () => {
    const url = '/v1/countersign/session';
    const unsigned = () =>
      p.app.inject({
        url,
        headers: { 'x-api-key': admin.id, authorization: 'Bearer a.b.c' },
        remoteAddress: '198.51.100.20',
      });
    for (let i = 0; i < 2; i++) expect((await unsigned()).statusCode).toBe(401);
    expect(await auditCount('auth.failed')).toBe(2);
    expect((await unsigned()).statusCode).toBe(401); // the third reaches the limit: audited once as such
    expect(await auditCount('auth.rate_limited')).toBe(1);
    for (let i = 0; i < 5; i++) {
      const res = await unsigned();
      expect(res.statusCode).toBe(429);
      expect(res.json().code).toBe(1429);
    }
    expect(await auditCount('auth.failed')).toBe(2);
    expect(await auditCount('auth.rate_limited')).toBe(1);
    // Another address is unaffected; even a correctly signed request from the blocked one is refused.
    expect(
      (await signedRequest(p, admin, 'GET', url, { remoteAddress: '198.51.100.21' })).statusCode,
    ).toBe(200);
    expect(
      (await signedRequest(p, admin, 'GET', url, { remoteAddress: '198.51.100.20' })).statusCode,
    ).toBe(429);
  });

  it('a failure is filed under a workspace only once the signature verified', async () => {
    const db = p.app.services.database.db;
    const forged = await p.app.inject({
      url: '/v1/countersign/session',
      headers: { 'x-api-key': admin.id, authorization: 'Bearer a.b.c' },
      remoteAddress: '198.51.100.30',
    });
    expect(forged.statusCode).toBe(401);
    const last = await db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(last).toMatchObject({ action: 'auth.failed', workspace_id: null, actor_id: null });

    const wrongUri = await signedRequest(p, admin, 'GET', '/v1/countersign/session', {
      claims: { uri: '/nope' },
      remoteAddress: '198.51.100.31',
    });
    expect(wrongUri.statusCode).toBe(401);
    const signedFailure = await db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(signedFailure).toMatchObject({
      action: 'auth.failed',
      workspace_id: p.workspaceId,
      actor_id: admin.id,
    });
  });
});
