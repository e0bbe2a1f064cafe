/**
 * The prime-order groups this package works in, behind one small interface, with strict
 * decoders: a scalar must be canonical and below the group order; a point must be canonical,
 * on the curve, not the identity, and (Ed25519) in the prime-order subgroup — RFC 9591 §3.1
 * `DeserializeElement`/`DeserializeScalar`, specs/dkls23.md "Conventions".
 *
 * - `secp256k1` (SEC 2): scalars 32 bytes big-endian, points 33-byte SEC1 compressed.
 * - `ed25519` (RFC 8032): scalars 32 bytes little-endian, points 32-byte RFC 8032 encoding.
 *
 * Group arithmetic comes from `@noble/curves`. `multiply` is constant-time; the `…Unsafe`
 * variants are only used on public values (verification).
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { MpcError } from './errors.js';

/** Supported curves. */
export type CurveName = 'ed25519' | 'secp256k1';

/** A group element; the concrete class is noble's point of the suite's curve. */
export interface GroupPoint {
  add(other: GroupPoint): GroupPoint;
  subtract(other: GroupPoint): GroupPoint;
  negate(): GroupPoint;
  multiply(scalar: bigint): GroupPoint;
  multiplyUnsafe(scalar: bigint): GroupPoint;
  equals(other: GroupPoint): boolean;
  is0(): boolean;
  toBytes(): Uint8Array;
}

/** Source of randomness; tests inject a deterministic one, production uses the default. */
export type RandomSource = (length: number) => Uint8Array;

/** Default randomness: `crypto.getRandomValues` through noble. */
export const defaultRandom: RandomSource = (n) => nobleRandomBytes(n);

/** One curve, its scalar field and its strict encodings. */
export interface CurveSuite {
  readonly name: CurveName;
  /** Wire identifier of the curve in key shares and session state. */
  readonly wireId: number;
  readonly order: bigint;
  readonly scalarLength: 32;
  readonly pointLength: number;
  readonly G: GroupPoint;
  readonly ZERO: GroupPoint;
  /** Scalar `k mod order`. */
  mod(k: bigint): bigint;
  inv(k: bigint): bigint;
  encodeScalar(k: bigint): Uint8Array;
  /** Strict: exactly 32 bytes, `< order`; zero rejected unless `allowZero`. */
  decodeScalar(bytes: Uint8Array, culprit?: number, allowZero?: boolean): bigint;
  encodePoint(p: GroupPoint): Uint8Array;
  /** Strict: canonical, on the curve, not the identity, prime-order subgroup. */
  decodePoint(bytes: Uint8Array, culprit?: number): GroupPoint;
  /**
   * {@link decodePoint} without the subgroup check (the expensive part on Ed25519, ~1 ms): only
   * for points validated by `decodePoint` before (a sealed nonce set), or whose use ends in a check
   * that fails for any torsion component (a signature verified with the cofactorless equation).
   */
  decodeValidatedPoint(bytes: Uint8Array, culprit?: number): GroupPoint;
  /** Uniform non-zero scalar (RFC 9380-style wide reduction of 48 random bytes). */
  randomScalar(random?: RandomSource): bigint;
}

function invalidScalar(culprit: number | undefined, detail: string): never {
  throw new MpcError('ERR_MPC_INVALID_SCALAR', { culprit, detail });
}

function invalidPoint(culprit: number | undefined, detail: string): never {
  throw new MpcError('ERR_MPC_INVALID_POINT', { culprit, detail });
}

