/**
 * Memoised validation of public share sets for the FROST protocols (`checkPublicShareSet`,
 * `checkKeyShare` of `key-share.ts`, same results and same errors).
 *
 * Validating a share set decodes every point (on Ed25519 a prime-order subgroup check of ~1 ms
 * each) and interpolates in the exponent; a co-signer signs with the same few share sets again
 * and again, and one reshare checked the old set three times. The result is a pure function of
 * public data, so a hit keyed by that exact data is the same as recomputing. Only successes are
 * stored; the key is built only from values of the expected types (JSON of numbers, a string
 * and hex), so two different inputs cannot share one. The secret part of a key share
 * (`x_i·G = X_i`) is never cached. Bounded, oldest entry evicted first.
 * @module
 */
import { toHex, wipe } from './bytes.js';
import {
  checkPublicShareSet,
  checkSigningShare,
  decodeKeyShare,
  publicShareSet,
  type CheckedShareSet,
  type KeyShare,
  type PublicShareSet,
} from './key-share.js';

const CACHE_SIZE = 256;
const checkedShareSets = new Map<string, CheckedShareSet>();

/** Adds to a bounded cache (oldest entry evicted first) and returns the value. */
export function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, value);
  return value;
}

/** Cache key of a public share set, or undefined if a field has an unexpected type. */
export function shareSetKey(p: PublicShareSet): string | undefined {
  const bytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
  if (
    typeof p.curve !== 'string' ||
    typeof p.threshold !== 'number' ||
    !Array.isArray(p.parties) ||
    !p.parties.every((j) => typeof j === 'number') ||
    !bytes(p.publicKey) ||
    !bytes(p.chainCode) ||
    !Array.isArray(p.verificationShares) ||
    !p.verificationShares.every(bytes)
  )
    return undefined;
  return JSON.stringify([
    p.curve,
    p.threshold,
    p.parties,
    toHex(p.publicKey),
    toHex(p.chainCode),
    p.verificationShares.map(toHex),
  ]);
}

/** {@link checkPublicShareSet}, memoised. */
export function checkShareSet(
  p: PublicShareSet,
  code: 'ERR_MPC_KEY_SHARE' | 'ERR_MPC_INVALID_PARAMS' = 'ERR_MPC_KEY_SHARE',
): CheckedShareSet {
  if (shareSetKey(p) === undefined) return checkPublicShareSet(p, code);
  // One read of every field: the key and the check see the same values, even if the caller's
  // object changes (or is a proxy) in between.
  const snapshot = publicShareSet(p);
  const key = shareSetKey(snapshot);
  if (key === undefined) return checkPublicShareSet(snapshot, code);
  return (
    checkedShareSets.get(key) ??
    remember(checkedShareSets, key, checkPublicShareSet(snapshot, code))
  );
}

/**
 * `checkKeyShare` with the public part memoised: the index is a member, the signing share is a
 * canonical non-zero scalar and `x_i·G = X_i` (constant-time multiplication, every time).
 */
export function checkKeyShareCached(share: KeyShare): { checked: CheckedShareSet; secret: bigint } {
  const checked = checkShareSet(share);
  return { checked, secret: checkSigningShare(share, checked) };
}

/**
 * Parses and fully validates an exported key share (`decodeKeyShare` plus
 * {@link checkKeyShareCached}); on a failed check the signing share is wiped. Throws
 * `ERR_MPC_KEY_SHARE` / `ERR_MPC_MALFORMED`.
 */
export function importKeyShare(bytes: Uint8Array): KeyShare {
  const share = decodeKeyShare(bytes);
  try {
    checkKeyShareCached(share);
  } catch (e) {
    wipe(share.signingShare);
    throw e;
  }
  return share;
}
