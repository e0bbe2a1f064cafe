/**
 * The per-request JWT of the Fireblocks API authentication scheme
 * (ARCHITECTURE §6): RS256, claims `uri`, `nonce`, `iat`, `exp`, `sub`,
 * `bodyHash`. One token per HTTP attempt — a retry gets a fresh nonce, since
 * the platform refuses a replayed one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { CountersignSignerError } from './errors.js';
import type { RequestSigner } from './request-signer.js';

export interface RequestJwtClaims {
  /** Path and query exactly as sent on the wire, `/v1` prefix included. */
  uri: string;
  nonce: string;
  iat: number;
  exp: number;
  /** The API key. */
  sub: string;
  /** Hex SHA-256 of the exact body bytes sent (of the empty string when there is none). */
  bodyHash: string;
}

export interface RequestJwtInput {
  uri: string;
  apiKey: string;
  body: Uint8Array;
  /** Seconds since the epoch, already corrected for clock skew. */
  nowSeconds: number;
  lifetimeSeconds: number;
}

const HEADER = base64url(new TextEncoder().encode(JSON.stringify({ alg: 'RS256', typ: 'JWT' })));

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function requestJwtClaims(input: RequestJwtInput): RequestJwtClaims {
  return {
    uri: input.uri,
    nonce: randomUUID(),
    iat: input.nowSeconds,
    exp: input.nowSeconds + input.lifetimeSeconds,
    sub: input.apiKey,
    bodyHash: sha256Hex(input.body),
  };
}

export async function signRequestJwt(
  claims: RequestJwtClaims,
  signer: RequestSigner,
): Promise<string> {
  const signingInput = `${HEADER}.${base64url(new TextEncoder().encode(JSON.stringify(claims)))}`;
  let signature: unknown;
  try {
    signature = await signer.sign(new TextEncoder().encode(signingInput));
  } catch (cause) {
    throw new CountersignSignerError('The request signer failed', { cause });
  }
  // A custom signer is a trust boundary of sorts: check what it handed back.
  if (!(signature instanceof Uint8Array) || signature.length === 0) {
    throw new CountersignSignerError('The request signer returned no signature bytes');
  }
  return `${signingInput}.${base64url(signature)}`;
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
