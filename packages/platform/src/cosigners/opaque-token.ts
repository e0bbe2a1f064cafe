/**
 * Opaque bearer secrets (co-signer refresh, access, pairing-poll and cloud pairing tokens): 256 random
 * bits, shown to the co-signer once, stored only as their SHA-256. A lookup
 * by hash is the comparison, so no secret is ever compared in memory.
 */
import { createHash, randomBytes } from 'node:crypto';

export type OpaqueTokenKind = 'refresh' | 'access' | 'pairingPoll' | 'cloudPairing';

const PREFIX: Record<OpaqueTokenKind, string> = {
  refresh: 'csrt_',
  access: 'csat_',
  pairingPoll: 'cspt_',
  cloudPairing: 'cscp_',
};
/** 32 bytes in base64url without padding. */
const BODY = /^[A-Za-z0-9_-]{43}$/;

export function newOpaqueToken(kind: OpaqueTokenKind): { token: string; hash: string } {
  const token = PREFIX[kind] + randomBytes(32).toString('base64url');
  return { token, hash: tokenHash(token) };
}

/** The stored form of any token: hex SHA-256 of its exact text. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The hash of a presented token, or undefined when it cannot be one of ours
 * (wrong kind or shape), so garbage never reaches the database.
 */
export function presentedTokenHash(kind: OpaqueTokenKind, token: string): string | undefined {
  const prefix = PREFIX[kind];
  if (!token.startsWith(prefix) || !BODY.test(token.slice(prefix.length))) return undefined;
  return tokenHash(token);
}
