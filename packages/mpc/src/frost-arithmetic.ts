/**
 * RFC 9591 signing arithmetic on points that are already decoded and validated: nonce
 * generation and commitments (§5.1), binding factors (§4.4), group commitment (§4.5), challenge
 * (§4.6), signature share (§5.2), share verification (§5.4) and aggregation (§5.3), for the
 * three signing ciphersuites of `frost-ciphersuite.ts`.
 *
 * Why not `@noble/curves`' `signShare`/`aggregate`: they take bytes, so every call decodes and
 * re-validates every point again (on Ed25519 two subgroup checks per point, ~1 ms each, 14 per
 * call) and recomputes the binding factors and the group commitment; with one call of each per
 * signer that was ~90% of a signing session. Here each point is validated once, on arrival
 * (`CurveSuite.decodePoint`), and the per-session values are computed once
 * ({@link signingPackage}). The formulas and hash inputs are noble's, byte for byte, including
 * the BIP340 variant (`schnorr_FROST`: even-Y group key and group commitment); the RFC 9591
 * Appendix E vectors and a differential test against noble (`test/frost-arithmetic.test.ts`)
 * pin them.
 * @module
 */
import { hash as nativeHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, concatBytes } from '@noble/curves/utils.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import type { CurveName, GroupPoint, RandomSource } from './curve-suite.js';
import type { FrostCiphersuite, FrostSuite } from './frost-ciphersuite.js';
import { lagrangeAtZero } from './party-set.js';

