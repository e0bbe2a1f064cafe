/**
 * A party's key share of one share set (ARCHITECTURE.md §3), and its versioned binary export
 * for encrypted storage. The format carries no encryption: the co-signer seals the bytes
 * (AES-256-GCM under its store key, ARCHITECTURE.md §9) and wipes them after use.
 *
 * Format, version 1 (integers big-endian):
 *
 * ```
 * "CSKS" | u8 version = 1 | u8 curve (1 secp256k1, 2 ed25519) | u8 threshold | u8 n
 *        | u16 index | n × u16 parties (ascending) | 32 signing share (curve scalar encoding)
 *        | point group public key | 32 chain code | n × point verification shares
 * ```
 *
 * Import (`importKeyShare`, frost-share-set.ts) re-checks everything a corrupted or tampered
 * blob could break: ranges, curve points, `share·G = X_index`, and that the verification shares
 * lie on one polynomial of degree t − 1 whose value at zero is the group public key.
 * @module
 */
import { ByteReader, ByteWriter, wipe } from './bytes.js';
import {
  curveSuite,
  curveSuiteByWireId,
  type CurveName,
  type CurveSuite,
  type GroupPoint,
} from './curve-suite.js';
import { MpcError, isMpcError } from './errors.js';
import { MAX_PARTIES, assertThreshold, lagrangeAtZero, normalizeParties } from './party-set.js';
import { INSPECT, REDACTED, inspectSummary } from './redact.js';

/** Public description of a share set: what every member and any verifier may know. */
export interface PublicShareSet {
  readonly curve: CurveName;
  readonly threshold: number;
  /** Share indices of the members, ascending. */
  readonly parties: readonly number[];
  /** Group public key (33-byte compressed secp256k1, 32-byte Ed25519). */
  readonly publicKey: Uint8Array;
  /** 32-byte chain code fixed at DKG (BIP32). */
  readonly chainCode: Uint8Array;
  /** `X_j = x_j·G` for each party, aligned with `parties`. */
  readonly verificationShares: readonly Uint8Array[];
}

/** One party's key share: the public share set plus its secret signing share. */
export interface KeyShare extends PublicShareSet {
  /** This party's index (its Shamir evaluation point). */
  readonly index: number;
  /** Secret signing share `x_index`, 32-byte scalar encoding of the curve. Never log it. */
  readonly signingShare: Uint8Array;
}

const MAGIC = Uint8Array.of(0x43, 0x53, 0x4b, 0x53); // "CSKS"
const VERSION = 1;

/** The public part of a key share (for a reshare's new members, or a verifier). */
export function publicShareSet(share: PublicShareSet): PublicShareSet {
  return {
    curve: share.curve,
    threshold: share.threshold,
    parties: [...share.parties],
    publicKey: share.publicKey.slice(),
    chainCode: share.chainCode.slice(),
    verificationShares: share.verificationShares.map((v) => v.slice()),
  };
}

/** Deep copy of a key share (no validation), with the redaction hooks of {@link redactKeyShare}. */
export function copyKeyShare(share: KeyShare): KeyShare {
  return redactKeyShare({
    ...publicShareSet(share),
    index: share.index,
    signingShare: share.signingShare.slice(),
  });
}

/** Public fields of a key share, the signing share replaced by a placeholder. */
function keyShareSummary(share: KeyShare): Record<string, unknown> {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return {
    curve: share.curve,
    threshold: share.threshold,
    parties: [...share.parties],
    index: share.index,
    signingShare: REDACTED,
    publicKey: hex(share.publicKey),
    chainCode: hex(share.chainCode),
    verificationShares: share.verificationShares.map(hex),
  };
}

/**
 * Gives a key share object non-enumerable `toJSON` and `util.inspect` hooks that print its
 * public fields only, so a logged or stringified key share never shows the signing share.
 * Every key share this package returns has them; a spread copy (`{ ...share }`) loses them.
 * Export with {@link exportKeyShare} for storage.
 */
