/**
 * OT extension: IKNP (Ishai–Kilian–Nissim–Petrank, CRYPTO 2003, §4) with the KOS15
 * correlation check (Keller–Orsini–Scholl, ePrint 2015/546, §3 Figure 7, Fiat–Shamir
 * challenges), for one ordered pair, as fixed by specs/dkls23.md, "Building blocks" 4.
 *
 * Alice = extension sender = base-OT receiver, keeps Δ ∈ {0,1}^128 and k_l^{Δ_l};
 * Bob = extension receiver = base-OT sender, keeps k_l^0, k_l^1 (`OtReceiverSetup`).
 * Per use, with a fresh `sid_pair` and m' = ξ + 128 rows (the 128 extra rows, random choice
 * bits, pad the check so that it reveals nothing about Bob's ξ choice bits):
 * - Bob: a fresh 32-byte nonce n_B; T0_l = PRG(k_l^0, sid_pair, n_B), T1_l = PRG(k_l^1,
 *   sid_pair, n_B), choice vector w (his β then random), sends n_B, U_l = T0_l ⊕ T1_l ⊕ w, and
 *   x = Σ χ_k·w_k, t = Σ χ_k·t_k over GF(2^128), with χ_k derived from H("kos", sid_pair, n_B, U).
 * - Alice: Q_l = PRG(k_l^{Δ_l}, sid_pair, n_B) ⊕ Δ_l·U_l; row k: q_k = t_k ⊕ w_k·Δ. She checks
 *   Σ χ_k·q_k = t ⊕ x·Δ. **A failure bans Bob and destroys this setup** (never retried: a
 *   selective abort leaks one bit of Δ per attempt).
 * - Random OTs, rows 1..ξ: with Alice's fresh 32-byte nonce n_A (she sends it with her answer),
 *   Alice (v0_k, v1_k) from q_k and q_k ⊕ Δ, Bob v_k from t_k, each hashed with
 *   H("rot", sid_pair, n_A, k, ·) (here: straight to `width` scalars, see {@link senderPads}).
 *
 * The nonces n_B and n_A are a departure from the spec (docs/dkls23-notes.md, "Per-use
 * nonces"; review 2026-11-24, C1): with `sid_pair` alone, two uses of one setup under one sid
 * give Bob the same T0 ⊕ T1 and Alice swapped pads on every row where w changed, and then
 * τ + τ' = −(α + α') reveals Alice's input. Bob's nonce makes his rows fresh; Alice's makes her
 * pads fresh even if Bob replays his nonce. Neither is ever stored: each is drawn for one use.
 *
 * PRG(k, sid_pair, n_B) is SHA-512 in counter mode over the length-prefixed fields (the spec
 * leaves the PRG open; docs/dkls23-notes.md).
 * @module
 */
import { constantTimeEqual, wipe } from '../bytes.js';
import { MpcError } from '../errors.js';
import { BASE_OT_COUNT, BASE_OT_KEY_LENGTH } from './base-ot.js';
import { Dkls23CheckError } from './check-error.js';
import {
  gfAddInPlace,
  gfInnerProduct,
  gfMul,
  gfSelectSum,
  gfFromBytes,
  gfToBytes,
} from './gf128.js';
import { fastHash, FramedInput, Q } from './hashing.js';

/** κ: columns of the extension matrix = bits per row. */
export const KAPPA = BASE_OT_COUNT;
/** Bytes per row (one GF(2^128) element). */
export const ROW_BYTES = KAPPA / 8;
/** Padding rows of the KOS check. */
export const KOS_PAD = 128;
/** Length of the per-use nonces n_B (Bob's PRG) and n_A (Alice's random-OT pads). */
export const OT_NONCE_LENGTH = 32;

/** Alice's half of an ordered pair's OT setup. */
export interface OtSenderSetup {
  readonly sender: number;
  readonly receiver: number;
  /** Δ, 16 bytes: her base-OT choice bits. */
  readonly delta: Uint8Array;
  /** k_l^{Δ_l}, 128 × 32 bytes. */
  readonly keys: readonly Uint8Array[];
  destroyed: boolean;
}

/** Bob's half of an ordered pair's OT setup. */
export interface OtReceiverSetup {
  readonly sender: number;
  readonly receiver: number;
  readonly keys0: readonly Uint8Array[];
  readonly keys1: readonly Uint8Array[];
  destroyed: boolean;
}

/** Wipes a setup in place and marks it destroyed. */
export function destroyOtSetup(setup: OtSenderSetup | OtReceiverSetup): void {
  if ('delta' in setup) wipe(setup.delta, ...setup.keys);
  else wipe(...setup.keys0, ...setup.keys1);
  setup.destroyed = true;
}