/** Hash functions and encodings of one ciphersuite (RFC 9591 §6, noble's parameters). */
interface SuiteHashes {
  /** H3 (nonce generation), DST = contextString ‖ "nonce". */
  readonly h3: (m: Uint8Array) => bigint;
  /** H1 (binding factor), DST = contextString ‖ "rho". */
  readonly h1: (m: Uint8Array) => bigint;
  /** H4 (message digest) and H5 (commitment list digest). */
  readonly h4: (m: Uint8Array) => Uint8Array;
  readonly h5: (m: Uint8Array) => Uint8Array;
  /** H2 / BIP340 challenge over the group commitment, the group key and the message. */
  readonly challenge: (R: GroupPoint, X: GroupPoint, msg: Uint8Array) => bigint;
  /** BIP340 variant: even-Y group key and group commitment. */
  readonly evenY: boolean;
  /** Signature encoding `R ‖ z` (BIP340: x(R) ‖ z). */
  readonly encode: (R: GroupPoint, z: Uint8Array) => Uint8Array;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// SHA-2 from node:crypto (OpenSSL): the same function as @noble/hashes' sha256/sha512, an
// order of magnitude faster (SHA-512's 64-bit words are emulated in JavaScript), and free of
// data-dependent branches, so fine for H3's secret input too. hash_to_field for secp256k1
// stays noble's.
const sha256 = (m: Uint8Array): Uint8Array => new Uint8Array(nativeHash('sha256', m, 'buffer'));
const sha512 = (m: Uint8Array): Uint8Array => new Uint8Array(nativeHash('sha512', m, 'buffer'));

function prefixed(hash: (m: Uint8Array) => Uint8Array, tag: Uint8Array) {
  return (m: Uint8Array): Uint8Array => hash(concatBytes(tag, m));
}

function ed25519Hashes(): SuiteHashes {
  // FROST(Ed25519, SHA-512), RFC 9591 §6.1: H(m) = SHA-512(m) as little-endian integer mod L;
  // H2 has no prefix (the RFC 8032 challenge).
  const cs = 'FROST-ED25519-SHA512-v1';
  const L = ed25519.Point.Fn.ORDER;
  const toScalar = (h: Uint8Array): bigint => bytesToNumberLE(h) % L;
  const rho = utf8(cs + 'rho');
  const nonce = utf8(cs + 'nonce');
  return {
    h1: (m) => toScalar(sha512(concatBytes(rho, m))),
    h3: (m) => toScalar(sha512(concatBytes(nonce, m))),
    h4: prefixed(sha512, utf8(cs + 'msg')),
    h5: prefixed(sha512, utf8(cs + 'com')),
    challenge: (R, X, msg) => toScalar(sha512(concatBytes(R.toBytes(), X.toBytes(), msg))),
    evenY: false,
    encode: (R, z) => concatBytes(R.toBytes(), z),
  };
}

function secp256k1Hashes(cs: string, bip340: boolean): SuiteHashes {
  // RFC 9591 §6.5: hash_to_field (expand_message_xmd, SHA-256) with DST = contextString ‖ tag.
  const h2s = (tag: string) => {
    const DST = utf8(cs + tag);
    return (m: Uint8Array): bigint => secp256k1_hasher.hashToScalar(m, { DST });
  };
  const chal = h2s('chal');
  const xOnly = (P: GroupPoint): Uint8Array => P.toBytes().subarray(1);
  return {
    h1: h2s('rho'),
    h3: h2s('nonce'),
    h4: prefixed(sha256, utf8(cs + 'msg')),
    h5: prefixed(sha256, utf8(cs + 'com')),
    challenge: bip340
      ? // BIP340 challenge: tagged hash of x(R) ‖ x(P) ‖ m, mod n.
        (R, X, msg) =>
          bytesToNumberBE(schnorr.utils.taggedHash('BIP0340/challenge', xOnly(R), xOnly(X), msg)) %
          secp256k1.Point.Fn.ORDER
      : (R, X, msg) => chal(concatBytes(R.toBytes(), X.toBytes(), msg)),
    evenY: bip340,
    encode: bip340 ? (R, z) => concatBytes(xOnly(R), z) : (R, z) => concatBytes(R.toBytes(), z),
  };
}

const HASHES: Record<FrostCiphersuite, SuiteHashes> = {
  ed25519: ed25519Hashes(),
  'secp256k1-bip340': secp256k1Hashes('FROST-secp256k1-SHA256-TR-v1', true),
  'secp256k1-rfc9591': secp256k1Hashes('FROST-secp256k1-SHA256-v1', false),
};

/** One signer's round-one commitments `(D, E)`, decoded and validated. */
export interface SigningCommitment {
  readonly index: number;
  readonly hiding: GroupPoint;
  readonly binding: GroupPoint;
}

/** The public values of one signing session, computed once per signer (no secret). */
export interface SigningPackage {
  readonly suite: FrostSuite;
  /** Commitments sorted by index. */
  readonly commitments: readonly SigningCommitment[];
  /** Group key (BIP340: its even-Y version). */
  readonly groupKey: GroupPoint;
  /** Group commitment `R = Σ D_j + ρ_j·E_j` (§4.5), as computed (BIP340: before even-Y). */
  readonly groupCommitment: GroupPoint;
  readonly challenge: bigint;
  readonly bindingFactors: ReadonlyMap<number, bigint>;
  readonly lambdas: ReadonlyMap<number, bigint>;
  /** BIP340: the group key had odd Y, so shares and verifying shares are negated. */
  readonly negateKey: boolean;
  /** BIP340: R has odd Y, so nonces and commitment shares are negated. */
  readonly negateNonces: boolean;
}

type EdPoint = InstanceType<typeof ed25519.Point>;
type K1Point = InstanceType<typeof secp256k1.Point>;

/** `Σ k_j·P_j`, variable time (public values only): noble's interleaved wNAF. */
function multiScalarUnsafe(
  curve: CurveName,
  points: readonly GroupPoint[],
  scalars: bigint[],
): GroupPoint {
  return curve === 'ed25519'
    ? mulAddUnsafe(ed25519.Point, points as EdPoint[], scalars)
    : mulAddUnsafe(secp256k1.Point, points as K1Point[], scalars);
}

const hasOddY = (P: GroupPoint): boolean => P.toBytes()[0] === 0x03;

/**
 * RFC 9591 §4.3–4.6 from validated points: encoded commitment list, binding factors, group
 * commitment, challenge, and the Lagrange coefficients of the signing set. All inputs are
 * public, so variable-time arithmetic is fine here.
 */
export function signingPackage(
  suite: FrostSuite,
  groupKey: GroupPoint,
  commitments: readonly SigningCommitment[],
  message: Uint8Array,
): SigningPackage {
  const { curve } = suite;
  const h = HASHES[suite.ciphersuite];
  const sorted = [...commitments].sort((a, b) => a.index - b.index);
  for (let k = 1; k < sorted.length; k++)
    if ((sorted[k] as SigningCommitment).index === (sorted[k - 1] as SigningCommitment).index)
      throw new RangeError('duplicate signer');
  const negateKey = h.evenY && hasOddY(groupKey);
  const X = negateKey ? groupKey.negate() : groupKey;
  // §4.3 encode_group_commitment_list; §4.4 rho_input = SerializeElement(X) ‖ H4(msg) ‖ H5(…).
  const ids = sorted.map((c) => curve.encodeScalar(BigInt(c.index)));
  const encoded = concatBytes(
    ...sorted.flatMap((c, k) => [ids[k] as Uint8Array, c.hiding.toBytes(), c.binding.toBytes()]),
  );
  const prefix = concatBytes(X.toBytes(), h.h4(message), h.h5(encoded));
  const bindingFactors = new Map<number, bigint>();
  sorted.forEach((c, k) =>
    bindingFactors.set(c.index, h.h1(concatBytes(prefix, ids[k] as Uint8Array))),
  );
  // §4.5: Σ D_j + Σ ρ_j·E_j (one interleaved multi-scalar multiplication for the E_j).
  let hidingSum = curve.ZERO;
  for (const c of sorted) hidingSum = hidingSum.add(c.hiding);
  const groupCommitment = hidingSum.add(
    multiScalarUnsafe(
      curve.name,
      sorted.map((c) => c.binding),
      sorted.map((c) => bindingFactors.get(c.index) as bigint),
    ),
  );
  if (groupCommitment.is0()) throw new RangeError('group commitment is the identity');
  const signers = sorted.map((c) => c.index);
  const lambdas = new Map<number, bigint>();
  for (const j of signers)
    lambdas.set(
      j,
      lagrangeAtZero(j, signers, curve.order, (k) => curve.inv(k)),
    );
  return {
    suite,
    commitments: sorted,
    groupKey: X,
    groupCommitment,
    challenge: h.challenge(groupCommitment, X, message),
    bindingFactors,
    lambdas,
    negateKey,
    negateNonces: h.evenY && hasOddY(groupCommitment),
  };
}

/**
 * §5.2 `sign`: `z_i = d_i + e_i·ρ_i + λ_i·s_i·c` (BIP340: `s_i` negated for an odd-Y key,
 * `d_i, e_i` for an odd-Y R). Secret inputs; non-constant-time `BigInt` arithmetic as in
 * noble's `signShare` (docs/constant-time.md). Returns the scalar encoding.
 */
export function signatureShare(
  pkg: SigningPackage,
  index: number,
  secret: bigint,
  hiding: bigint,
  binding: bigint,
): Uint8Array {
  const { curve } = pkg.suite;
  const rho = pkg.bindingFactors.get(index);
  const lambda = pkg.lambdas.get(index);
  if (rho === undefined || lambda === undefined) throw new RangeError('not a signer');
  const s = pkg.negateKey ? curve.mod(-secret) : secret;
  const d = pkg.negateNonces ? curve.mod(-hiding) : hiding;
  const e = pkg.negateNonces ? curve.mod(-binding) : binding;
  return curve.encodeScalar(curve.mod(d + e * rho + lambda * s * pkg.challenge));
}

/**
 * §5.4 `verify_signature_share`: `z_j·G = D_j + ρ_j·E_j + (c·λ_j)·Y_j` (BIP340 sign
 * adjustments as in {@link signatureShare}). Public values only.
 */
export function verifySignatureShare(
  pkg: SigningPackage,
  index: number,
  verifyingShare: GroupPoint,
  share: bigint,
): boolean {
  const { curve } = pkg.suite;
  const c = pkg.commitments.find((x) => x.index === index);
  const rho = pkg.bindingFactors.get(index);
  const lambda = pkg.lambdas.get(index);
  if (c === undefined || rho === undefined || lambda === undefined) return false;
  let commitmentShare = c.hiding.add(c.binding.multiplyUnsafe(rho));
  if (pkg.negateNonces) commitmentShare = commitmentShare.negate();
  const Y = pkg.negateKey ? verifyingShare.negate() : verifyingShare;
  const lhs = share === 0n ? curve.ZERO : curve.G.multiplyUnsafe(share);
  return lhs.equals(commitmentShare.add(Y.multiplyUnsafe(curve.mod(pkg.challenge * lambda))));
}

/** §5.3 `aggregate`: `R ‖ Σ z_j` in the ciphersuite's signature encoding. */
export function aggregateSignature(pkg: SigningPackage, shares: readonly bigint[]): Uint8Array {
  const { curve } = pkg.suite;
  let z = 0n;
  for (const s of shares) z = curve.mod(z + s);
  return HASHES[pkg.suite.ciphersuite].encode(pkg.groupCommitment, curve.encodeScalar(z));
}

/** Round-one output of one signer: its nonces (secret) and their commitments (public). */
export interface RoundOneNonces {
  /** `d` and `e`, scalar encodings: wipe them after their single use. */
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
  readonly commitment: SigningCommitment;
}

/**
 * RFC 9591 §5.1 `commit` (as noble's): `d = H3(random(32) ‖ SerializeScalar(s))`, then `e`
 * likewise with fresh randomness (hedged nonces, §4.1 `nonce_generate`), and `D = d·G`,
 * `E = e·G` by noble's constant-time multiplication, kept as points (no decoding again).
 */
export function commit(
  suite: FrostSuite,
  index: number,
  secret: Uint8Array,
  random: RandomSource,
): RoundOneNonces {
  const { curve } = suite;
  const h3 = HASHES[suite.ciphersuite].h3;
  const nonce = (): bigint => {
    const r = random(32);
    if (r.length !== 32) throw new RangeError('random source returned the wrong length');
    const input = concatBytes(r, secret);
    r.fill(0);
    // Non-constant-time BigInt reduction of a secret, as in noble (docs/constant-time.md).
    const k = h3(input);
    input.fill(0);
    if (k === 0n) throw new RangeError('zero nonce'); // probability 2^-252
    return k;
  };
  const d = nonce();
  const e = nonce();
  return {
    hiding: curve.encodeScalar(d),
    binding: curve.encodeScalar(e),
    commitment: {
      index,
      hiding: curve.G.multiply(d),
      binding: curve.G.multiply(e),
    },
  };
}