export function redactKeyShare<T extends KeyShare>(share: T): T {
  Object.defineProperty(share, 'toJSON', {
    value: () => keyShareSummary(share),
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(share, INSPECT, {
    value: (_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string) =>
      inspectSummary('KeyShare', keyShareSummary(share), options, inspect),
    enumerable: false,
    configurable: true,
  });
  return share;
}

/** Serializes a public share set (canonical; used as a hash input). */
export function encodePublicShareSet(p: PublicShareSet): Uint8Array {
  const suite = curveSuite(p.curve);
  const w = new ByteWriter().u8(suite.wireId).u8(p.threshold).u8(p.parties.length);
  for (const i of p.parties) w.u16(i);
  w.raw(p.publicKey).raw(p.chainCode);
  for (const v of p.verificationShares) w.raw(v);
  return w.finish();
}

/**
 * Parses {@link encodePublicShareSet} output: structure only (curve id, counts, lengths); run
 * {@link checkPublicShareSet} on the result before use.
 */
export function decodePublicShareSet(bytes: Uint8Array): PublicShareSet {
  const r = new ByteReader(bytes, 'share set');
  const suite = curveSuiteByWireId(r.u8());
  const threshold = r.u8();
  const n = r.u8();
  if (n < 2 || n > MAX_PARTIES) r.fail('party count');
  const parties: number[] = [];
  for (let i = 0; i < n; i++) parties.push(r.u16());
  const publicKey = r.take(suite.pointLength);
  const chainCode = r.take(32);
  const verificationShares: Uint8Array[] = [];
  for (let i = 0; i < n; i++) verificationShares.push(r.take(suite.pointLength));
  r.end();
  return { curve: suite.name, threshold, parties, publicKey, chainCode, verificationShares };
}

/** Decoded and checked points of a public share set. */
export interface CheckedShareSet {
  readonly suite: CurveSuite;
  readonly publicKey: GroupPoint;
  readonly verificationShares: ReadonlyMap<number, GroupPoint>;
}

/**
 * Validates a public share set: parties, threshold, points, chain code, and that the
 * verification shares interpolate (degree t − 1) to the public key. Throws `code`.
 */
export function checkPublicShareSet(
  p: PublicShareSet,
  code: 'ERR_MPC_KEY_SHARE' | 'ERR_MPC_INVALID_PARAMS' = 'ERR_MPC_KEY_SHARE',
): CheckedShareSet {
  try {
    const suite = curveSuite(p.curve);
    const parties = normalizeParties(p.parties);
    if (parties.some((v, i) => v !== p.parties[i]))
      throw new MpcError(code, { detail: 'parties not sorted' });
    if (parties.length < 2) throw new MpcError(code, { detail: 'fewer than two parties' });
    assertThreshold(p.threshold, parties.length);
    if (!(p.chainCode instanceof Uint8Array) || p.chainCode.length !== 32)
      throw new MpcError(code, { detail: 'chain code' });
    if (!Array.isArray(p.verificationShares) || p.verificationShares.length !== parties.length)
      throw new MpcError(code, { detail: 'verification shares' });
    const publicKey = suite.decodePoint(p.publicKey);
    const shares = new Map<number, GroupPoint>();
    parties.forEach((j, idx) =>
      shares.set(j, suite.decodePoint(p.verificationShares[idx] as Uint8Array)),
    );
    // Every verification share must be the evaluation of the polynomial through the first t.
    const base = parties.slice(0, p.threshold);
    const at = (x: number): GroupPoint => interpolateInExponent(suite, base, shares, x);
    if (!at(0).equals(publicKey))
      throw new MpcError(code, { detail: 'public key does not match the shares' });
    for (const j of parties.slice(p.threshold))
      if (!at(j).equals(shares.get(j) as GroupPoint))
        throw new MpcError(code, { detail: 'inconsistent verification shares' });
    return { suite, publicKey, verificationShares: shares };
  } catch (e) {
    if (isMpcError(e, code)) throw e;
    throw new MpcError(code, { detail: isMpcError(e) ? e.code : 'invalid', cause: e });
  }
}

/** `Σ_{j∈base} λ_j(x)·P_j`: Lagrange interpolation at `x` in the exponent (public values). */
function interpolateInExponent(
  suite: CurveSuite,
  base: readonly number[],
  points: ReadonlyMap<number, GroupPoint>,
  x: number,
): GroupPoint {
  let acc = suite.ZERO;
  for (const j of base) {
    // λ_j(x) = Π_{m≠j} (x − m) / (j − m)
    let num = 1n;
    let den = 1n;
    for (const m of base) {
      if (m === j) continue;
      num = suite.mod(num * BigInt(x - m));
      den = suite.mod(den * BigInt(j - m));
    }
    const l = suite.mod(num * suite.inv(den));
    acc = acc.add((points.get(j) as GroupPoint).multiplyUnsafe(l));
  }
  return acc;
}

/** Validates a key share (public part and `share·G = X_index`); returns its signing scalar. */
export function checkKeyShare(share: KeyShare): { checked: CheckedShareSet; secret: bigint } {
  const checked = checkPublicShareSet(share);
  return { checked, secret: checkSigningShare(share, checked) };
}

/**
 * The secret half of {@link checkKeyShare}, against an already checked public part: the index is
 * a member, the signing share is a canonical non-zero scalar and `x_i·G = X_i` (constant-time
 * multiplication). Returns the signing scalar.
 */
export function checkSigningShare(share: KeyShare, checked: CheckedShareSet): bigint {
  const X = checked.verificationShares.get(share.index);
  if (X === undefined) throw new MpcError('ERR_MPC_KEY_SHARE', { detail: 'index not in parties' });
  let secret: bigint;
  try {
    secret = checked.suite.decodeScalar(share.signingShare);
  } catch (e) {
    throw new MpcError('ERR_MPC_KEY_SHARE', { detail: 'signing share', cause: e });
  }
  if (!checked.suite.G.multiply(secret).equals(X))
    throw new MpcError('ERR_MPC_KEY_SHARE', {
      detail: 'signing share does not match its verification share',
    });
  return secret;
}

/** Serializes a key share (secret: seal before storing, wipe after use). */
export function exportKeyShare(share: KeyShare): Uint8Array {
  checkKeyShare(share);
  const suite = curveSuite(share.curve);
  const w = new ByteWriter()
    .raw(MAGIC)
    .u8(VERSION)
    .u8(suite.wireId)
    .u8(share.threshold)
    .u8(share.parties.length);
  w.u16(share.index);
  for (const i of share.parties) w.u16(i);
  w.raw(share.signingShare).raw(share.publicKey).raw(share.chainCode);
  for (const v of share.verificationShares) w.raw(v);
  return w.finish();
}

/**
 * Parses an exported key share without checking its content (`ERR_MPC_MALFORMED` on a bad
 * structure). `importKeyShare` (frost-share-set.ts) is this plus every check.
 */
export function decodeKeyShare(bytes: Uint8Array): KeyShare {
  const r = new ByteReader(bytes, 'key share');
  const magic = r.take(4);
  if (!magic.every((b, i) => b === MAGIC[i])) r.fail('bad magic');
  const version = r.u8();
  if (version !== VERSION)
    throw new MpcError('ERR_MPC_KEY_SHARE', { detail: `unsupported version ${version}` });
  const suite = curveSuiteByWireId(r.u8());
  const threshold = r.u8();
  const n = r.u8();
  if (n < 2 || n > MAX_PARTIES) r.fail('party count');
  const index = r.u16();
  const parties: number[] = [];
  for (let i = 0; i < n; i++) parties.push(r.u16());
  const signingShare = r.take(32);
  const publicKey = r.take(suite.pointLength);
  const chainCode = r.take(32);
  const verificationShares: Uint8Array[] = [];
  for (let i = 0; i < n; i++) verificationShares.push(r.take(suite.pointLength));
  try {
    r.end();
  } catch (e) {
    wipe(signingShare);
    throw e;
  }
  return redactKeyShare({
    curve: suite.name,
    threshold,
    parties,
    index,
    signingShare,
    publicKey,
    chainCode,
    verificationShares,
  });
}

/** Overwrites the signing share of a key share object. */
export function wipeKeyShare(share: KeyShare): void {
  wipe(share.signingShare);
}

/** Lagrange coefficient helper re-exported for protocols working on a share set. */
export function lagrange(suite: CurveSuite, i: number, set: readonly number[]): bigint {
  return lagrangeAtZero(i, set, suite.order, (k) => suite.inv(k));
}
