/**
 * A stand-in for the co-signer's side of pairing: real Ed25519 and X25519
 * identity keys, and the calls the daemon makes to `/cosigner/v1`.
 */
import { pairingProofMessage } from '@countersign/protocol';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import type { LightMyRequestResponse } from 'fastify';
import { signedRequest, type TestApiUser, type TestPlatform } from './test-platform.js';

export interface TestIdentity {
  ed25519: string;
  x25519: string;
}

/** Secret Ed25519 keys of the identities made here, by public key (hex): pair() signs with them. */
const identitySecrets = new Map<string, Uint8Array>();

/** Raw public keys, base64url for Ed25519 and hex for X25519 (both encodings are accepted). */
export function newIdentity(): TestIdentity {
  const { identity } = signingIdentity();
  return {
    ed25519: Buffer.from(identity.ed25519, 'hex').toString('base64url'),
    x25519: identity.x25519,
  };
}

/** An identity whose Ed25519 key can sign (recovery requests), as a co-signer's would. */
export interface SigningIdentity {
  identity: TestIdentity;
  sign(message: Uint8Array): Uint8Array;
}

export function signingIdentity(): SigningIdentity {
  const secret = ed25519.utils.randomSecretKey();
  const agreement = x25519.utils.randomSecretKey();
  const publicKey = Buffer.from(ed25519.getPublicKey(secret)).toString('hex');
  identitySecrets.set(publicKey, secret);
  return {
    identity: {
      ed25519: publicKey,
      x25519: Buffer.from(x25519.getPublicKey(agreement)).toString('hex'),
    },
    sign: (message) => ed25519.sign(message, secret),
  };
}

/** A raw 32-byte key given in any accepted encoding, as lower-case hex. */
function keyHex(value: string): string {
  return /^[0-9a-fA-F]{64}$/.test(value)
    ? value.toLowerCase()
    : Buffer.from(value.replace(/=$/, ''), 'base64url').toString('hex');
}

/**
 * The proof of possession a co-signer adds to a pairing: made here when the identity's secret
 * key is known and the token is a pairing JWT; otherwise none (the platform then refuses).
 */
function proofFor(body: Record<string, unknown>): string | undefined {
  const identity = body['identity'] as TestIdentity | undefined;
  const token = body['pairingToken'];
  if (identity === undefined || typeof token !== 'string') return undefined;
  let ed: string;
  let x: string;
  try {
    ed = keyHex(identity.ed25519);
    x = keyHex(identity.x25519);
  } catch {
    return undefined;
  }
  const secret = identitySecrets.get(ed);
  const payload = token.split('.')[1];
  if (secret === undefined || payload === undefined) return undefined;
  let jti: unknown;
  try {
    jti = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { jti?: unknown }).jti;
  } catch {
    return undefined;
  }
  if (typeof jti !== 'string') return undefined;
  const message = pairingProofMessage({ jti, ed25519: ed, x25519: x });
  return Buffer.from(ed25519.sign(message, secret)).toString('hex');
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

/** POST /cosigner/v1/pair, with the identity's proof of possession unless the body has one. */
export function pair(
  p: TestPlatform,
  body: Record<string, unknown>,
  accessToken?: string,
): Promise<LightMyRequestResponse> {
  const proof = 'proof' in body ? undefined : proofFor(body);
  return p.app.inject({
    method: 'POST',
    url: '/cosigner/v1/pair',
    headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
    payload: proof === undefined ? body : { ...body, proof },
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
