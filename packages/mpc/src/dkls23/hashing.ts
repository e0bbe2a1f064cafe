/**
 * Hashing of the DKLs23 protocols (specs/dkls23.md, "Conventions"): the `dkls23` domain hasher
 * (`H`, `Hq`), the per-pair, per-direction session ids, and two bulk helpers on native SHA-2
 * (`node:crypto`) for the hot loops of the OT extension and the RVOLE, where the one-call
 * overhead of a JavaScript SHA-256 dominated the presigning profile (docs/dkls23-notes.md).
 *
 * - `H(tag, f…)` = SHA-256(`"countersign/dkls23/v1/" ‖ tag` ‖ (len32(f) ‖ f)…): `dkls23Hasher.hash`
 *   and, byte for byte the same, {@link fastHash}.
 * - `Hq(tag, f…)`: RFC 9380 §5.2 `hash_to_field` (expand_message_xmd, SHA-256, 48 bytes mod q):
 *   `dkls23Hasher.hashToScalar` and, the same function on native SHA-256, {@link fastHashToScalar}.
 * - `sid_pair = H("pair", ctx…, i, j, role)`: every sub-protocol instance between an ordered pair
 *   gets its own id — reusing one id across pairs or directions is a known break (spec,
 *   "Conventions").
 * @module
 */
import { hash as nativeHash } from 'node:crypto';
import { u16be, u32be } from '../bytes.js';
import { secp256k1Suite } from '../curve-suite.js';
import {
  domainHasher,
  encodedFieldsLength,
  encodeFields,
  label,
  writeFields,
  type DomainHasher,
} from '../hash.js';

/** The `countersign/dkls23/v1/` hasher. */
export const dkls23Hasher: DomainHasher = domainHasher('dkls23');

/** Order of secp256k1, `q`. */
export const Q = secp256k1Suite.order;

const encoder = new TextEncoder();

/** Protocol ids of the DKLs23 sessions. */
export const dkls23ProtocolIds = {
  dkg: 'dkls23-secp256k1/dkg/v1',
  reshare: 'dkls23-secp256k1/reshare/v1',
  refresh: 'dkls23-secp256k1/refresh/v1',
  presign: 'dkls23-secp256k1/presign/v2',
} as const;

/** First hash fields of every DKLs23 hash in a session: protocol id and sid. */
export function sessionContext(protocol: string, sid: Uint8Array): Uint8Array[] {
  return [label(protocol), sid];
}

/** Roles of pairwise sub-protocols; part of every pair session id. */
export type PairRole = 'base-ot' | 'zero-seed' | 'ot-ext' | 'rvole';

/**
 * `sid_pair = H("pair", ctx…, i, j, role)` for the ordered pair (i, j): for OTs, i is the
 * extension sender (Alice, the base-OT receiver) and j the extension receiver (Bob).
 */
export function pairSessionId(
  context: readonly Uint8Array[],
  i: number,
  j: number,
  role: PairRole,
): Uint8Array {
  return dkls23Hasher.hash('pair', ...context, u16be(i), u16be(j), label(role));
}

/** `H(tag, fields…)` on native SHA-256; identical output to `dkls23Hasher.hash`. */
export function fastHash(tag: string, ...fields: Uint8Array[]): Uint8Array {
  return digest('sha256', tag, fields);
}

/** The same framing with SHA-512 (64 bytes), for PRG blocks and scalar expansion. */
export function fastHash512(tag: string, ...fields: Uint8Array[]): Uint8Array {
  return digest('sha512', tag, fields);
}

const prefixes = new Map<string, Uint8Array>();

function prefixOf(tag: string): Uint8Array {
  let p = prefixes.get(tag);
  if (p === undefined) prefixes.set(tag, (p = encoder.encode(dkls23Hasher.prefix + tag)));
  return p;
}

function digest(alg: 'sha256' | 'sha512', tag: string, fields: Uint8Array[]): Uint8Array {
  const prefix = prefixOf(tag);
  const input = new Uint8Array(prefix.length + encodedFieldsLength(fields));
  input.set(prefix);
  writeFields(input, prefix.length, fields);
  const out = new Uint8Array(nativeHash(alg, input, 'buffer'));
  input.fill(0);
  return out;
}

