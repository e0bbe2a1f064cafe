/**
 * Recovery with the identity key (pairing review H2): a co-signer that lost a rotation's answer
 * (the crash window: the platform committed, the co-signer kept the spent token) or the answer
 * that carried its first refresh token gets a new token family by a request signed with its
 * Ed25519 identity key — bound to its id, the platform's key, a nonce accepted once and a short
 * expiry — without pairing again. Nobody else can: not another key, not a replay, not a
 * co-signer whose pairing the Owner has not approved.
 */
import { recoveryMessage } from '@countersign/protocol';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignerApiKeys,
  decideAsOwner,
  fakeClock,
  pair,
  pairNewCosigner,
  pairingTokenFor,
  pollPairing,
  refresh,
  signingIdentity,
  type PendingPairing,
  type SigningIdentity,
} from './helpers/cosigner.js';
import {
  createApiUser,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const clock = fakeClock();

describe('co-signer recovery with the identity key', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let platformKey: string;

  beforeAll(async () => {
    p = await startTestPlatform({}, undefined, undefined, clock.now);
    admin = await createApiUser(p, 'recovery-admin', 'ADMIN');
    platformKey = (await p.app.services.authorizationKey.publicKey()).toString('hex');
  });
  afterAll(() => p.close());

  const signed = (
    who: SigningIdentity,
    cosignerId: string,
    overrides: { issuedAt?: number; expiresAt?: number; platformKey?: string; nonce?: string } = {},
  ) => {
    const issuedAt = overrides.issuedAt ?? clock.now().getTime();
    const request = {
      cosignerId,
      nonce: overrides.nonce ?? randomBytes(24).toString('base64url'),
      issuedAt,
      expiresAt: overrides.expiresAt ?? issuedAt + 120_000,
    };
    const signature = who.sign(
      recoveryMessage({ ...request, platformKey: overrides.platformKey ?? platformKey }),
    );
    return { ...request, signature: Buffer.from(signature).toString('hex') };
  };
  const recover = (body: Record<string, unknown>) =>
    p.app.inject({ method: 'POST', url: '/cosigner/v1/recover', payload: body });
  const expectRefused = async (body: Record<string, unknown>) => {
    const res = await recover(body);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json()).toMatchObject({ code: 1315 });
  };
  const newSigner = async (name: string) => {
    const user = await createApiUser(p, name, 'SIGNER');
    const who = signingIdentity();
    const paired = await pairNewCosigner(p, admin, user.id, name, who.identity);
    return { who, ...paired };
  };

  it('the crash window: a lost rotation answer revokes the family; the identity key restores it', async () => {
    const c = await newSigner('crash-window');
    // The platform rotates T0 and commits; the answer never reaches the co-signer.
    const lost = await refresh(p, c.refreshToken);
    expect(lost.statusCode).toBe(200);
    const lostSuccessor = lost.json<{ refreshToken: string }>().refreshToken;
    // The co-signer still holds T0: presenting it is reuse, the family is revoked.
    const reuse = await refresh(p, c.refreshToken);
    expect(reuse.json()).toMatchObject({ code: 1306 });

    const res = await recover(signed(c.who, c.cosignerId));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const recovered = res.json<{ refreshToken: string; refreshTokenExpiresAt: number }>();
    expect(recovered.refreshToken).toMatch(/^csrt_[A-Za-z0-9_-]{43}$/);
    const tokens = await refresh(p, recovered.refreshToken);
    expect(tokens.statusCode).toBe(200);
    const keys = await cosignerApiKeys(p, tokens.json<{ accessToken: string }>().accessToken);
    expect(keys.statusCode).toBe(200);
    // Whoever holds the lost successor is cut off.
    expect((await refresh(p, lostSuccessor)).json()).toMatchObject({ code: 1307 });
    const audit = await p.app.services.audit.page({ workspaceId: p.workspaceId, limit: 500 });
    const entry = audit.find((e) => e.action === 'cosigner.recovered');
    expect(entry).toMatchObject({ subject: c.cosignerId });
    expect(JSON.stringify(audit)).not.toContain(recovered.refreshToken);
  });

  it('a live family is replaced too: recovery revokes every other family of the co-signer', async () => {
    const c = await newSigner('live-family');
    const res = await recover(signed(c.who, c.cosignerId));
    expect(res.statusCode).toBe(200);
    expect((await refresh(p, c.refreshToken)).json()).toMatchObject({ code: 1307 });
  });

  it('a lost poll answer: the approved co-signer recovers its first refresh token', async () => {
    const user = await createApiUser(p, 'lost-poll', 'SIGNER');
    const who = signingIdentity();
    const res = await pair(p, {
      pairingToken: await pairingTokenFor(p, admin, user.id),
      identity: who.identity,
      cosignerName: 'lost poll',
      version: '0.1.0',
    });
    const pending = res.json<PendingPairing>();
    // Before the Owner approves, a valid signature gets nothing (review H1 still holds).
    await expectRefused(signed(who, pending.cosignerId));
    await decideAsOwner(p, pending.requestId);
    expect((await pollPairing(p, pending.requestId, pending.pollToken)).statusCode).toBe(200);
    // That answer was lost; the poll token is spent.
    expect((await pollPairing(p, pending.requestId, pending.pollToken)).statusCode).toBe(401);
    const recovered = await recover(signed(who, pending.cosignerId));
    expect(recovered.statusCode, recovered.body).toBe(200);
    const refreshed = await refresh(p, recovered.json<{ refreshToken: string }>().refreshToken);
    expect(refreshed.statusCode).toBe(200);
  });

  it('a rejected co-signer never recovers', async () => {
    const user = await createApiUser(p, 'rejected', 'SIGNER');
    const who = signingIdentity();
    const pending = (
      await pair(p, {
        pairingToken: await pairingTokenFor(p, admin, user.id),
        identity: who.identity,
        cosignerName: 'rejected',
        version: '0.1.0',
      })
    ).json<PendingPairing>();
    await decideAsOwner(p, pending.requestId, 'REJECT');
    await expectRefused(signed(who, pending.cosignerId));
  });

  it('refuses replays, stale or long-lived requests, other keys, other co-signers and other platforms', async () => {
    const c = await newSigner('refusals');
    const other = await newSigner('refusals-other');
    const once = signed(c.who, c.cosignerId);
    expect((await recover(once)).statusCode).toBe(200);
    await expectRefused(once); // replay
    const now = clock.now().getTime();
    await expectRefused(
      signed(c.who, c.cosignerId, { issuedAt: now - 300_000, expiresAt: now - 1 }),
    );
    await expectRefused(signed(c.who, c.cosignerId, { issuedAt: now, expiresAt: now + 600_000 }));
    await expectRefused(
      signed(c.who, c.cosignerId, { issuedAt: now + 120_000, expiresAt: now + 180_000 }),
    );
    await expectRefused(signed(other.who, c.cosignerId)); // another co-signer's key
    await expectRefused({ ...signed(c.who, c.cosignerId), cosignerId: other.cosignerId });
    await expectRefused(signed(c.who, c.cosignerId, { platformKey: 'ab'.repeat(32) }));
    await expectRefused(signed(c.who, '00000000-0000-4000-8000-000000000000'));
    // A request valid when signed expires with the clock.
    const later = signed(c.who, c.cosignerId);
    clock.advance(121_000);
    await expectRefused(later);
    // None of the refusals touched the co-signer's current family.
    const fresh = await recover(signed(c.who, c.cosignerId));
    expect(fresh.statusCode).toBe(200);
    const bad = await recover({ ...signed(c.who, c.cosignerId), signature: 'zz' });
    expect(bad.statusCode).toBe(400);
  });
});