function assertUsable(setup: OtSenderSetup | OtReceiverSetup): void {
  if (setup.destroyed)
    throw new MpcError('ERR_MPC_OT_SETUP_DESTROYED', {
      detail: `pair ${setup.sender}->${setup.receiver}`,
    });
}

/** Encoded length of Bob's extension message `n_B ‖ U ‖ x ‖ t` for ξ = `count` OTs. */
export function extensionMessageLength(count: number): number {
  return OT_NONCE_LENGTH + KAPPA * ((count + KOS_PAD) / 8) + 2 * ROW_BYTES;
}

function assertNonce(nonce: Uint8Array): void {
  if (!(nonce instanceof Uint8Array) || nonce.length !== OT_NONCE_LENGTH)
    throw new RangeError('OT nonce length');
}

/**
 * PRG(k, sid_pair, n_B) = SHA-512(prefix ‖ "prg" ‖ k, sid_pair, n_B, ctr) for ctr = 0, 1, …,
 * for the 128 keys of one extension: one hash input, the key field rewritten per key (the
 * framing fixes its length, 32 bytes as every base-OT key).
 */
class Prg {
  readonly #input: FramedInput;

  constructor(sidPair: Uint8Array, nonce: Uint8Array) {
    this.#input = new FramedInput('prg', [BASE_OT_KEY_LENGTH, sidPair.length, nonce.length, 4])
      .set(1, sidPair)
      .set(2, nonce);
  }

  /** Fills `out` with the first `out.length` bytes of PRG(key, sid_pair, n_B). */
  fill(key: Uint8Array, out: Uint8Array): void {
    if (key.length !== BASE_OT_KEY_LENGTH) throw new RangeError('OT key length');
    this.#input.set(0, key);
    for (let ctr = 0, off = 0; off < out.length; ctr++, off += 64) {
      const block = this.#input.setU32(3, ctr).sha512();
      out.set(block.subarray(0, Math.min(64, out.length - off)), off);
      block.fill(0);
    }
  }

  wipe(): void {
    this.#input.wipe();
  }
}

/**
 * Rows of a κ × m' bit matrix given by its columns, concatenated (column l = bytes
 * l·m'/8 … (l+1)·m'/8 − 1, bit b of byte kb = row 8·kb + b): m' rows of 16 bytes. Works on 8×8
 * bit blocks (8 columns × 8 rows, one byte of each) with the shift-and-mask transpose of
 * Hacker's Delight §7-3: fixed shifts and masks, no branch or index depending on the (secret)
 * bits.
 */
export function transpose(columns: Uint8Array, rowCount: number): Uint8Array {
  const rows = new Uint8Array(rowCount * ROW_BYTES);
  const colBytes = rowCount / 8;
  for (let byteIdx = 0; byteIdx < ROW_BYTES; byteIdx++) {
    const c = 8 * byteIdx * colBytes; // column 8·byteIdx
    for (let kb = 0; kb < colBytes; kb++) {
      // Bit 8j + b of (hi:lo) = bit b of column 8·byteIdx + j's byte kb.
      let lo =
        (columns[c + kb] ?? 0) |
        ((columns[c + colBytes + kb] ?? 0) << 8) |
        ((columns[c + 2 * colBytes + kb] ?? 0) << 16) |
        ((columns[c + 3 * colBytes + kb] ?? 0) << 24);
      let hi =
        (columns[c + 4 * colBytes + kb] ?? 0) |
        ((columns[c + 5 * colBytes + kb] ?? 0) << 8) |
        ((columns[c + 6 * colBytes + kb] ?? 0) << 16) |
        ((columns[c + 7 * colBytes + kb] ?? 0) << 24);
      // Swap bit 8j + b with bit 8b + j: 2×2, then 4×4 blocks within each half, then across.
      let t = (lo ^ (lo >>> 7)) & 0x00aa00aa;
      lo ^= t ^ (t << 7);
      t = (hi ^ (hi >>> 7)) & 0x00aa00aa;
      hi ^= t ^ (t << 7);
      t = (lo ^ (lo >>> 14)) & 0x0000cccc;
      lo ^= t ^ (t << 14);
      t = (hi ^ (hi >>> 14)) & 0x0000cccc;
      hi ^= t ^ (t << 14);
      t = ((lo >>> 4) ^ hi) & 0x0f0f0f0f;
      hi ^= t;
      lo ^= t << 4;
      // Byte b of (hi:lo) is byte byteIdx of row 8·kb + b.
      const at = kb * 8 * ROW_BYTES + byteIdx;
      rows[at] = lo;
      rows[at + ROW_BYTES] = lo >>> 8;
      rows[at + 2 * ROW_BYTES] = lo >>> 16;
      rows[at + 3 * ROW_BYTES] = lo >>> 24;
      rows[at + 4 * ROW_BYTES] = hi;
      rows[at + 5 * ROW_BYTES] = hi >>> 8;
      rows[at + 6 * ROW_BYTES] = hi >>> 16;
      rows[at + 7 * ROW_BYTES] = hi >>> 24;
    }
  }
  return rows;
}

