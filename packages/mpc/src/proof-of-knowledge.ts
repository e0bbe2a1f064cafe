/**
 * Schnorr proof of knowledge of a discrete logarithm, made non-interactive by Fiat–Shamir and
 * bound to the session and the prover (specs/dkls23.md, "Building blocks" 2; the role it plays
 * in the DKG is the one of RFC 9591's reference DKG / Komlo–Goldberg FROST §5.1 Round 1, step
 * 2, except that the challenge also binds the protocol id and session id, so a proof cannot be
 * replayed into another session):
 *
 * prove x for X = x·G: `K = k·G`, `e = Hq("pok", context…, i, X, K)`, `z = k + e·x`.
 * verify: `z·G = K + e·X`.
 *
 * Encoding: `K ‖ z` (point ‖ 32-byte scalar).
 * @module
 */
import { u16be } from './bytes.js';
import {
  defaultRandom,
  type CurveSuite,
  type GroupPoint,
  type RandomSource,
} from './curve-suite.js';
import { MpcError } from './errors.js';
import type { DomainHasher } from './hash.js';

/** Encoded length of a proof on `suite`. */
export function proofLength(suite: CurveSuite): number {
  return suite.pointLength + suite.scalarLength;
}

function challenge(
  suite: CurveSuite,
  hasher: DomainHasher,
  context: readonly Uint8Array[],
  party: number,
  X: GroupPoint,
  K: GroupPoint,
): bigint {
  return hasher.hashToScalar(
    suite.order,
    'pok',
    ...context,
    u16be(party),
    X.toBytes(),
    K.toBytes(),
  );
}

/** Proves knowledge of `x` (non-zero) for `X = x·G`. */
export function proveKnowledge(
  suite: CurveSuite,
  hasher: DomainHasher,
  context: readonly Uint8Array[],
  party: number,
  x: bigint,
  random: RandomSource = defaultRandom,
): Uint8Array {
  const X = suite.G.multiply(x);
  let k = suite.randomScalar(random);
  const K = suite.G.multiply(k);
  const e = challenge(suite, hasher, context, party, X, K);
  const z = suite.mod(k + e * x);
  k = 0n;
  const out = new Uint8Array(proofLength(suite));
  out.set(K.toBytes());
  out.set(suite.encodeScalar(z), suite.pointLength);
  return out;
}

/** Verifies a proof for `X` by `party`; throws `ERR_MPC_INVALID_PROOF` (or a decoding error) naming it. */
export function verifyKnowledge(
  suite: CurveSuite,
  hasher: DomainHasher,
  context: readonly Uint8Array[],
  party: number,
  X: GroupPoint,
  proof: Uint8Array,
): void {
  if (proof.length !== proofLength(suite))
    throw new MpcError('ERR_MPC_MALFORMED', { culprit: party, detail: 'proof length' });
  const K = suite.decodePoint(proof.subarray(0, suite.pointLength), party);
  const z = suite.decodeScalar(proof.subarray(suite.pointLength), party, true);
  const e = challenge(suite, hasher, context, party, X, K);
  // Public inputs only: variable-time multiplication is fine here.
  const lhs = suite.G.multiplyUnsafe(z);
  const rhs = K.add(X.multiplyUnsafe(e));
  if (!lhs.equals(rhs)) throw new MpcError('ERR_MPC_INVALID_PROOF', { culprit: party });
}
