/**
 * Pairing tokens and `/cosigner/v1/pair`: who may issue a token, for whom,
 * single use under concurrency, expiry, forgeries; every pairing — a new
 * co-signer's included — waits for the Owner's approval, which shows the
 * identity-key fingerprint, and the co-signer collects its refresh token with
 * its poll token only once approved (pairing review H1).
 */
import { createHmac } from 'node:crypto';
import { identityFingerprint, pairingProofMessage } from '@countersign/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignerApiKeys,
  decideAsOwner,
  fakeClock,
  issuePairingToken,
  newIdentity,
  pair,
  pairNewCosigner,
  pairingTokenFor,
  pollPairing,
  refresh,
  signingIdentity,
  type PendingPairing,
} from './helpers/cosigner.js';

const jtiOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const clock = fakeClock();

describe('co-signer pairing', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let viewer: TestApiUser;
  let nonSigningAdmin: TestApiUser;
  const signers: TestApiUser[] = [];

  beforeAll(async () => {
    p = await startTestPlatform({}, undefined, undefined, clock.now);
    admin = await createApiUser(p, 'pairing-admin', 'ADMIN');
    viewer = await createApiUser(p, 'pairing-viewer', 'VIEWER');
    nonSigningAdmin = await createApiUser(p, 'pairing-nsa', 'NON_SIGNING_ADMIN');
    for (let i = 0; i < 8; i++)
      signers.push(await createApiUser(p, `pairing-signer-${i}`, 'SIGNER'));
  });
  afterAll(() => p.close());

  const body = (pairingToken: string, extra: Record<string, unknown> = {}) => ({
    pairingToken,
    identity: newIdentity(),
    cosignerName: 'co-signer A',
    version: '0.1.0',
    ...extra,
  });

  const auditActions = async () =>
    (await p.app.services.audit.page({ workspaceId: p.workspaceId, limit: 500 })).map((e) => e);

  it('only OWNER/ADMIN issue pairing tokens: VIEWER and NON_SIGNING_ADMIN get 403', async () => {
    for (const caller of [viewer, nonSigningAdmin]) {
      const res = await issuePairingToken(p, caller, signers[0]!.id);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: -8 });
    }
  });

  it('issues tokens only for SIGNER or ADMIN API users, never for oneself', async () => {
    const forViewer = await issuePairingToken(p, admin, viewer.id);
    expect(forViewer.statusCode).toBe(409);
    expect(forViewer.json()).toMatchObject({ code: 1311 });
    const forSelf = await issuePairingToken(p, admin, admin.id);
    expect(forSelf.statusCode).toBe(403);
    const unknown = await issuePairingToken(p, admin, '00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
  });

  it('pairs a SIGNER only once the Owner approves; the co-signer waits with its poll token', async () => {
    const issued = await issuePairingToken(p, admin, signers[0]!.id);
    expect(issued.statusCode).toBe(200);
    expect(issued.headers['cache-control']).toBe('no-store');
    const { pairingToken, expiresAt } = issued.json<{ pairingToken: string; expiresAt: number }>();
    expect(expiresAt).toBe(Math.floor((clock.now().getTime() + 10 * 60_000) / 1000) * 1000);
    const request = body(pairingToken);
    const res = await pair(p, request);
    expect(res.statusCode, res.body).toBe(202);
    const pending = res.json<PendingPairing>();
    expect(res.headers['location']).toBe(`/cosigner/v1/pairings/${pending.requestId}`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(pending).toMatchObject({ status: 'WAITING_FOR_APPROVAL', apiKeyId: signers[0]!.id });
    expect(pending).not.toHaveProperty('refreshToken');
    expect(pending.pollToken).toMatch(/^cspt_[A-Za-z0-9_-]{43}$/);
    const fingerprint = identityFingerprint(Buffer.from(request.identity.ed25519, 'base64url'));
    expect(fingerprint).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    expect(pending.identityFingerprint).toBe(fingerprint);

    // Not paired yet: the workspace lists no paired key and the poll says so.
    const waiting = await pollPairing(p, pending.requestId, pending.pollToken);
    expect(waiting.json()).toMatchObject({ status: 'WAITING_FOR_APPROVAL' });
    expect(waiting.json()).not.toHaveProperty('refreshToken');
    expect(await p.app.services.cosigners.pairingsOf(pending.cosignerId)).toMatchObject([
      { status: 'WAITING_FOR_APPROVAL' },
    ]);
    // The approval request shows the Owner what to compare with the co-signer's operator.
    const shown = await signedRequest(
      p,
      admin,
      'GET',
      `/v1/countersign/approval_requests/${pending.requestId}`,
    );
    expect(shown.json()).toMatchObject({
      kind: 'COSIGNER_PAIR',
      status: 'PENDING',
      payload: { identityFingerprint: fingerprint, newCosigner: true, cosignerName: 'co-signer A' },
    });
    // The issuing admin cannot approve it.
    const byAdmin = await signedRequest(
      p,
      admin,
      'POST',
      `/v1/countersign/approval_requests/${pending.requestId}/approve`,
    );
    expect(byAdmin.statusCode).toBe(403);

    await decideAsOwner(p, pending.requestId);
    const approved = await pollPairing(p, pending.requestId, pending.pollToken);
    expect(approved.statusCode).toBe(200);
    expect(approved.headers['cache-control']).toBe('no-store');
    const paired = approved.json<{ status: string; refreshToken: string }>();
    expect(paired).toMatchObject({
      status: 'PAIRED',
      cosignerId: pending.cosignerId,
      apiKeyId: signers[0]!.id,
    });
    expect(paired.refreshToken).toMatch(/^csrt_[A-Za-z0-9_-]{43}$/);
    expect((await refresh(p, paired.refreshToken)).statusCode).toBe(200);
    // The answer is given once: the poll token is spent.
    const again = await pollPairing(p, pending.requestId, pending.pollToken);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 1314 });

    const entries = await auditActions();
    const actions = entries.map((e) => e.action);
    expect(actions).toContain('cosigner.pairing_token_issued');
    expect(actions).toContain('cosigner.pair_requested');
    expect(actions).toContain('cosigner.api_key_paired');
    const everything = JSON.stringify(entries);
    expect(everything).not.toContain(pairingToken);
    expect(everything).not.toContain(pairingToken.split('.')[2]);
    expect(everything).not.toContain(paired.refreshToken);
    expect(everything).not.toContain(pending.pollToken);
    // The database keeps only hashes.
    const rows = await p.app.services.database.db
      .selectFrom('pairing_tokens')
      .selectAll()
      .execute();
    expect(JSON.stringify(rows)).not.toContain(pairingToken);
    const polls = await p.app.services.database.db
      .selectFrom('cosigner_pairing_polls')
      .selectAll()
      .execute();
    expect(JSON.stringify(polls)).not.toContain(pending.pollToken);
  });

  it('one ADMIN alone cannot mint a paired signer: its own SIGNER from its own key waits for the Owner (review H1)', async () => {
    const created = await signedRequest(p, admin, 'POST', '/v1/management/api_users', {
      body: { name: 'self-made-signer', role: 'SIGNER', csrPem: admin.key.csrPem },
    });
    expect(created.statusCode, created.body).toBe(200);
    const selfMade = created.json<{ id: string }>().id;
    const res = await pair(p, body(await pairingTokenFor(p, admin, selfMade)));
    expect(res.statusCode).toBe(202);
    const pending = res.json<PendingPairing>();
    // No credentials for the co-signer, no paired key for the API user.
    const polled = await pollPairing(p, pending.requestId, pending.pollToken);
    expect(polled.json()).toMatchObject({ status: 'WAITING_FOR_APPROVAL' });
    expect(
      (await p.app.services.cosigners.pairingsOf(pending.cosignerId)).map((k) => k.status),
    ).toEqual(['WAITING_FOR_APPROVAL']);
    // The Owner rejects: the co-signer is told once, and never gets a refresh token.
    await decideAsOwner(p, pending.requestId, 'REJECT');
    const rejected = await pollPairing(p, pending.requestId, pending.pollToken);
    expect(rejected.json()).toMatchObject({ status: 'REJECTED' });
    expect(rejected.json()).not.toHaveProperty('refreshToken');
    expect((await pollPairing(p, pending.requestId, pending.pollToken)).statusCode).toBe(401);
  });

  it('a poll token answers only for its own request', async () => {
    const a = (
      await pair(p, body(await pairingTokenFor(p, admin, signers[2]!.id)))
    ).json<PendingPairing>();
    const other = '00000000-0000-4000-8000-000000000000';
    for (const [requestId, token] of [
      [other, a.pollToken],
      [a.requestId, `cspt_${'A'.repeat(43)}`],
      [a.requestId, 'not-a-token'],
    ] as const) {
      const res = await pollPairing(p, requestId, token);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 1314 });
    }
    // Lower-case scheme works (RFC 9110), and the request still waits.
    const lower = await p.app.inject({
      method: 'GET',
      url: `/cosigner/v1/pairings/${a.requestId}`,
      headers: { authorization: `bearer ${a.pollToken}` },
    });
    expect(lower.json()).toMatchObject({ status: 'WAITING_FOR_APPROVAL' });
    await decideAsOwner(p, a.requestId, 'REJECT');
  });

  it('an ADMIN API user can be paired too; identity keys in hex, base64 or base64url', async () => {
    const otherAdmin = await createApiUser(p, 'pairing-admin-2', 'ADMIN');
    const raw = Buffer.from(newIdentity().ed25519, 'base64url');
    const rawHex = Buffer.from(newIdentity().ed25519, 'base64url');
    for (const [user, ed25519] of [
      [otherAdmin, raw.toString('base64')], // padded standard base64
      [await createApiUser(p, 'pairing-signer-hex', 'SIGNER'), rawHex.toString('hex')],
    ] as const) {
      const res = await pair(p, {
        ...body(await pairingTokenFor(p, admin, user.id)),
        identity: { ed25519, x25519: newIdentity().x25519.toUpperCase() },
      });
      expect(res.statusCode, res.body).toBe(202);
      const stored = await p.app.services.database.db
        .selectFrom('cosigners')
        .select(['identity_ed25519', 'identity_x25519'])
        .where('id', '=', res.json<{ cosignerId: string }>().cosignerId)
        .executeTakeFirstOrThrow();
      expect(stored.identity_ed25519).toBe(
        Buffer.from(ed25519, /^[0-9a-f]{64}$/.test(ed25519) ? 'hex' : 'base64').toString('hex'),
      );
      expect(stored.identity_x25519).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('a paired or waiting API user gets no second token', async () => {
    const res = await issuePairingToken(p, admin, signers[0]!.id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 1312 });
  });

  it('a pairing token works once: of concurrent exchanges exactly one wins', async () => {
    const token = await pairingTokenFor(p, admin, signers[1]!.id);
    const results = await Promise.all(Array.from({ length: 6 }, () => pair(p, body(token))));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([202, 401, 401, 401, 401, 401]);
    for (const r of results.filter((x) => x.statusCode === 401)) {
      expect(r.json()).toMatchObject({ code: 1303 });
    }
    const again = await pair(p, body(token));
    expect(again.json()).toMatchObject({ code: 1303 });
    expect((await auditActions()).map((e) => e.action)).toContain('cosigner.pairing_failed');
  });

  it('an expired pairing token is refused (fake clock)', async () => {
    const token = await pairingTokenFor(p, admin, signers[2]!.id);
    clock.advance(10 * 60_000 + 1000);
    const res = await pair(p, body(token));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 1302 });
  });

  it('bad input, weak identity keys included, does not burn the token', async () => {
    const token = await pairingTokenFor(p, admin, signers[2]!.id);
    for (const identity of [
      { ed25519: 'ab'.repeat(31), x25519: 'cd'.repeat(32) }, // 31 bytes
      { ed25519: '00'.repeat(32), x25519: 'cd'.repeat(32) }, // all zeros
      { ed25519: 'zz'.repeat(32), x25519: 'cd'.repeat(32) }, // not hex, not base64 of 32 bytes
      { ed25519: Buffer.alloc(33, 7).toString('base64'), x25519: 'cd'.repeat(32) },
    ]) {
      const res = await pair(p, { ...body(token), identity });
      expect(res.statusCode, JSON.stringify(identity)).toBe(400);
      expect([1310, 1003]).toContain(res.json<{ code: number }>().code);
    }
    // Weak keys (pairing review L1): small-order and non-canonical Ed25519 points, low-order and
    // non-canonical X25519 u-coordinates. Each would make signatures forgeable or the shared
    // secret a constant.
    const good = newIdentity();
    const le = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();
    const p25519 = (1n << 255n) - 19n;
    for (const ed25519 of [
      '01' + '00'.repeat(31), // the identity point (order 1)
      'ec' + 'ff'.repeat(30) + '7f', // order 2
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
      'ed' + 'ff'.repeat(30) + '7f', // y = p: non-canonical
      le(2n).toString('hex'), // y = 2: not on the curve
    ]) {
      const res = await pair(p, { ...body(token), identity: { ...good, ed25519 } });
      expect(res.statusCode, ed25519).toBe(400);
      expect(res.json()).toMatchObject({ code: 1310, message: expect.stringMatching(/ed25519/) });
    }
    for (const x25519 of [
      le(1n).toString('hex'), // u = 1 (order 4)
      le(p25519 - 1n).toString('hex'), // u = p - 1 (order 2)
      le(p25519).toString('hex'), // u = p: a non-canonical 0
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
      // A good key with the unused top bit set: u >= p.
      Buffer.from(
        Buffer.from(good.x25519, 'hex').map((b, i) => (i === 31 ? b | 0x80 : b)),
      ).toString('hex'),
    ]) {
      const res = await pair(p, { ...body(token), identity: { ...good, x25519 } });
      expect(res.statusCode, x25519).toBe(400);
      expect(res.json()).toMatchObject({ code: 1310, message: expect.stringMatching(/x25519/) });
    }
    // No proof of possession, a proof by another key, a proof for another token (review L1).
    const other = signingIdentity();
    for (const proof of [
      undefined,
      Buffer.from(
        other.sign(pairingProofMessage({ jti: jtiOf(token), ...other.identity })),
      ).toString('hex'),
      '00'.repeat(64),
    ]) {
      // Sent as is: pair() would add a proof of its own.
      const res = await p.app.inject({
        method: 'POST',
        url: '/cosigner/v1/pair',
        payload: { ...body(token), ...(proof === undefined ? {} : { proof }) },
      });
      expect(res.statusCode, String(proof)).toBe(400);
      expect(res.json()).toMatchObject({ code: 1310, message: expect.stringMatching(/proof/) });
    }
    const unknownField = await pair(p, { ...body(token), attestation: 'x' });
    expect(unknownField.statusCode).toBe(400);
    expect((await pair(p, body(token))).statusCode).toBe(202);
  });

  describe('forged tokens', () => {
    let genuine: string;
    let key: Buffer;
    const hmac = (input: string, k = key) =>
      createHmac('sha256', k).update(input).digest('base64url');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claimsOf = (t: string) =>
      JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

    beforeAll(async () => {
      genuine = await pairingTokenFor(p, admin, signers[3]!.id);
      const row = await p.app.services.database.db
        .selectFrom('platform_secrets')
        .select('secret_hex')
        .executeTakeFirstOrThrow();
      key = Buffer.from(row.secret_hex, 'hex');
    });

    const expectInvalid = async (token: string) => {
      const res = await pair(p, body(token));
      expect(res.statusCode, token).toBe(401);
      expect(res.json()).toMatchObject({ code: 1301, message: 'Pairing token is not valid' });
    };

    it('bad signature, alg none, other algs, wrong audience/issuer, claims not on record', async () => {
      const [h, c, s] = genuine.split('.') as [string, string, string];
      // A flipped signature byte.
      const sig = Buffer.from(s, 'base64url');
      sig[5]! ^= 1;
      await expectInvalid(`${h}.${c}.${sig.toString('base64url')}`);
      // Another key.
      await expectInvalid(`${h}.${c}.${hmac(`${h}.${c}`, Buffer.alloc(32, 1))}`);
      // alg none, with and without a signature.
      const none = b64({ alg: 'none', typ: 'JWT' });
      await expectInvalid(`${none}.${c}.`);
      await expectInvalid(`${none}.${c}.${s}`);
      // Right key, other declared algorithms or extra header fields.
      for (const header of [
        { alg: 'HS512', typ: 'JWT' },
        { alg: 'RS256', typ: 'JWT' },
        { alg: 'HS256' },
        { alg: 'HS256', typ: 'JWT', kid: 'x' },
      ]) {
        const hh = b64(header);
        await expectInvalid(`${hh}.${c}.${hmac(`${hh}.${c}`)}`);
      }
      // Right key and alg, wrong audience / issuer.
      for (const change of [{ aud: 'countersign:something-else' }, { iss: 'someone' }]) {
        const cc = b64({ ...claimsOf(genuine), ...change });
        await expectInvalid(`${h}.${cc}.${hmac(`${h}.${cc}`)}`);
      }
      // Validly signed (a leaked key) but never issued: no row, refused.
      const cc = b64({ ...claimsOf(genuine), jti: '7f000000-0000-4000-8000-000000000001' });
      await expectInvalid(`${h}.${cc}.${hmac(`${h}.${cc}`)}`);
      // Garbage.
      await expectInvalid('not-a-jwt');
      await expectInvalid(`${h}.${c}`);
      // The genuine token still works after all that.
      expect((await pair(p, body(genuine))).statusCode).toBe(202);
    });
  });

  it('pairs an additional API user to an existing co-signer once the Owner approves', async () => {
    const first = await pairNewCosigner(p, admin, signers[4]!.id);
    const tokens = (await refresh(p, first.refreshToken)).json<{ accessToken: string }>();
    const extra = await pairingTokenFor(p, admin, signers[5]!.id);
    const request = {
      pairingToken: extra,
      identity: first.identity,
      cosignerName: 'ignored for an existing co-signer',
      version: '0.1.0',
      cosignerId: first.cosignerId,
    };
    // Naming a co-signer needs its access token.
    const anonymous = await pair(p, request);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 1308 });
    // The token still holds; the same identity is required.
    const otherIdentity = await pair(
      p,
      { ...request, identity: newIdentity() },
      tokens.accessToken,
    );
    expect(otherIdentity.statusCode).toBe(400);

    const res = await pair(p, request, tokens.accessToken);
    expect(res.statusCode).toBe(202);
    const pending = res.json<PendingPairing>();
    expect(pending.identityFingerprint).toBe(
      identityFingerprint(Buffer.from(first.identity.ed25519, 'base64url')),
    );
    expect(pending).toMatchObject({
      status: 'WAITING_FOR_APPROVAL',
      cosignerId: first.cosignerId,
      apiKeyId: signers[5]!.id,
    });
    const statusOf = async () =>
      (await cosignerApiKeys(p, tokens.accessToken))
        .json<{ apiKeys: { apiKeyId: string; status: string }[] }>()
        .apiKeys.find((k) => k.apiKeyId === signers[5]!.id)?.status;
    expect(await statusOf()).toBe('WAITING_FOR_APPROVAL');

    // Admins cannot decide it, and the issuer's role did not approve it.
    const byAdmin = await signedRequest(
      p,
      admin,
      'POST',
      `/v1/countersign/approval_requests/${pending.requestId}/approve`,
    );
    expect(byAdmin.statusCode).toBe(403);
    const decided = await p.app.services.approvals.decide(p.owner, pending.requestId, 'APPROVE');
    expect(decided.status).toBe('APPROVED');
    expect(await statusOf()).toBe('PAIRED');
    // The co-signer's own tokens cover the new key: the poll reports it without a refresh token.
    const polled = await pollPairing(p, pending.requestId, pending.pollToken);
    expect(polled.json()).toMatchObject({ status: 'PAIRED', apiKeyId: signers[5]!.id });
    expect(polled.json()).not.toHaveProperty('refreshToken');
    expect((await auditActions()).map((e) => e.action)).toContain('cosigner.api_key_paired');
  });

  it('a rejected pairing stays unpaired', async () => {
    const first = await pairNewCosigner(p, admin, signers[6]!.id);
    const tokens = (await refresh(p, first.refreshToken)).json<{ accessToken: string }>();
    const res = await pair(
      p,
      {
        pairingToken: await pairingTokenFor(p, admin, signers[7]!.id),
        identity: first.identity,
        cosignerName: 'x',
        version: '0.1.0',
        cosignerId: first.cosignerId,
      },
      tokens.accessToken,
    );
    const { requestId } = res.json<{ requestId: string }>();
    await p.app.services.approvals.decide(p.owner, requestId, 'REJECT');
    const keys = (await cosignerApiKeys(p, tokens.accessToken)).json<{
      apiKeys: { apiKeyId: string; status: string }[];
    }>().apiKeys;
    expect(keys.find((k) => k.apiKeyId === signers[7]!.id)?.status).toBe('REJECTED');
    // Rejected: the API user may be paired again later.
    expect((await issuePairingToken(p, admin, signers[7]!.id)).statusCode).toBe(200);
  });

  it('the same identity cannot register twice as a new co-signer', async () => {
    const existing = await p.app.services.database.db
      .selectFrom('cosigners')
      .select(['identity_ed25519', 'identity_x25519'])
      .executeTakeFirstOrThrow();
    const user = await createApiUser(p, 'pairing-signer-dup', 'SIGNER');
    const res = await pair(p, {
      ...body(await pairingTokenFor(p, admin, user.id)),
      identity: { ed25519: existing.identity_ed25519, x25519: existing.identity_x25519 },
    });
    expect(res.statusCode).toBe(409);
  });

  it('a pairing whose API user changed while it waited is rejected by the approval (review L3)', async () => {
    const user = await createApiUser(p, 'pairing-disabled-later', 'SIGNER');
    const pending = (
      await pair(p, body(await pairingTokenFor(p, admin, user.id)))
    ).json<PendingPairing>();
    // Disabled while the Owner had not decided yet.
    await p.app.services.database.db
      .updateTable('api_users')
      .set({ enabled: false })
      .where('id', '=', user.id)
      .execute();
    const decided = await p.app.services.approvals.decide(p.owner, pending.requestId, 'APPROVE');
    expect(decided.status).toBe('REJECTED');
    const polled = await pollPairing(p, pending.requestId, pending.pollToken);
    expect(polled.json()).toMatchObject({ status: 'REJECTED' });
    expect(polled.json()).not.toHaveProperty('refreshToken');
    const rejected = (await auditActions()).find(
      (e) => e.action === 'approval_request.rejected' && e.subject === pending.requestId,
    );
    expect(rejected?.details).toMatchObject({ refusal: expect.stringMatching(/no longer/) });
  });

  it('another workspace sees a co-signer only while a pairing it asked for is live, and cannot attach more users to it (review M3)', async () => {
    const home = await pairNewCosigner(p, admin, (await createApiUser(p, 'm3-a', 'SIGNER')).id);
    const access = (await refresh(p, home.refreshToken)).json<{ accessToken: string }>()
      .accessToken;
    const wsB = await p.app.services.workspaces.create({
      name: 'Workspace B',
      ownerEmail: 'b-owner@example.test',
    });
    const inB = async (name: string, role: 'ADMIN' | 'SIGNER') => {
      const created = await p.app.services.apiUsers.create(wsB.owner, {
        name,
        role,
        csrPem: admin.key.csrPem,
      });
      return { id: created.user.id, role, key: admin.key };
    };
    const bAdmin = await inB('m3-b-admin', 'ADMIN');
    const bSigners = [await inB('m3-b-1', 'SIGNER'), await inB('m3-b-2', 'SIGNER')];
    const askFromB = async (signer: TestApiUser) =>
      (
        await pair(
          p,
          {
            pairingToken: await pairingTokenFor(p, bAdmin, signer.id),
            identity: home.identity,
            cosignerName: 'x',
            version: '0.1.0',
            cosignerId: home.cosignerId,
          },
          access,
        )
      ).json<PendingPairing>();
    const attachFromB = () =>
      signedRequest(
        p,
        bAdmin,
        'PUT',
        `/v1/cosigners/${home.cosignerId}/api_keys/${bSigners[1]!.id}`,
        { body: {} },
      );
    const seenByB = async () =>
      (await signedRequest(p, bAdmin, 'GET', `/v1/cosigners/${home.cosignerId}`)).statusCode;

    // The co-signer asks to join B; B sees it while the request is live.
    const first = await askFromB(bSigners[0]!);
    expect(await seenByB()).toBe(200);
    // B's Owner rejects: nothing of it stays visible in B.
    await p.app.services.approvals.decide(wsB.owner, first.requestId, 'REJECT');
    expect(await seenByB()).toBe(404);
    const list = await signedRequest(p, bAdmin, 'GET', '/v1/cosigners');
    expect(list.json()).toEqual({ data: [], next: null });
    expect((await attachFromB()).statusCode).toBe(404);

    // Approved this time: B sees it, but still cannot attach its users from B's side.
    const second = await askFromB(bSigners[0]!);
    await p.app.services.approvals.decide(wsB.owner, second.requestId, 'APPROVE');
    expect(await seenByB()).toBe(200);
    expect((await attachFromB()).statusCode).toBe(403);
    const keys = (await cosignerApiKeys(p, access)).json<{ apiKeys: { apiKeyId: string }[] }>();
    expect(keys.apiKeys.map((k) => k.apiKeyId)).not.toContain(bSigners[1]!.id);
  });
});
