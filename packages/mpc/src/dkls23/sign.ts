/**
 * The online round of DKLs23 (Protocol 3.6, round 3, ePrint 2023/765 §3), with the additive
 * re-randomisation of Groth–Shoup (ePrint 2021/1330, §6 "presignatures with re-randomisation")
 * and BIP32 additive key derivation applied to the presignature (specs/dkls23.md, "Signing",
 * Online; ARCHITECTURE.md §3 "Derivation").
 *
 * Party i, with its presignature (sid, S, R, φ_i, u_i, v_i), message hash h, public tweak τd of
 * the path, δ = Hq("rerand", sid, R, h, path, S):
 *   R' = R + δ·G, u'_i = u_i + δ·φ_i, v'_i = v_i + τd·φ_i, r = x(R') mod q,
 *   w_i = h·φ_i + r·v'_i; broadcast (u'_i, w_i).
 * Anyone: s = Σ w / Σ u' — since Σ u' = (k + δ)·φ and Σ w = φ·(h + r·(x + τd)), (r, s) is an
 * ECDSA signature with nonce k + δ under X + τd·G. It is verified before release, normalised
 * to low s (BIP62/EIP-2) and given its recovery id from R'.
 *
 * One broadcast round, no session object: the share is bound to its context by a digest, and
 * the presignature is marked spent in the caller's durable store *before* the share exists
 * ("Consumption rule"). Session-framework sessions need a confirmation round ≥ 2, which a
 * one-round protocol cannot have (docs/dkls23-notes.md).
 * @module
 */
import { ByteReader, ByteWriter, constantTimeEqual, u16be, u32be } from '../bytes.js';
import { secp256k1Suite, type GroupPoint } from '../curve-suite.js';
import { deriveKey, parsePath, type DerivationPath } from '../derivation.js';
import { MpcError } from '../errors.js';
import { type PublicShareSet } from '../key-share.js';
import { bytesToBigint, dkls23Hasher, fastHashToScalar, modQ, Q } from './hashing.js';
import { shareSetId } from './key-share.js';
import {
  presignatureId,
  wipePresignature,
  type Dkls23Presignature,
  type PresignatureStore,
} from './presignature.js';

const suite = secp256k1Suite;
const MAGIC = Uint8Array.of(0x43, 0x53, 0x53, 0x53); // "CSSS"
const VERSION = 1;

/** Parameters of {@link createSignatureShare}. */
export interface Dkls23SignParams {
  readonly presignature: Dkls23Presignature;
  /** The share set the presignature was made with (its public part is enough). */
  readonly shareSet: PublicShareSet;
  /** The 32-byte message hash (e.g. keccak256 of the transaction, or a Bitcoin sighash). */
  readonly messageHash: Uint8Array;
  /** Non-hardened BIP32 path from the root key; omitted = the root key. */
  readonly path?: DerivationPath;
  /** Durable spent-marker; the share is only computed after it recorded the presignature. */
  readonly store: PresignatureStore;
}

/** The public context of one online signature, the same for every signer. */
export interface Dkls23SigningContext {
  readonly sid: Uint8Array;
  readonly signers: readonly number[];
  /** R' = R + δ·G. */
  readonly R: GroupPoint;
  readonly r: bigint;
  readonly h: bigint;
  /** The derived public key X + τd·G, 33-byte compressed. */
  readonly publicKey: Uint8Array;
  /** Binds a share to sid, share set, R, h, path and S. */
  readonly digest: Uint8Array;
}

/** A verified ECDSA signature. */
export interface Dkls23Signature {
  readonly r: bigint;
  /** Low-s. */
  readonly s: bigint;
  /** 0..3: bit 0 = parity of y(R'), bit 1 = x(R') ≥ q. */
  readonly recovery: number;
  /** r ‖ s, 64 bytes. */
  readonly compact: Uint8Array;
  /** The derived public key the signature verifies under, 33-byte compressed. */
  readonly publicKey: Uint8Array;
}

const DERIVATION_CACHE_SIZE = 1024;
const derivations = new Map<string, { tweak: bigint; publicKey: Uint8Array }>();