function makeSuite(opts: {
  name: CurveName;
  wireId: number;
  Point: {
    BASE: unknown;
    ZERO: unknown;
    Fn: { ORDER: bigint; inv(k: bigint): bigint };
    fromBytes(b: Uint8Array): unknown;
  };
  littleEndian: boolean;
  pointLength: number;
  checkPoint: (bytes: Uint8Array, p: GroupPoint) => boolean;
  /** The encoding checks of `checkPoint`, without the subgroup check. */
  checkEncoding: (bytes: Uint8Array, p: GroupPoint) => boolean;
}): CurveSuite {
  const order = opts.Point.Fn.ORDER;
  const G = opts.Point.BASE as GroupPoint;
  const ZERO = opts.Point.ZERO as GroupPoint;
  const mod = (k: bigint): bigint => {
    const r = k % order;
    return r < 0n ? r + order : r;
  };
  const encodeScalar = (k: bigint): Uint8Array => {
    if (k < 0n || k >= order) throw new RangeError('scalar out of range');
    const out = new Uint8Array(32);
    let v = k;
    for (let i = 0; i < 32; i++) {
      out[opts.littleEndian ? i : 31 - i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return out;
  };
  const toNumber = opts.littleEndian ? bytesToNumberLE : bytesToNumberBE;
  const onCurve = (bytes: Uint8Array, culprit: number | undefined): GroupPoint => {
    if (!(bytes instanceof Uint8Array) || bytes.length !== opts.pointLength)
      invalidPoint(culprit, 'length');
    let p: GroupPoint;
    try {
      p = opts.Point.fromBytes(bytes) as GroupPoint;
    } catch {
      return invalidPoint(culprit, 'not on the curve');
    }
    if (p.is0()) invalidPoint(culprit, 'identity');
    return p;
  };
  return Object.freeze({
    name: opts.name,
    wireId: opts.wireId,
    order,
    scalarLength: 32 as const,
    pointLength: opts.pointLength,
    G,
    ZERO,
    mod,
    inv: (k: bigint) => opts.Point.Fn.inv(mod(k)),
    encodeScalar,
    decodeScalar(bytes: Uint8Array, culprit?: number, allowZero = false): bigint {
      if (!(bytes instanceof Uint8Array) || bytes.length !== 32) invalidScalar(culprit, 'length');
      const k = toNumber(bytes);
      if (k >= order) invalidScalar(culprit, 'not below the group order');
      if (k === 0n && !allowZero) invalidScalar(culprit, 'zero');
      return k;
    },
    encodePoint: (p: GroupPoint) => p.toBytes(),
    decodePoint(bytes: Uint8Array, culprit?: number): GroupPoint {
      const p = onCurve(bytes, culprit);
      if (!opts.checkPoint(bytes, p)) invalidPoint(culprit, 'non-canonical or small-order');
      return p;
    },
    decodeValidatedPoint(bytes: Uint8Array, culprit?: number): GroupPoint {
      const p = onCurve(bytes, culprit);
      if (!opts.checkEncoding(bytes, p)) invalidPoint(culprit, 'non-canonical or small-order');
      return p;
    },
    randomScalar(random: RandomSource = defaultRandom): bigint {
      // 48 bytes reduced mod order: statistical distance 2^-128 from uniform (RFC 9380 §5).
      for (;;) {
        const b = random(48);
        if (b.length !== 48) throw new RangeError('random source returned the wrong length');
        const k = mod(bytesToNumberBE(b));
        b.fill(0);
        if (k !== 0n) return k;
      }
    },
  });
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** secp256k1: compressed SEC1 points, big-endian scalars. */
export const secp256k1Suite: CurveSuite = makeSuite({
  name: 'secp256k1',
  wireId: 1,
  Point: secp256k1.Point,
  littleEndian: false,
  pointLength: 33,
  // Only the compressed form is accepted; fromBytes already checked the curve equation.
  checkPoint: (bytes) => bytes[0] === 0x02 || bytes[0] === 0x03,
  checkEncoding: (bytes) => bytes[0] === 0x02 || bytes[0] === 0x03,
});

/** Ed25519: RFC 8032 points restricted to the prime-order subgroup, little-endian scalars. */
export const ed25519Suite: CurveSuite = makeSuite({
  name: 'ed25519',
  wireId: 2,
  Point: ed25519.Point,
  littleEndian: true,
  pointLength: 32,
  checkPoint: (bytes, p) => {
    const ep = p as GroupPoint & { isTorsionFree(): boolean; isSmallOrder(): boolean };
    // Canonical encoding only (no y >= p, no "negative zero" x), no torsion component.
    return sameBytes(ep.toBytes(), bytes) && !ep.isSmallOrder() && ep.isTorsionFree();
  },
  checkEncoding: (bytes, p) => {
    const ep = p as GroupPoint & { isSmallOrder(): boolean };
    return sameBytes(ep.toBytes(), bytes) && !ep.isSmallOrder();
  },
});

/** The suite of a curve name. */
export function curveSuite(name: CurveName): CurveSuite {
  if (name === 'ed25519') return ed25519Suite;
  if (name === 'secp256k1') return secp256k1Suite;
  throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'unknown curve' });
}

/** The suite of a wire identifier. */
export function curveSuiteByWireId(id: number, culprit?: number): CurveSuite {
  if (id === secp256k1Suite.wireId) return secp256k1Suite;
  if (id === ed25519Suite.wireId) return ed25519Suite;
  throw new MpcError('ERR_MPC_MALFORMED', { culprit, detail: 'unknown curve id' });
}
