/**
 * A stand-in for the co-signer's side of pairing: real Ed25519 and X25519
 * identity keys, and the calls the daemon makes to `/cosigner/v1`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import type { LightMyRequestResponse } from 'fastify';
import { signedRequest, type TestApiUser, type TestPlatform } from './test-platform.js';

export interface TestIdentity {
  ed25519: string;
  x25519: string;
}

/** Raw public keys, base64url for Ed25519 and hex for X25519 (both encodings are accepted). */
export function newIdentity(): TestIdentity {
  const raw = (type: 'ed25519' | 'x25519') =>
    Buffer.from(
      generateKeyPairSync(type as 'ed25519').publicKey.export({ format: 'jwk' }).x!,
      'base64url',
    );
  return { ed25519: raw('ed25519').toString('base64url'), x25519: raw('x25519').toString('hex') };
}

/** An identity whose Ed25519 key can sign (recovery requests), as a co-signer's would. */
export interface SigningIdentity {
  identity: TestIdentity;
  sign(message: Uint8Array): Uint8Array;
}

export function signingIdentity(): SigningIdentity {
  const secret = ed25519.utils.randomSecretKey();
  const agreement = x25519.utils.randomSecretKey();
  return {
    identity: {
      ed25519: Buffer.from(ed25519.getPublicKey(secret)).toString('hex'),
      x25519: Buffer.from(x25519.getPublicKey(agreement)).toString('hex'),
    },
    sign: (message) => ed25519.sign(message, secret),
  };
}

export async function issuePairingToken(
  p: TestPlatform,
  admin: TestApiUser,
  apiUserId: string,
): Promise<LightMyRequestResponse> {
  return signedRequest(p, admin, 'POST', `/v1/countersign/api_users/${apiUserId}/pairing_token`);
}

export async function pairingTokenFor(
  p: TestPlatform,
  admin: TestApiUser,
  apiUserId: string,
): Promise<string> {
  const res = await issuePairingToken(p, admin, apiUserId);
  if (res.statusCode !== 200) throw new Error(`pairing token: ${res.statusCode} ${res.body}`);
  return res.json<{ pairingToken: string }>().pairingToken;
}

export function pair(
  p: TestPlatform,
  body: Record<string, unknown>,
  accessToken?: string,
): Promise<LightMyRequestResponse> {
  return p.app.inject({
    method: 'POST',
    url: '/cosigner/v1/pair',
    headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
    payload: body,
  });
}

/** Polls a waiting pairing with its poll token (`GET /cosigner/v1/pairings/{requestId}`). */
export function pollPairing(
  p: TestPlatform,
  requestId: string,
  pollToken: string,
): Promise<LightMyRequestResponse> {
  return p.app.inject({
    method: 'GET',
    url: `/cosigner/v1/pairings/${requestId}`,
    headers: { authorization: `Bearer ${pollToken}` },
  });
}

/** What `POST /cosigner/v1/pair` answers (202) while the Owner decides. */
export interface PendingPairing {
  cosignerId: string;
  apiKeyId: string;
  requestId: string;
  pollToken: string;
  identityFingerprint: string;
  platformKey: string;
}

/** The workspace Owner decides a COSIGNER_PAIR request (as the approval API would). */
export async function decideAsOwner(
  p: TestPlatform,
  requestId: string,
  decision: 'APPROVE' | 'REJECT' = 'APPROVE',
): Promise<void> {
  const decided = await p.app.services.approvals.decide(p.owner, requestId, decision);
  if (decided.status === 'PENDING') throw new Error('the Owner decided, but the request waits');
}

export function refresh(p: TestPlatform, refreshToken: string): Promise<LightMyRequestResponse> {
  return p.app.inject({
    method: 'POST',
    url: '/cosigner/v1/token',
    payload: { refreshToken },
  });
}

export function cosignerApiKeys(
  p: TestPlatform,
  accessToken: string,
): Promise<LightMyRequestResponse> {
  return p.app.inject({
    method: 'GET',
    url: '/cosigner/v1/api_keys',
    headers: { authorization: `Bearer ${accessToken}` },
  });
}

export interface PairedCosigner {
  cosignerId: string;
  identity: TestIdentity;
  refreshToken: string;
  /** The platform's authorization key from the pairing answer (hex). */
  platformKey: string;
}

/**
 * Issues a token for `apiUserId` as `admin`, pairs a new co-signer with it, has the workspace
 * Owner approve the pairing, and collects the co-signer's first refresh token from its poll.
 */
export async function pairNewCosigner(
  p: TestPlatform,
  admin: TestApiUser,
  apiUserId: string,
  name = 'test co-signer',
  identity: TestIdentity = newIdentity(),
): Promise<PairedCosigner> {
  const res = await pair(p, {
    pairingToken: await pairingTokenFor(p, admin, apiUserId),
    identity,
    cosignerName: name,
    version: '0.1.0',
  });
  if (res.statusCode !== 202) throw new Error(`pair: ${res.statusCode} ${res.body}`);
  const pending = res.json<PendingPairing>();
  await decideAsOwner(p, pending.requestId);
  const polled = await pollPairing(p, pending.requestId, pending.pollToken);
  const body = polled.json<{ status: string; refreshToken?: string }>();
  if (body.status !== 'PAIRED' || body.refreshToken === undefined) {
    throw new Error(`poll: ${polled.statusCode} ${polled.body}`);
  }
  return {
    cosignerId: pending.cosignerId,
    identity,
    refreshToken: body.refreshToken,
    platformKey: pending.platformKey,
  };
}

/** A fake clock: starts at the real time, moves only when told. */
export function fakeClock(): { now: () => Date; advance(ms: number): void } {
  let t = Date.now();
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
  };
}