/**
 * BIP32 derivation from public data, memoised (a path costs one base multiplication per level,
 * several times the whole online round; the same addresses sign again and again).
 */
function derived(
  shareSet: PublicShareSet,
  indices: readonly number[],
): { tweak: bigint; publicKey: Uint8Array } {
  const key = `${Buffer.from(shareSet.publicKey).toString('hex')}/${Buffer.from(shareSet.chainCode).toString('hex')}/${indices.join('/')}`;
  let d = derivations.get(key);
  if (d === undefined) {
    const { tweak, publicKey } = deriveKey(shareSet, indices);
    d = { tweak, publicKey };
    if (derivations.size >= DERIVATION_CACHE_SIZE) {
      const oldest = derivations.keys().next();
      if (oldest.done !== true) derivations.delete(oldest.value);
    }
    derivations.set(key, d);
  }
  return { tweak: d.tweak, publicKey: d.publicKey.slice() };
}

/** The public signing context (no secrets): recomputed by every signer and the combiner. */
export function signingContext(
  presignature: Pick<Dkls23Presignature, 'sid' | 'signers' | 'R' | 'shareSetId'>,
  shareSet: PublicShareSet,
  messageHash: Uint8Array,
  path: DerivationPath = [],
): Dkls23SigningContext & { delta: bigint; tweak: bigint } {
  if (!(messageHash instanceof Uint8Array) || messageHash.length !== 32)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'message hash must be 32 bytes' });
  const setId = shareSetId(shareSet);
  if (!constantTimeEqual(setId, presignature.shareSetId))
    throw new MpcError('ERR_MPC_PRESIGNATURE', { detail: 'made with another share set' });
  const indices = parsePath(path);
  const { tweak, publicKey } = derived(shareSet, indices);
  const pathBytes = new ByteWriter();
  for (const i of indices) pathBytes.raw(u32be(i));
  const roster = Uint8Array.from(presignature.signers.flatMap((s) => [...u16be(s)]));
  const R = suite.decodePoint(presignature.R);
  // h: the hash as an integer mod q (SEC 1 §4.1.3 step 5 for a 256-bit hash).
  const h = bytesToBigint(messageHash) % Q;
  // Hq on native SHA-256 (the same RFC 9380 function as dkls23Hasher.hashToScalar).
  const delta = fastHashToScalar(
    'rerand',
    presignature.sid,
    presignature.R,
    messageHash,
    pathBytes.finish(),
    roster,
  );
  // δ is public (derived from public values): variable-time base multiplication is fine.
  const Rp = delta === 0n ? R : R.add(suite.G.multiplyUnsafe(delta));
  if (Rp.is0()) throw new MpcError('ERR_MPC_PRESIGNATURE', { detail: "R' is the identity" });
  const RpBytes = Rp.toBytes();
  const x = bytesToBigint(RpBytes.subarray(1));
  const r = x % Q;
  if (r === 0n) throw new MpcError('ERR_MPC_PRESIGNATURE', { detail: 'r = 0' });
  const digest = dkls23Hasher.hash(
    'sign/context',
    presignature.sid,
    setId,
    RpBytes,
    messageHash,
    publicKey,
    roster,
  );
  return {
    sid: presignature.sid.slice(),
    signers: [...presignature.signers],
    R: Rp,
    r,
    h,
    publicKey,
    digest,
    delta,
    tweak,
  };
}

/**
 * Consumes the presignature and returns this party's broadcast share `(u'_i, w_i)` with the
 * public context for {@link combineSignatureShares}. Refuses a presignature the store has seen
 * (`ERR_MPC_PRESIGNATURE_SPENT`); wipes φ, u, v once used.
 */