/**
 * χ_1..χ_m' from H("kos", sid_pair, n_B, U): two 16-byte challenges per 32-byte block. The seed
 * covers everything Bob sends before x and t (Fiat–Shamir over his whole first message).
 */
export function challenges(
  sidPair: Uint8Array,
  nonce: Uint8Array,
  U: Uint8Array,
  rowCount: number,
): Uint8Array {
  const seed = fastHash('kos', sidPair, nonce, U);
  const out = Buffer.alloc(rowCount * ROW_BYTES);
  const input = new FramedInput('kos-chi', [seed.length, 4]).set(0, seed);
  // Public challenges: hex digests, written in place (cheaper than a Buffer per call).
  for (let block = 0; block * 32 < out.length; block++)
    out.write(input.setU32(1, block).sha256Hex(), block * 32, 32, 'hex');
  return out;
}

/** Bob's output of one extension: his message and his rows t_1..t_m'. */
export interface ExtensionReceiverOutput {
  readonly message: Uint8Array;
  /** m' rows of 16 bytes; only the first ξ are OT outputs. Secret. */
  readonly rows: Uint8Array;
}

/**
 * Bob: extends with choice bits `choices` (ξ = `count` bits, packed little-endian per byte),
 * 128 random padding bits `padding` (16 bytes) and the per-use nonce n_B (32 fresh random
 * bytes, never reused: it is what keeps T0 ⊕ T1 fresh if `sid_pair` repeats).
 */
export function extensionReceive(
  setup: OtReceiverSetup,
  sidPair: Uint8Array,
  choices: Uint8Array,
  padding: Uint8Array,
  nonce: Uint8Array,
  count: number,
): ExtensionReceiverOutput {
  assertUsable(setup);
  assertNonce(nonce);
  if (count % 8 !== 0 || choices.length !== count / 8 || padding.length !== KOS_PAD / 8)
    throw new RangeError('extension sizes');
  const rowCount = count + KOS_PAD;
  const colBytes = rowCount / 8;
  const w = new Uint8Array(colBytes);
  w.set(choices);
  w.set(padding, choices.length);
  const U = new Uint8Array(KAPPA * colBytes);
  // T0, column after column; T1 one column at a time, into `t1`.
  const t0 = new Uint8Array(KAPPA * colBytes);
  const t1 = new Uint8Array(colBytes);
  const prg = new Prg(sidPair, nonce);
  for (let l = 0; l < KAPPA; l++) {
    const a = t0.subarray(l * colBytes, (l + 1) * colBytes);
    prg.fill(setup.keys0[l] as Uint8Array, a);
    prg.fill(setup.keys1[l] as Uint8Array, t1);
    for (let k = 0; k < colBytes; k++)
      U[l * colBytes + k] = (a[k] ?? 0) ^ (t1[k] ?? 0) ^ (w[k] ?? 0);
  }
  prg.wipe();
  wipe(t1);
  const rows = transpose(t0, rowCount);
  wipe(t0);
  const chis = challenges(sidPair, nonce, U, rowCount);
  const x = gfSelectSum(chis, w, rowCount);
  const t = gfInnerProduct(chis, rows, rowCount);
  wipe(w);
  const message = new Uint8Array(OT_NONCE_LENGTH + U.length + 2 * ROW_BYTES);
  message.set(nonce);
  message.set(U, OT_NONCE_LENGTH);
  message.set(gfToBytes(x), OT_NONCE_LENGTH + U.length);
  message.set(gfToBytes(t), OT_NONCE_LENGTH + U.length + ROW_BYTES);
  return { message, rows };
}

/**
 * Alice: the rows q_1..q_m' from Bob's message, after the KOS check. A malformed message is
 * refused naming Bob; a failed check destroys the setup and bans Bob.
 */
