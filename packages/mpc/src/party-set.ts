/**
 * Party indices and Lagrange interpolation.
 *
 * Parties are numbered 1..65535 (non-zero field elements, RFC 9591 §4 "identifier"); the index
 * a party has in a session is also its Shamir evaluation point. Lists are validated once, at
 * session creation: zero, duplicates and out-of-range indices are refused, naming the index.
 * @module
 */
import { MpcError } from './errors.js';

/** Largest number of parties in one session (keeps every decoder's allocation bounded). */
export const MAX_PARTIES = 64;
/** Largest party index (indices travel as u16). */
export const MAX_PARTY_INDEX = 0xffff;

/** Validates a party index. */
export function assertPartyIndex(i: unknown, what = 'party'): asserts i is number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 1 || i > MAX_PARTY_INDEX)
    throw new MpcError('ERR_MPC_INVALID_PARTY', {
      culprit: typeof i === 'number' && Number.isInteger(i) ? i : undefined,
      detail: what,
    });
}

/**
 * Validates a list of party indices (non-empty, each valid, no duplicates, at most
 * {@link MAX_PARTIES}) and returns a sorted copy.
 */
export function normalizeParties(list: unknown, what = 'parties'): number[] {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_PARTIES)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: `${what}: expected 1..${MAX_PARTIES} indices`,
    });
  const seen = new Set<number>();
  for (const i of list as unknown[]) {
    assertPartyIndex(i, what);
    if (seen.has(i)) throw new MpcError('ERR_MPC_DUPLICATE_PARTY', { culprit: i, detail: what });
    seen.add(i);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Validates a threshold `t` for `n` parties: 2 ≤ t ≤ n (RFC 9591 signing needs t ≥ 2). */
export function assertThreshold(t: unknown, n: number): asserts t is number {
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 2 || t > n)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'threshold must satisfy 2 <= t <= n' });
}

/**
 * Lagrange coefficient at zero of party `i` within `set` over Z_order (RFC 9591 §4.2
 * `derive_interpolating_value`): λ_i = Π_{j≠i} j / (j − i).
 */
export function lagrangeAtZero(
  i: number,
  set: readonly number[],
  order: bigint,
  inv: (k: bigint) => bigint,
): bigint {
  if (!set.includes(i))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'party not in set' });
  let num = 1n;
  let den = 1n;
  const xi = BigInt(i);
  for (const j of set) {
    if (j === i) continue;
    const xj = BigInt(j);
    num = (num * xj) % order;
    den = (((den * (xj - xi)) % order) + order) % order;
  }
  return (num * inv(den)) % order;
}