export async function createSignatureShare(
  params: Dkls23SignParams,
): Promise<{ share: Uint8Array; context: Dkls23SigningContext }> {
  const { presignature: p } = params;
  const ctx = signingContext(p, params.shareSet, params.messageHash, params.path ?? []);
  const phi = suite.decodeScalar(p.phi);
  const u = suite.decodeScalar(p.u, undefined, true);
  const v = suite.decodeScalar(p.v, undefined, true);
  if (!(await params.store.markSpent(presignatureId(p))))
    throw new MpcError('ERR_MPC_PRESIGNATURE_SPENT');
  wipePresignature(p);
  const uPrime = modQ(u + ctx.delta * phi);
  const vPrime = modQ(v + ctx.tweak * phi);
  const w = modQ(ctx.h * phi + ctx.r * vPrime);
  const share = new ByteWriter()
    .raw(MAGIC)
    .u8(VERSION)
    .u8(ctx.sid.length)
    .raw(ctx.sid)
    .u16(p.index)
    .raw(ctx.digest)
    .raw(suite.encodeScalar(uPrime))
    .raw(suite.encodeScalar(w))
    .finish();
  const { delta: _d, tweak: _t, ...context } = ctx;
  void _d;
  void _t;
  return { share, context };
}

/** Strict decoding of one share against the context; names its sender. */
export function decodeSignatureShare(
  context: Dkls23SigningContext,
  bytes: Uint8Array,
): { from: number; u: bigint; w: bigint } {
  const r = new ByteReader(bytes, 'signature share');
  if (!r.take(4).every((b, i) => b === MAGIC[i])) r.fail('bad magic');
  if (r.u8() !== VERSION) r.fail('version');
  const sid = r.take(r.u8());
  const from = r.u16();
  const digest = r.take(32);
  const uBytes = r.take(32);
  const wBytes = r.take(32);
  r.end();
  if (!context.signers.includes(from))
    throw new MpcError('ERR_MPC_INVALID_PARTY', { culprit: from, detail: 'not a signer' });
  if (sid.length !== context.sid.length || !constantTimeEqual(sid, context.sid))
    throw new MpcError('ERR_MPC_WRONG_SESSION', { culprit: from });
  if (!constantTimeEqual(digest, context.digest))
    throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', { culprit: from });
  return {
    from,
    u: suite.decodeScalar(uBytes, from, true),
    w: suite.decodeScalar(wBytes, from, true),
  };
}

/**
 * Combines the shares of every signer (mine included): s = Σ w / Σ u', verified against the
 * derived public key before it is returned, low-s, with its recovery id.
 */
export function combineSignatureShares(
  context: Dkls23SigningContext,
  shares: readonly Uint8Array[],
): Dkls23Signature {
  const seen = new Map<number, { u: bigint; w: bigint }>();
  for (const bytes of shares) {
    const d = decodeSignatureShare(context, bytes);
    if (seen.has(d.from)) throw new MpcError('ERR_MPC_DUPLICATE_MESSAGE', { culprit: d.from });
    seen.set(d.from, d);
  }
  for (const j of context.signers)
    if (!seen.has(j))
      throw new MpcError('ERR_MPC_UNEXPECTED_MESSAGE', { culprit: j, detail: 'missing share' });
  let uSum = 0n;
  let wSum = 0n;
  for (const { u, w } of seen.values()) {
    uSum += u;
    wSum += w;
  }
  uSum = modQ(uSum);
  if (uSum === 0n) throw new MpcError('ERR_MPC_SIGNATURE_INVALID');
  let s = modQ(wSum * suite.inv(uSum));
  if (s === 0n) throw new MpcError('ERR_MPC_SIGNATURE_INVALID');
  // Verify (public values only): x(h/s·G + r/s·X') mod q = r.
  const X = suite.decodePoint(context.publicKey);
  const sInv = suite.inv(s);
  const P = suite.G.multiplyUnsafe(modQ(context.h * sInv)).add(
    X.multiplyUnsafe(modQ(context.r * sInv)),
  );
  if (P.is0() || bytesToBigint(P.toBytes().subarray(1)) % Q !== context.r)
    throw new MpcError('ERR_MPC_SIGNATURE_INVALID');
  const Rb = context.R.toBytes();
  let recovery = (Rb[0] === 0x03 ? 1 : 0) | (bytesToBigint(Rb.subarray(1)) >= Q ? 2 : 0);
  if (s > Q >> 1n) {
    s = Q - s;
    recovery ^= 1;
  }
  const compact = new Uint8Array(64);
  compact.set(suite.encodeScalar(context.r));
  compact.set(suite.encodeScalar(s), 32);
  return { r: context.r, s, recovery, compact, publicKey: context.publicKey.slice() };
}