export function extensionSend(
  setup: OtSenderSetup,
  sidPair: Uint8Array,
  message: Uint8Array,
  count: number,
): Uint8Array {
  assertUsable(setup);
  const bob = setup.receiver;
  if (message.length !== extensionMessageLength(count))
    throw new MpcError('ERR_MPC_MALFORMED', { culprit: bob, detail: 'extension message' });
  const rowCount = count + KOS_PAD;
  const colBytes = rowCount / 8;
  // n_B ‖ U ‖ x ‖ t, exact length checked above; any 32 bytes are a valid nonce.
  const nonce = message.subarray(0, OT_NONCE_LENGTH);
  const U = message.subarray(OT_NONCE_LENGTH, OT_NONCE_LENGTH + KAPPA * colBytes);
  const x = gfFromBytes(message, OT_NONCE_LENGTH + U.length);
  const t = gfFromBytes(message, OT_NONCE_LENGTH + U.length + ROW_BYTES);
  const cols = new Uint8Array(KAPPA * colBytes);
  const prg = new Prg(sidPair, nonce);
  for (let l = 0; l < KAPPA; l++) {
    const col = cols.subarray(l * colBytes, (l + 1) * colBytes);
    prg.fill(setup.keys[l] as Uint8Array, col);
    const mask = -(((setup.delta[l >>> 3] ?? 0) >>> (l & 7)) & 1) & 0xff;
    for (let k = 0; k < colBytes; k++) col[k] = (col[k] ?? 0) ^ ((U[l * colBytes + k] ?? 0) & mask);
  }
  prg.wipe();
  const rows = transpose(cols, rowCount);
  wipe(cols);
  const chis = challenges(sidPair, nonce, U, rowCount);
  const lhs = gfInnerProduct(chis, rows, rowCount);
  const rhs = gfMul(x, gfFromBytes(setup.delta));
  gfAddInPlace(rhs, t);
  if (!constantTimeEqual(gfToBytes(lhs), gfToBytes(rhs))) {
    wipe(rows);
    destroyOtSetup(setup);
    throw new Dkls23CheckError('kos', bob, [[setup.sender, setup.receiver]]);
  }
  return rows;
}

/**
 * `width` scalars from row k: blocks SHA-512(prefix ‖ "rot" ‖ sid_pair, n_A, k, block, row) cut in
 * 32-byte big-endian integers reduced mod q. Because q > 2^256 − 2^129, a uniform 256-bit
 * integer mod q is within statistical distance 2^-127 of uniform (docs/dkls23-notes.md).
 */
function rowScalars(
  input: FramedInput,
  k: number,
  row: Uint8Array,
  width: number,
  out: bigint[],
): void {
  input.setU32(2, k).set(4, row);
  for (let m = 0; m < width; m += 2) {
    // Hex digest straight into BigInt (it becomes one anyway; half the cost of a Buffer).
    const block = input.setU32(3, m / 2).sha512Hex();
    for (let half = 0; half < 2 && m + half < width; half++) {
      const v = BigInt('0x' + block.slice(64 * half, 64 * half + 64));
      out.push(v >= Q ? v - Q : v); // v < 2^256 < 2q
    }
  }
}

function rotInput(sidPair: Uint8Array, nonce: Uint8Array): FramedInput {
  assertNonce(nonce);
  return new FramedInput('rot', [sidPair.length, OT_NONCE_LENGTH, 4, 4, ROW_BYTES])
    .set(0, sidPair)
    .set(1, nonce);
}

/**
 * Alice's random-OT pads for rows 0..count−1, each expanded to `width` scalars:
 * pads0 from q_k, pads1 from q_k ⊕ Δ. Flat arrays, `count·width` long. `nonce` is n_A: fresh
 * per use, so her pads never repeat even if Bob replays his message.
 */
export function senderPads(
  sidPair: Uint8Array,
  nonce: Uint8Array,
  rows: Uint8Array,
  delta: Uint8Array,
  count: number,
  width: number,
): { pads0: bigint[]; pads1: bigint[] } {
  const pads0: bigint[] = [];
  const pads1: bigint[] = [];
  const other = new Uint8Array(ROW_BYTES);
  const input = rotInput(sidPair, nonce);
  for (let k = 0; k < count; k++) {
    const q = rows.subarray(k * ROW_BYTES, (k + 1) * ROW_BYTES);
    for (let b = 0; b < ROW_BYTES; b++) other[b] = (q[b] ?? 0) ^ (delta[b] ?? 0);
    rowScalars(input, k, q, width, pads0);
    rowScalars(input, k, other, width, pads1);
  }
  wipe(other);
  input.wipe();
  return { pads0, pads1 };
}

/** Bob's random-OT pads v_k for rows 0..count−1 (the pad of his choice bit), under Alice's n_A. */
export function receiverPads(
  sidPair: Uint8Array,
  nonce: Uint8Array,
  rows: Uint8Array,
  count: number,
  width: number,
): bigint[] {
  const pads: bigint[] = [];
  const input = rotInput(sidPair, nonce);
  for (let k = 0; k < count; k++)
    rowScalars(input, k, rows.subarray(k * ROW_BYTES, (k + 1) * ROW_BYTES), width, pads);
  input.wipe();
  return pads;
}
