/**
 * Verifies the JWT that signs each API request (Fireblocks scheme): RS256 over
 * `{uri, nonce, iat, exp, sub, bodyHash}` with the API user's RSA key.
 * Parsing is strict: anything but a well-formed RS256 JWT with exactly typed
 * claims is an invalid signature, reported with one fixed message.
 */
import { createHash, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { AuthError } from '../errors.js';

export interface RequestClaims {
  uri: string;
  nonce: string;
  iat: number;
  exp: number;
  sub: string;
  bodyHash: string;
}

export const MAX_TOKEN_LIFETIME_SECONDS = 60;

const INVALID = () =>
  new AuthError(
    'ERR_AUTH_INVALID_SIGNATURE',
    'INVALID_SIGNATURE',
    'Unauthorized: invalid signature',
  );

const B64URL = /^[A-Za-z0-9_-]+$/;
/** Printable ASCII only: the nonce is stored as text and must never break a batched insert. */
const NONCE = /^[\x21-\x7e]{1,256}$/;

/** Splits and checks the header without verifying; returns the parts to verify. */
export function decodeRequestJwt(token: string): {
  claims: RequestClaims;
  signingInput: Buffer;
  signature: Buffer;
} {
  if (token.length > 8192) throw INVALID();
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw INVALID();
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(h);
  if (header === null || header['alg'] !== 'RS256') throw INVALID();
  if (header['typ'] !== undefined && header['typ'] !== 'JWT') throw INVALID();
  if (header['crit'] !== undefined) throw INVALID();
  const payload = parseJson(p);
  if (payload === null) throw INVALID();
  const { uri, nonce, iat, exp, sub, bodyHash } = payload;
  if (
    typeof uri !== 'string' ||
    typeof nonce !== 'string' ||
    !NONCE.test(nonce) ||
    !Number.isSafeInteger(iat) ||
    !Number.isSafeInteger(exp) ||
    typeof sub !== 'string' ||
    typeof bodyHash !== 'string'
  ) {
    throw INVALID();
  }
  return {
    claims: { uri, nonce, iat: iat as number, exp: exp as number, sub, bodyHash },
    signingInput: Buffer.from(`${h}.${p}`, 'ascii'),
    signature: Buffer.from(s, 'base64url'),
  };
}

export function verifyRequestSignature(
  publicKey: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): void {
  let ok = false;
  try {
    ok = verify('sha256', signingInput, publicKey, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw INVALID();
}

const EMPTY_BODY_HASHES = [
  sha256Hex(''),
  // Older Fireblocks SDKs hash JSON.stringify("") for requests without a body.
  sha256Hex('""'),
];

/** The claim must be the SHA-256 of the exact bytes received. */
export function bodyHashMatches(claimed: string, rawBody: Buffer | undefined): boolean {
  const expected = rawBody && rawBody.length > 0 ? [sha256Hex(rawBody)] : EMPTY_BODY_HASHES;
  const claimedBuf = Buffer.from(claimed.toLowerCase(), 'utf8');
  let match = false;
  for (const e of expected) {
    const eBuf = Buffer.from(e, 'utf8');
    if (eBuf.length === claimedBuf.length && timingSafeEqual(eBuf, claimedBuf)) match = true;
  }
  return match;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function parseJson(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
