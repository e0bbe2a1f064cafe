/**
 * Feldman verifiable secret sharing (Feldman, FOCS 1987; RFC 9591 Appendix C.1 `secret_share_shard`
 * and C.2 `vss_commit` / `vss_verify`): a dealer shares `s` with a random polynomial
 * `f(X) = s + a_1·X + … + a_{t−1}·X^{t−1}` over Z_q, gives `f(j)` to party j and publishes
 * `C_k = a_k·G`. Party j accepts its share iff `f(j)·G = Σ_k j^k·C_k`.
 *
 * Used by the DKG (each party deals a random secret), reshare and refresh (each old party deals
 * its Lagrange-weighted share), in FROST and, later, DKLs23.
 * @module
 */
import {
  type CurveSuite,
  type GroupPoint,
  type RandomSource,
  defaultRandom,
} from './curve-suite.js';
import { MpcError } from './errors.js';

/** A dealer's polynomial (secret) and its commitments (public). */
export interface Polynomial {
  /** `a_0 … a_{t−1}`; `a_0` is the shared secret. Wipe with {@link wipePolynomial}. */
  readonly coefficients: bigint[];
  readonly commitments: readonly GroupPoint[];
}

/** Samples a polynomial of degree `t − 1` with constant term `secret` (random if omitted). */
export function samplePolynomial(
  suite: CurveSuite,
  t: number,
  secret?: bigint,
  random: RandomSource = defaultRandom,
): Polynomial {
  const coefficients = [secret ?? suite.randomScalar(random)];
  for (let k = 1; k < t; k++) coefficients.push(suite.randomScalar(random));
  if (coefficients[0] === 0n)
    throw new MpcError('ERR_MPC_INVALID_SCALAR', { detail: 'zero secret' });
  return { coefficients, commitments: coefficients.map((a) => suite.G.multiply(a)) };
}

/** `f(x)` by Horner's rule. */
export function evaluatePolynomial(
  suite: CurveSuite,
  coefficients: readonly bigint[],
  x: number,
): bigint {
  let acc = 0n;
  const X = BigInt(x);
  for (let k = coefficients.length - 1; k >= 0; k--)
    acc = suite.mod(acc * X + (coefficients[k] ?? 0n));
  return acc;
}

/** `Σ_k x^k·C_k`: the public image `f(x)·G` of a share (variable time: public inputs). */
export function evaluateCommitments(
  suite: CurveSuite,
  commitments: readonly GroupPoint[],
  x: number,
): GroupPoint {
  let acc = suite.ZERO;
  const X = BigInt(x);
  for (let k = commitments.length - 1; k >= 0; k--) {
    const c = commitments[k];
    if (c === undefined) throw new MpcError('ERR_MPC_INVALID_PARAMS');
    acc = acc.multiplyUnsafe(X).add(c);
  }
  return acc;
}

/** Feldman check of the share `share` of party `x` from `dealer`; throws `ERR_MPC_INVALID_SHARE` naming the dealer. */
export function verifyShare(
  suite: CurveSuite,
  commitments: readonly GroupPoint[],
  x: number,
  share: bigint,
  dealer: number,
): void {
  // The share is secret: constant-time base multiplication.
  const lhs = share === 0n ? suite.ZERO : suite.G.multiply(share);
  if (!lhs.equals(evaluateCommitments(suite, commitments, x)))
    throw new MpcError('ERR_MPC_INVALID_SHARE', { culprit: dealer });
}

/** Best-effort erasure of the coefficients (bigints are immutable; this drops our references). */
export function wipePolynomial(p: Polynomial): void {
  p.coefficients.fill(0n);
}