/**
 * A reusable hash input `prefix ‖ tag ‖ (len32(f) ‖ f)…` with fixed field lengths, patched in
 * place between calls: the hot loops (PRG blocks, random-OT pads, gadget) hash thousands of
 * inputs that differ in a counter or a row only. Same bytes as {@link fastHash}'s framing.
 */
export class FramedInput {
  // #private: the input holds secrets while in use (PRG keys, OT rows; review L1).
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #offsets: number[] = [];

  constructor(tag: string, fieldLengths: readonly number[]) {
    const prefix = prefixOf(tag);
    const total = fieldLengths.reduce((n, l) => n + 4 + l, prefix.length);
    this.#bytes = new Uint8Array(total);
    this.#bytes.set(prefix);
    let off = prefix.length;
    const view = (this.#view = new DataView(this.#bytes.buffer));
    for (const l of fieldLengths) {
      view.setUint32(off, l, false);
      this.#offsets.push(off + 4);
      off += 4 + l;
    }
  }

  /** Writes field `i` (its length was fixed at construction). */
  set(i: number, value: Uint8Array): this {
    this.#bytes.set(value, this.#offsets[i]);
    return this;
  }

  /** Writes field `i` as a 4-byte big-endian integer. */
  setU32(i: number, v: number): this {
    this.#view.setUint32(this.#offsets[i] ?? 0, v, false);
    return this;
  }

  sha256(): Buffer {
    return nativeHash('sha256', this.#bytes, 'buffer');
  }

  sha512(): Buffer {
    return nativeHash('sha512', this.#bytes, 'buffer');
  }

  /**
   * The digests as hex strings: on Node 20 a string result costs half of a Buffer result (no
   * ArrayBuffer per call), which the hot loops feed to `BigInt` or write into their own
   * buffers. Only where the digest is public or already becomes a BigInt: a string cannot be
   * wiped.
   */
  sha256Hex(): string {
    return nativeHash('sha256', this.#bytes, 'hex');
  }

  sha512Hex(): string {
    return nativeHash('sha512', this.#bytes, 'hex');
  }

  wipe(): void {
    this.#bytes.fill(0);
  }
}

/**
 * The steps of RFC 9380 §5.3.1 `expand_message_xmd` (SHA-256, len_in_bytes = 48, so ell = 2)
 * after b_0, then §5.2 `hash_to_field` for one element of Z_q: the 48 uniform bytes b_1 ‖
 * b_2[0..16] as a big-endian integer mod q. One instance per DST, its buffers reused.
 */
class XmdScalar {
  /** `b ‖ I2OSP(i, 1) ‖ DST'`, the input of b_1 (b = b_0) and b_2 (b = b_0 ⊕ b_1). */
  readonly #m1: Buffer;
  readonly #m1Words: Uint32Array;
  /** b_1 ‖ b_2[0..16]. */
  readonly #uniform: Buffer;
  readonly #uniformWords: Uint32Array;
  readonly #uniformView: DataView;

  constructor(dstPrime: Uint8Array) {
    // Own, 4-aligned ArrayBuffers: the XOR below runs on 32-bit words.
    const m1 = new ArrayBuffer(36 + dstPrime.length);
    this.#m1 = Buffer.from(m1, 0, 33 + dstPrime.length);
    this.#m1.set(dstPrime, 33);
    this.#m1Words = new Uint32Array(m1, 0, 8);
    const uniform = new ArrayBuffer(48);
    this.#uniform = Buffer.from(uniform);
    this.#uniformWords = new Uint32Array(uniform, 0, 8);
    this.#uniformView = new DataView(uniform);
  }

  /**
   * From msg' = Z_pad ‖ msg ‖ I2OSP(48, 2) ‖ I2OSP(0, 1) ‖ DST', the scalar. If `isPublic`, the
   * digests come as latin1 ("binary") strings, one char per byte, written back byte for byte: on
   * Node 20 that costs a third of a Buffer result (no ArrayBuffer per call), but a string cannot
   * be wiped. Otherwise Buffers, wiped with the scratch after use.
   */
  scalar(m0: Uint8Array, isPublic: boolean): bigint {
    const m1 = this.#m1;
    const u = this.#uniform;
    const m1w = this.#m1Words;
    const uw = this.#uniformWords;
    if (isPublic) {
      m1.write(nativeHash('sha256', m0, 'binary'), 0, 32, 'binary');
      m1[32] = 1;
      u.write(nativeHash('sha256', m1, 'binary'), 0, 32, 'binary');
    } else {
      copyWiping(nativeHash('sha256', m0, 'buffer'), m1, 0);
      m1[32] = 1;
      copyWiping(nativeHash('sha256', m1, 'buffer'), u, 0);
    }
    for (let i = 0; i < 8; i++) m1w[i] = (m1w[i] ?? 0) ^ (uw[i] ?? 0); // b_0 ⊕ b_1
    m1[32] = 2;
    if (isPublic) u.write(nativeHash('sha256', m1, 'binary'), 32, 16, 'binary');
    else copyWiping(nativeHash('sha256', m1, 'buffer').subarray(0, 32), u, 32);
    const v = this.#uniformView;
    const scalar =
      ((uint256At(v, 0) << 128n) | (v.getBigUint64(32, false) << 64n) | v.getBigUint64(40, false)) %
      Q;
    if (!isPublic) {
      m1.fill(0, 0, 32);
      u.fill(0);
    }
    return scalar;
  }
}

/** Copies the head of `digest` that fits into `out` at `offset`, then wipes `digest`. */
function copyWiping(digest: Buffer, out: Uint8Array, offset: number): void {
  out.set(digest.subarray(0, Math.min(digest.length, out.length - offset)), offset);
  digest.fill(0);
}

const xmdByTag = new Map<string, { dstPrime: Uint8Array; xmd: XmdScalar }>();

/** DST' = DST ‖ I2OSP(len(DST), 1) with DST = prefix ‖ tag, and its {@link XmdScalar}. */
function xmdOf(tag: string): { dstPrime: Uint8Array; xmd: XmdScalar } {
  let entry = xmdByTag.get(tag);
  if (entry === undefined) {
    const dst = prefixOf(tag);
    if (dst.length > 255) throw new RangeError('DST too long');
    const dstPrime = new Uint8Array(dst.length + 1);
    dstPrime.set(dst);
    dstPrime[dst.length] = dst.length;
    xmdByTag.set(tag, (entry = { dstPrime, xmd: new XmdScalar(dstPrime) }));
  }
  return entry;
}

/**
 * msg' = Z_pad(64) ‖ msg ‖ I2OSP(48, 2) ‖ I2OSP(0, 1) ‖ DST' with room for `msgLength` bytes of
 * msg at offset 64, to be written by the caller.
 */
function xmdInput(msgLength: number, dstPrime: Uint8Array): Uint8Array {
  const m0 = new Uint8Array(64 + msgLength + 3 + dstPrime.length);
  m0[64 + msgLength + 1] = 48;
  m0.set(dstPrime, 64 + msgLength + 3);
  return m0;
}

/**
 * `Hq(tag, fields…)`: RFC 9380 §5.2 `hash_to_field(msg, 1)` with §5.3.1 `expand_message_xmd`
 * (SHA-256, L = 48, DST = prefix ‖ tag), `msg` the length-prefixed fields. Identical to
 * `dkls23Hasher.hashToScalar(Q, …)` (tested), about ten times faster on native SHA-256. The
 * fields may be secret (zero-share seeds): every intermediate is wiped.
 */
export function fastHashToScalar(tag: string, ...fields: Uint8Array[]): bigint {
  const { dstPrime, xmd } = xmdOf(tag);
  const m0 = xmdInput(encodedFieldsLength(fields), dstPrime);
  writeFields(m0, 64, fields);
  const scalar = xmd.scalar(m0, false);
  m0.fill(0);
  return scalar;
}

/** Big-endian bytes → bigint (any length), via native hex. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'));
}

/**
 * The 32 bytes at `offset` of `view` as a big-endian integer (not reduced): four 64-bit reads,
 * about three times faster than a hex round trip on the hot loops (random-OT pads, τ, gadget).
 */
export function uint256At(view: DataView, offset: number): bigint {
  return (
    (view.getBigUint64(offset, false) << 192n) |
    (view.getBigUint64(offset + 8, false) << 128n) |
    (view.getBigUint64(offset + 16, false) << 64n) |
    view.getBigUint64(offset + 24, false)
  );
}

const TWO256 = 1n << 256n;

/**
 * Writes `k` (0 ≤ k < 2^256) as 32 bytes big-endian at `offset` of `view`: four 64-bit writes
 * (`setBigUint64` keeps the low 64 bits of its argument), about three times faster than through a
 * hex string, for loops that write thousands of scalars into one message.
 */
export function writeUint256(view: DataView, offset: number, k: bigint): void {
  if (k < 0n || k >= TWO256) throw new RangeError('integer out of range');
  view.setBigUint64(offset, k >> 192n, false);
  view.setBigUint64(offset + 8, k >> 128n, false);
  view.setBigUint64(offset + 16, k >> 64n, false);
  view.setBigUint64(offset + 24, k, false);
}

/** q as eight big-endian 32-bit words, most significant first. */
const Q_WORDS: readonly number[] = Array.from({ length: 8 }, (_, i) =>
  Number((Q >> BigInt(224 - 32 * i)) & 0xffffffffn),
);

/**
 * Whether the 32 bytes at `offset` of `view`, read big-endian, are < q — the range check of a
 * scalar decoder without building a BigInt (the first word settles it except with probability
 * 2^-32: q starts with 0xffffffff). For public values only: it returns at the first word that
 * differs from q's.
 */
export function scalarBelowQAt(view: DataView, offset: number): boolean {
  for (let i = 0; i < 8; i++) {
    const w = view.getUint32(offset + 4 * i, false);
    const q = Q_WORDS[i] ?? 0;
    if (w !== q) return w < q;
  }
  return false;
}

/**
 * Scalar (0 ≤ k < q) → 32 bytes big-endian, via native hex: for a single value, cheaper than
 * {@link writeUint256} with its own buffer and view (measured).
 */
export function scalarToBytes(k: bigint): Uint8Array {
  if (k < 0n || k >= Q) throw new RangeError('scalar out of range');
  return new Uint8Array(Buffer.from(k.toString(16).padStart(64, '0'), 'hex'));
}

/** `k mod q` in [0, q). */
export function modQ(k: bigint): bigint {
  const r = k % Q;
  return r < 0n ? r + Q : r;
}

/** 4-byte big-endian counter field. */
export const u32 = u32be;
/** 2-byte big-endian party field. */
export const u16 = u16be;

/**
 * `[Hq(tag, fixed, u32(k)) for k in 0..count−1]`: {@link fastHashToScalar} over a counter, with
 * the expand_message_xmd buffers built once (the RVOLE gadget needs 512 per pair use). For
 * public inputs only (the gadget): digests go through strings, which cannot be wiped.
 */
export function hashToScalars(tag: string, fixed: Uint8Array, count: number): bigint[] {
  const { dstPrime, xmd } = xmdOf(tag);
  // msg = len32(fixed) ‖ fixed ‖ len32(4) ‖ u32(k)
  const m0 = xmdInput(4 + fixed.length + 4 + 4, dstPrime);
  const kAt = writeFields(m0, 64, [fixed, u32be(0)]) - 4;
  const v0 = new DataView(m0.buffer);
  const out: bigint[] = new Array<bigint>(count);
  for (let k = 0; k < count; k++) {
    v0.setUint32(kAt, k, false);
    out[k] = xmd.scalar(m0, true);
  }
  return out;
}

/**
 * Deterministic randomness from a session's secret seed: the byte stream
 * SHA-512(prefix ‖ "rand" ‖ seed, label, ctr), ctr = 0, 1, … Protocols draw their seed once at
 * creation and store it, so every message can be recomputed identically after a restart
 * (session-framework.md: "start() must be reproducible from the state"); each use gets its own
 * label, so no two uses share bytes. Only for randomness that may be reused (key generation):
 * never for one-time values such as presigning's r_i, φ_i, β, â, nonces (review 2026-11-24, C2).
 */
export function seededRandom(
  seed: Uint8Array,
  ...labels: (string | number)[]
): (n: number) => Uint8Array {
  const labelBytes = encodeFields(
    labels.map((l) => (typeof l === 'number' ? u32be(l) : encoder.encode(l))),
  );
  const input = new FramedInput('rand', [seed.length, labelBytes.length, 4])
    .set(0, seed)
    .set(1, labelBytes);
  let ctr = 0;
  let pool = new Uint8Array(0);
  return (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      if (pool.length === 0) pool = new Uint8Array(input.setU32(2, ctr++).sha512());
      const take = Math.min(pool.length, n - off);
      out.set(pool.subarray(0, take), off);
      pool.fill(0, 0, take);
      pool = pool.subarray(take);
      off += take;
    }
    return out;
  };
}
