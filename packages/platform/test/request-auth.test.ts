import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, b64url, requestClaims, signJwt } from './helpers/request-signing.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const URL = '/v1/countersign/session';

describe('request authentication', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'auth-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  async function lastAuthFailure(): Promise<Record<string, unknown> | undefined> {
    const rows = await p.app.services.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'auth.failed')
      .orderBy('seq', 'desc')
      .limit(1)
      .execute();
    return rows[0]?.details;
  }

  async function expectAuthError(
    res: { statusCode: number; json(): unknown },
    status: number,
    code: number,
  ) {
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ message: expect.any(String), code });
    if (status === 401) expect((await lastAuthFailure())?.['code']).toBe(code);
  }

  it('accepts a correctly signed request', async () => {
    const res = await signedRequest(p, admin, 'GET', URL);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: admin.id,
      role: 'ADMIN',
      kind: 'api_user',
      workspaceId: p.workspaceId,
    });
  });

  it('accepts the legacy empty-body hash of JSON.stringify("")', async () => {
    const bodyHash = createHash('sha256').update('""').digest('hex');
    const res = await signedRequest(p, admin, 'GET', URL, { claims: { bodyHash } });
    expect(res.statusCode).toBe(200);
  });

  it('-2 when X-API-Key is missing', async () => {
    const headers = authHeaders(admin.key.privateKey, admin.id, URL);
    const res = await p.app.inject({
      method: 'GET',
      url: URL,
      headers: { authorization: headers['authorization']! },
    });
    await expectAuthError(res, 401, -2);
  });

  it('-3 when the bearer token is missing or not a bearer token', async () => {
    await expectAuthError(
      await p.app.inject({ method: 'GET', url: URL, headers: { 'x-api-key': admin.id } }),
      401,
      -3,
    );
    await expectAuthError(
      await p.app.inject({
        method: 'GET',
        url: URL,
        headers: { 'x-api-key': admin.id, authorization: 'Basic abc' },
      }),
      401,
      -3,
    );
  });

  it('-1 for a token signed by another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const res = await p.app.inject({
      method: 'GET',
      url: URL,
      headers: authHeaders(other, admin.id, URL),
    });
    await expectAuthError(res, 401, -1);
  });

  it('-1 for a token that is not RS256 (alg none, HS256)', async () => {
    const claims = requestClaims(admin.id, URL, '');
    const none = `${b64url(JSON.stringify({ alg: 'none' }))}.${b64url(JSON.stringify(claims))}.`;
    const hs = signJwt(admin.key.privateKey, { alg: 'HS256' }, claims);
    for (const token of [none, hs, 'not-a-jwt', 'a.b.c']) {
      const res = await p.app.inject({
        method: 'GET',
        url: URL,
        headers: { 'x-api-key': admin.id, authorization: `Bearer ${token}` },
      });
      await expectAuthError(res, 401, -1);
    }
  });

  it('-1 when the body hash does not match the body', async () => {
    const res = await signedRequest(p, admin, 'POST', '/v1/management/api_users', {
      body: { name: 'x', role: 'VIEWER', csrPem: 'x' },
      claims: { bodyHash: createHash('sha256').update('{}').digest('hex') },
    });
    await expectAuthError(res, 401, -1);
  });

  it('-4 when uri differs, including only in query-string encoding', async () => {
    await expectAuthError(
      await signedRequest(p, admin, 'GET', URL, { claims: { uri: '/v1/management/api_users' } }),
      401,
      -4,
    );
    const url = '/v1/management/audit_logs?timePeriod=DAY&cursor=12';
    await expectAuthError(
      await signedRequest(p, admin, 'GET', url, {
        claims: { uri: '/v1/management/audit_logs?cursor=12&timePeriod=DAY' },
      }),
      401,
      -4,
    );
    const encoded = '/v1/management/audit_logs?timePeriod=%44AY';
    await expectAuthError(
      await signedRequest(p, admin, 'GET', encoded, {
        claims: { uri: '/v1/management/audit_logs?timePeriod=DAY' },
      }),
      401,
      -4,
    );
    // The uri claim must include the /v1 prefix.
    await expectAuthError(
      await signedRequest(p, admin, 'GET', URL, { claims: { uri: '/countersign/session' } }),
      401,
      -4,
    );
  });

  it('-7 for an unknown API key, a replayed nonce and a wrong sub', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    await expectAuthError(
      await p.app.inject({
        method: 'GET',
        url: URL,
        headers: authHeaders(admin.key.privateKey, unknown, URL),
      }),
      401,
      -7,
    );
    await expectAuthError(
      await p.app.inject({
        method: 'GET',
        url: URL,
        headers: authHeaders(admin.key.privateKey, 'not-a-uuid', URL),
      }),
      401,
      -7,
    );
    const headers = authHeaders(admin.key.privateKey, admin.id, URL);
    expect((await p.app.inject({ method: 'GET', url: URL, headers })).statusCode).toBe(200);
    await expectAuthError(await p.app.inject({ method: 'GET', url: URL, headers }), 401, -7);
    await expectAuthError(
      await signedRequest(p, admin, 'GET', URL, { claims: { sub: unknown } }),
      401,
      -7,
    );
  });

  it('-7 for a token living longer than 60 s', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectAuthError(
      await signedRequest(p, admin, 'GET', URL, { claims: { iat: now, exp: now + 61 } }),
      401,
      -7,
    );
  });

  it('-10 for an expired token, -12 for a future iat, within the configured skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectAuthError(
      await signedRequest(p, admin, 'GET', URL, { claims: { iat: now - 70, exp: now - 10 } }),
      401,
      -10,
    );
    await expectAuthError(
      await signedRequest(p, admin, 'GET', URL, { claims: { iat: now + 30, exp: now + 60 } }),
      401,
      -12,
    );
    // 3 s in the future is inside the default 5 s tolerance.
    expect(
      (await signedRequest(p, admin, 'GET', URL, { claims: { iat: now + 3, exp: now + 50 } }))
        .statusCode,
    ).toBe(200);
  });

  it('honours a configured clock-skew tolerance', async () => {
    const lenient = await startTestPlatform({ clockSkewSeconds: 120 });
    try {
      const user = await createApiUser(lenient, 'skew-admin', 'ADMIN');
      const now = Math.floor(Date.now() / 1000);
      expect(
        (
          await signedRequest(lenient, user, 'GET', URL, {
            claims: { iat: now + 60, exp: now + 110 },
          })
        ).statusCode,
      ).toBe(200);
      expect(
        (
          await signedRequest(lenient, user, 'GET', URL, {
            claims: { iat: now - 150, exp: now - 100 },
          })
        ).statusCode,
      ).toBe(200);
    } finally {
      await lenient.close();
    }
  });

  it('-7 for a disabled (not yet approved) API user', async () => {
    const pending = await createApiUser(p, 'pending-user', 'VIEWER');
    await p.app.services.database.db
      .updateTable('api_users')
      .set({ enabled: false })
      .where('id', '=', pending.id)
      .execute();
    await expectAuthError(await signedRequest(p, pending, 'GET', URL), 401, -7);
  });

  it('audits every failure with the API key and the workspace when the key is known', async () => {
    await signedRequest(p, admin, 'GET', URL, { claims: { uri: '/wrong' } });
    const row = await p.app.services.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'auth.failed')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(row.actor_id).toBe(admin.id);
    expect(row.workspace_id).toBe(p.workspaceId);
    expect(row.details).toMatchObject({ reason: 'ERR_AUTH_WRONG_URI', code: -4 });
    expect(JSON.stringify(row)).not.toContain('Bearer');
  });
});
