/**
 * Co-signer tokens: refresh rotation, reuse detection revoking the whole
 * family, access-token expiry (fake clock), bad tokens, lastSeen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignerApiKeys,
  fakeClock,
  newIdentity,
  pair,
  pairNewCosigner,
  pairingTokenFor,
  refresh,
  type PairedCosigner,
} from './helpers/cosigner.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  expiresAt: number;
  refreshTokenExpiresAt: number;
}

const clock = fakeClock();

describe('co-signer tokens', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  const signers: TestApiUser[] = [];
  /** The audit entries of `action` about `subject`. */
  const auditOf = (action: string, subject: string) =>
    p.app.services.database.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id'])
      .where('action', '=', action)
      .where('subject', '=', subject)
      .execute();

  beforeAll(async () => {
    p = await startTestPlatform({}, undefined, undefined, clock.now);
    admin = await createApiUser(p, 'tokens-admin', 'ADMIN');
    for (let i = 0; i < 3; i++)
      signers.push(await createApiUser(p, `tokens-signer-${i}`, 'SIGNER'));
  });
  afterAll(() => p.close());

  const rotate = async (refreshToken: string): Promise<Tokens> => {
    const res = await refresh(p, refreshToken);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Tokens>();
  };

  it('rotates: each refresh token works once and yields an access token and a successor', async () => {
    const c = await pairNewCosigner(p, admin, signers[0]!.id);
    const t1 = await rotate(c.refreshToken);
    expect(t1).toMatchObject({ tokenType: 'Bearer', expiresIn: 300 });
    expect(t1.expiresAt).toBe(clock.now().getTime() + 300_000);
    expect(t1.accessToken).toMatch(/^csat_[A-Za-z0-9_-]{43}$/);
    expect(t1.refreshToken).not.toBe(c.refreshToken);
    const t2 = await rotate(t1.refreshToken);
    const res = await cosignerApiKeys(p, t2.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      cosignerId: c.cosignerId,
      apiKeys: [
        {
          apiKeyId: signers[0]!.id,
          workspaceId: p.workspaceId,
          workspaceSandbox: false,
          status: 'PAIRED',
          // The Owner's approval of the pairing (every pairing has one).
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      ],
    });
  });

  it('a reused refresh token revokes the whole family, access tokens included, and is audited', async () => {
    const c: PairedCosigner = await pairNewCosigner(p, admin, signers[1]!.id);
    const t1 = await rotate(c.refreshToken);
    const t2 = await rotate(t1.refreshToken);
    expect((await cosignerApiKeys(p, t2.accessToken)).statusCode).toBe(200);

    // The thief (or the victim) replays an already rotated refresh token.
    const replay = await refresh(p, t1.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ code: 1306 });

    // Everything of that family is dead now: the newest refresh token and the live access token.
    const latest = await refresh(p, t2.refreshToken);
    expect(latest.statusCode).toBe(401);
    expect(latest.json()).toMatchObject({ code: 1307 });
    const access = await cosignerApiKeys(p, t2.accessToken);
    expect(access.statusCode).toBe(401);
    expect([1307, 1308]).toContain(access.json<{ code: number }>().code);

    const entries = await p.app.services.audit.page({ workspaceId: p.workspaceId, limit: 500 });
    const reuse = entries.find((e) => e.action === 'cosigner.refresh_token_reused');
    expect(reuse?.subject).toBe(c.cosignerId);
    const everything = JSON.stringify(entries);
    for (const secret of [c.refreshToken, t1.refreshToken, t2.refreshToken, t2.accessToken]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('concurrent use of one refresh token: one succeeds, the family is then revoked', async () => {
    const c = await pairNewCosigner(p, admin, signers[2]!.id);
    const results = await Promise.all([refresh(p, c.refreshToken), refresh(p, c.refreshToken)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
    const winner = results.find((r) => r.statusCode === 200)!.json<Tokens>();
    expect((await refresh(p, winner.refreshToken)).json()).toMatchObject({ code: 1307 });
  });

  it('access tokens expire after 5 minutes; refresh tokens after 30 days', async () => {
    const user = await createApiUser(p, 'tokens-signer-exp', 'SIGNER');
    const c = await pairNewCosigner(p, admin, user.id);
    const t = await rotate(c.refreshToken);
    clock.advance(299_000);
    expect((await cosignerApiKeys(p, t.accessToken)).statusCode).toBe(200);
    clock.advance(1_000);
    const expired = await cosignerApiKeys(p, t.accessToken);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ code: 1309 });
    // The refresh token is still good for a new access token...
    const next = await rotate(t.refreshToken);
    expect((await cosignerApiKeys(p, next.accessToken)).statusCode).toBe(200);
    // ...until it expires unused.
    clock.advance(30 * 24 * 3600_000);
    const stale = await refresh(p, next.refreshToken);
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({ code: 1305 });
  });

  it('malformed, unknown and misplaced tokens get clear 401s', async () => {
    const unknownRefresh = await refresh(p, `csrt_${'A'.repeat(43)}`);
    expect(unknownRefresh.json()).toMatchObject({ code: 1304 });
    expect((await refresh(p, 'garbage')).json()).toMatchObject({ code: 1304 });
    for (const authorization of [
      undefined,
      'Bearer',
      'Bearer garbage',
      `Bearer csat_${'A'.repeat(43)}`,
      `Basic csat_${'A'.repeat(43)}`,
    ]) {
      const res = await p.app.inject({
        method: 'GET',
        url: '/cosigner/v1/api_keys',
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json()).toMatchObject({ code: 1308 });
    }
    // A refresh token is not an access token.
    const user = await createApiUser(p, 'tokens-signer-kind', 'SIGNER');
    const c = await pairNewCosigner(p, admin, user.id);
    const res = await cosignerApiKeys(p, c.refreshToken);
    expect(res.json()).toMatchObject({ code: 1308 });
  });

  it('lastSeen follows authenticated co-signer calls', async () => {
    const user = await createApiUser(p, 'tokens-signer-seen', 'SIGNER');
    const c = await pairNewCosigner(p, admin, user.id);
    const url = `/v1/cosigners/${c.cosignerId}/api_keys/${user.id}`;
    const before = await signedRequest(p, admin, 'GET', url);
    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({ id: user.id });
    const t = await rotate(c.refreshToken);
    await cosignerApiKeys(p, t.accessToken);
    const after = await signedRequest(p, admin, 'GET', url);
    const seen = clock.now().toISOString();
    expect(after.json()).toEqual({ id: user.id, lastSeen: seen });
    // Written at most every 15 s per co-signer: a call 5 s later leaves it, one more than 15 s
    // after the write moves it.
    clock.advance(5_000);
    await cosignerApiKeys(p, t.accessToken);
    expect((await signedRequest(p, admin, 'GET', url)).json()).toEqual({
      id: user.id,
      lastSeen: seen,
    });
    clock.advance(10_001);
    await cosignerApiKeys(p, t.accessToken);
    expect((await signedRequest(p, admin, 'GET', url)).json()).toEqual({
      id: user.id,
      lastSeen: clock.now().toISOString(),
    });
  });

  it('a clean stop holds until the co-signer polls for work again, not until any call', async () => {
    const user = await createApiUser(p, 'tokens-signer-offline', 'SIGNER');
    const c = await pairNewCosigner(p, admin, user.id);
    const t = await rotate(c.refreshToken);
    const bearer = { authorization: `Bearer ${t.accessToken}` };
    const offlineAt = async (): Promise<Date | null> =>
      (
        await p.app.services.database.db
          .selectFrom('cosigners')
          .select('offline_at')
          .where('id', '=', c.cosignerId)
          .executeTakeFirstOrThrow()
      ).offline_at;
    const work = async (): Promise<void> => {
      const res = await p.app.inject({
        method: 'GET',
        url: '/cosigner/v1/work?wait=0',
        headers: bearer,
      });
      expect(res.statusCode, res.body).toBe(200);
    };
    await work();
    expect(await offlineAt()).toBeNull();
    const stopped = await p.app.inject({
      method: 'POST',
      url: '/cosigner/v1/offline',
      headers: bearer,
    });
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(stopped.json()).toEqual({ offline: true });
    expect(await offlineAt()).toEqual(clock.now());
    // Said again (a token holder repeating it): still one stop, audited once.
    const again = await p.app.inject({
      method: 'POST',
      url: '/cosigner/v1/offline',
      headers: bearer,
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(await auditOf('cosigner.offline', c.cosignerId)).toEqual([
      { action: 'cosigner.offline', actor_id: c.cosignerId },
    ]);
    // `cosigner status` or `rename` while the daemon is stopped: still stopped.
    await cosignerApiKeys(p, t.accessToken);
    expect(await offlineAt()).toEqual(clock.now());
    // The daemon is back: its first work poll ends the stop, however soon it comes.
    clock.advance(1_000);
    await work();
    expect(await offlineAt()).toBeNull();
    // Without a credential, nothing.
    const anonymous = await p.app.inject({ method: 'POST', url: '/cosigner/v1/offline' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('refused co-signer credentials are audited and bounded per address (review L2)', async () => {
    const from = '198.51.100.7';
    const attempt = (url: string, payload?: Record<string, unknown>) =>
      p.app.inject({
        method: payload ? 'POST' : 'GET',
        url,
        remoteAddress: from,
        headers: { authorization: `Bearer csat_${'B'.repeat(43)}` },
        ...(payload ? { payload } : {}),
      });
    const codes: number[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await (i % 2 === 0
        ? attempt('/cosigner/v1/token', { refreshToken: `csrt_${'A'.repeat(43)}` })
        : attempt('/cosigner/v1/api_keys'));
      codes.push(res.statusCode);
    }
    expect(codes.every((c) => c === 401)).toBe(true);
    // Over the limit: refused before any lookup, even with a good token.
    const c = await pairNewCosigner(p, admin, (await createApiUser(p, 'l2-signer', 'SIGNER')).id);
    const blocked = await p.app.inject({
      method: 'POST',
      url: '/cosigner/v1/token',
      remoteAddress: from,
      payload: { refreshToken: c.refreshToken },
    });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 1429 });
    // Another address is not affected, and the good token was not spent by the refusal.
    expect((await refresh(p, c.refreshToken)).statusCode).toBe(200);
    const entries = await p.app.services.database.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', 'in', ['cosigner.auth_failed', 'cosigner.rate_limited'])
      .execute();
    const mine = entries.filter((e) => JSON.stringify(e.details).includes(from));
    expect(mine.filter((e) => e.action === 'cosigner.auth_failed')).toHaveLength(59);
    expect(mine.filter((e) => e.action === 'cosigner.rate_limited')).toHaveLength(1);
    expect(JSON.stringify(mine)).not.toContain('csrt_');
  });

  it('a leaked, used pairing token is audited as failed once, however often it is tried (review L2)', async () => {
    const user = await createApiUser(p, 'l2-used-token', 'SIGNER');
    const token = await pairingTokenFor(p, admin, user.id);
    const request = () => ({
      pairingToken: token,
      identity: newIdentity(),
      cosignerName: 'x',
      version: '0.1.0',
    });
    expect((await pair(p, request())).statusCode).toBe(202);
    for (let i = 0; i < 20; i++) {
      const res = await p.app.inject({
        method: 'POST',
        url: '/cosigner/v1/pair',
        remoteAddress: `203.0.113.${i + 1}`,
        payload: request(),
      });
      expect(res.json()).toMatchObject({ code: 1303 });
    }
    expect(await auditOf('cosigner.pairing_failed', user.id)).toHaveLength(1);
  });

  it('a token family ends 90 days after it started, however often it rotates; spent tokens past expiry are purged (review L4)', async () => {
    const c = await pairNewCosigner(p, admin, (await createApiUser(p, 'l4-signer', 'SIGNER')).id);
    const familyRows = async () =>
      p.app.services.database.db
        .selectFrom('cosigner_refresh_tokens as t')
        .innerJoin('cosigner_token_families as f', 'f.id', 't.family_id')
        .select('t.token_hash')
        .where('f.cosigner_id', '=', c.cosignerId)
        .execute();
    const start = clock.now().getTime();
    let token = c.refreshToken;
    let last: Tokens | undefined;
    // Rotating every 20 days keeps each token fresh, but not the family.
    for (let day = 20; day < 90; day += 20) {
      clock.advance(20 * 24 * 3600_000);
      last = await rotate(token);
      token = last.refreshToken;
      expect(last.refreshTokenExpiresAt).toBeLessThanOrEqual(start + 90 * 24 * 3600_000);
    }
    expect(last!.refreshTokenExpiresAt).toBe(start + 90 * 24 * 3600_000);
    // Tokens spent more than 30 days ago are gone; the recent ones stay for reuse detection.
    expect((await familyRows()).length).toBeLessThan(5);
    clock.advance(90 * 24 * 3600_000 - 80 * 24 * 3600_000);
    const ended = await refresh(p, token);
    expect(ended.statusCode).toBe(401);
    expect(ended.json()).toMatchObject({ code: 1305 });
  });
});
