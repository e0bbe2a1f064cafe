/**
 * Hash commitment, for commit-then-reveal rounds (specs/dkls23.md, "Building blocks" 1):
 * `com = H("com", context…, party, payload, salt)` with a fresh 32-byte salt; the opening is
 * `(payload, salt)`. Binding by collision resistance of SHA-256, hiding by the salt's entropy
 * in the random-oracle model.
 * @module
 */
import { constantTimeEqual, u16be } from './bytes.js';
import { defaultRandom, type RandomSource } from './curve-suite.js';
import { MpcError } from './errors.js';
import type { DomainHasher } from './hash.js';

/** Length of a commitment and of its salt. */
export const COMMITMENT_LENGTH = 32;
export const SALT_LENGTH = 32;

/** A commitment and the salt that opens it. */
export interface Commitment {
  readonly commitment: Uint8Array;
  readonly salt: Uint8Array;
}

function compute(
  hasher: DomainHasher,
  context: readonly Uint8Array[],
  party: number,
  payload: Uint8Array,
  salt: Uint8Array,
): Uint8Array {
  return hasher.hash('com', ...context, u16be(party), payload, salt);
}

/** Commits `party` to `payload` under the session `context` (protocol id, sid…). */
export function commit(
  hasher: DomainHasher,
  context: readonly Uint8Array[],
  party: number,
  payload: Uint8Array,
  random: RandomSource = defaultRandom,
): Commitment {
  const salt = random(SALT_LENGTH);
  if (salt.length !== SALT_LENGTH) throw new RangeError('random source returned the wrong length');
  return { commitment: compute(hasher, context, party, payload, salt), salt };
}

/** Checks an opening; throws `ERR_MPC_COMMITMENT_MISMATCH` naming `party`. */
export function verifyOpening(
  hasher: DomainHasher,
  context: readonly Uint8Array[],
  party: number,
  commitment: Uint8Array,
  payload: Uint8Array,
  salt: Uint8Array,
): void {
  const expected = compute(hasher, context, party, payload, salt);
  if (commitment.length !== COMMITMENT_LENGTH || !constantTimeEqual(expected, commitment))
    throw new MpcError('ERR_MPC_COMMITMENT_MISMATCH', { culprit: party });
}
