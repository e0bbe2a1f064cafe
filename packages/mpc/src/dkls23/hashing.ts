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
import { domainHasher, encodeFields, label, type DomainHasher } from '../hash.js';

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
  presign: 'dkls23-secp256k1/presign/v1',
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
  const body = encodeFields(fields);
  const input = new Uint8Array(prefix.length + body.length);
  input.set(prefix);
  input.set(body, prefix.length);
  return new Uint8Array(nativeHash(alg, input, 'buffer'));
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
 * `Hq(tag, fields…)`: RFC 9380 §5.2 `hash_to_field(msg, 1)` with §5.3.1 `expand_message_xmd`
 * (SHA-256, L = 48, DST = prefix ‖ tag), `msg` the length-prefixed fields. Identical to
 * `dkls23Hasher.hashToScalar(Q, …)` (tested), about ten times faster on native SHA-256.
 */
export function fastHashToScalar(tag: string, ...fields: Uint8Array[]): bigint {
  const dst = encoder.encode(dkls23Hasher.prefix + tag);
  if (dst.length > 255) throw new RangeError('DST too long');
  const dstPrime = new Uint8Array(dst.length + 1);
  dstPrime.set(dst);
  dstPrime[dst.length] = dst.length;
  const msg = encodeFields(fields);
  // msg' = Z_pad(64) ‖ msg ‖ I2OSP(48, 2) ‖ I2OSP(0, 1) ‖ DST'
  const m0 = new Uint8Array(64 + msg.length + 3 + dstPrime.length);
  m0.set(msg, 64);
  m0[64 + msg.length] = 0;
  m0[64 + msg.length + 1] = 48;
  m0[64 + msg.length + 2] = 0;
  m0.set(dstPrime, 64 + msg.length + 3);
  const b0 = nativeHash('sha256', m0, 'buffer');
  const m1 = new Uint8Array(32 + 1 + dstPrime.length);
  m1.set(b0);
  m1[32] = 1;
  m1.set(dstPrime, 33);
  const b1 = nativeHash('sha256', m1, 'buffer');
  for (let k = 0; k < 32; k++) m1[k] = (b0[k] ?? 0) ^ (b1[k] ?? 0);
  m1[32] = 2;
  const b2 = nativeHash('sha256', m1, 'buffer');
  const uniform = Buffer.concat([b1, b2.subarray(0, 16)]);
  return BigInt('0x' + uniform.toString('hex')) % Q;
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

/** Scalar (0 ≤ k < q) → 32 bytes big-endian, via native hex. */
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
 * `[Hq(tag, fixed, u32(k)) for k in 0..count−1]`: {@link fastHashToScalar} over a counter,
 * with the expand_message_xmd buffers built once (the RVOLE gadget needs 512 per pair use).
 */
export function hashToScalars(tag: string, fixed: Uint8Array, count: number): bigint[] {
  const dst = prefixOf(tag);
  if (dst.length > 255) throw new RangeError('DST too long');
  const msgLength = 4 + fixed.length + 4 + 4;
  // msg' = Z_pad(64) ‖ len32(fixed) ‖ fixed ‖ len32(4) ‖ k ‖ I2OSP(48, 2) ‖ 0 ‖ DST ‖ len(DST)
  const m0 = new Uint8Array(64 + msgLength + 3 + dst.length + 1);
  const v0 = new DataView(m0.buffer);
  v0.setUint32(64, fixed.length, false);
  m0.set(fixed, 68);
  v0.setUint32(68 + fixed.length, 4, false);
  const kAt = 72 + fixed.length;
  m0[64 + msgLength + 1] = 48;
  m0.set(dst, 64 + msgLength + 3);
  m0[m0.length - 1] = dst.length;
  const m1 = Buffer.alloc(32 + 1 + dst.length + 1);
  m1.set(dst, 33);
  m1[m1.length - 1] = dst.length;
  const b1Bytes = Buffer.alloc(32);
  const out: bigint[] = [];
  // Digests as hex strings (half the cost of Buffers on Node 20; the gadget is public).
  for (let k = 0; k < count; k++) {
    v0.setUint32(kAt, k, false);
    const b0 = nativeHash('sha256', m0, 'hex');
    m1.write(b0, 0, 32, 'hex');
    m1[32] = 1;
    const b1 = nativeHash('sha256', m1, 'hex');
    b1Bytes.write(b1, 0, 32, 'hex');
    for (let i = 0; i < 32; i++) m1[i] = (m1[i] ?? 0) ^ (b1Bytes[i] ?? 0);
    m1[32] = 2;
    const b2 = nativeHash('sha256', m1, 'hex');
    // uniform_bytes = b1 ‖ b2[0..16], 48 bytes big-endian, mod q.
    out.push(BigInt('0x' + b1 + b2.slice(0, 32)) % Q);
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
