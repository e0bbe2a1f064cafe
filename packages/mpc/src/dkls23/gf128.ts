/**
 * Arithmetic in GF(2^128) = GF(2)[x] / (x^128 + x^7 + x^2 + x + 1), the field of the KOS15
 * consistency check (Keller–Orsini–Scholl, ePrint 2015/546, §3 "the correlation check", with
 * κ = 128 so that one row of the OT-extension matrix is one field element; specs/dkls23.md,
 * "Building blocks" 4).
 *
 * Encoding: 16 bytes; bit i of the element (the coefficient of x^i) is bit (i mod 8) of byte
 * ⌊i/8⌋ — the same bit order as the rows of `ot-extension.ts`. Internally four little-endian
 * 32-bit words. Every operation touching secret data (rows, Δ, choice bits) is branch-free.
 * @module
 */

/** Byte length of an element. */
export const GF128_BYTES = 16;

/** Four little-endian 32-bit words. */
export type Gf128 = Uint32Array;

export function gfFromBytes(b: Uint8Array, offset = 0): Gf128 {
  const v = new DataView(b.buffer, b.byteOffset + offset, 16);
  return Uint32Array.of(
    v.getUint32(0, true),
    v.getUint32(4, true),
    v.getUint32(8, true),
    v.getUint32(12, true),
  );
}

export function gfToBytes(a: Gf128): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  for (let w = 0; w < 4; w++) v.setUint32(4 * w, a[w] ?? 0, true);
  return out;
}

/** `a ⊕= b`. */
export function gfAddInPlace(a: Gf128, b: Gf128): void {
  a[0] = (a[0] ?? 0) ^ (b[0] ?? 0);
  a[1] = (a[1] ?? 0) ^ (b[1] ?? 0);
  a[2] = (a[2] ?? 0) ^ (b[2] ?? 0);
  a[3] = (a[3] ?? 0) ^ (b[3] ?? 0);
}

/** `a ← a·x` (shift by one, reduce by x^7 + x^2 + x + 1 = 0x87). */
function mulXInPlace(a: Gf128): void {
  const carry = ((a[3] ?? 0) >>> 31) & 1;
  a[3] = ((a[3] ?? 0) << 1) | ((a[2] ?? 0) >>> 31);
  a[2] = ((a[2] ?? 0) << 1) | ((a[1] ?? 0) >>> 31);
  a[1] = ((a[1] ?? 0) << 1) | ((a[0] ?? 0) >>> 31);
  a[0] = ((a[0] ?? 0) << 1) ^ (-carry & 0x87);
}

/** `a·b`, branch-free (shift-and-add over the bits of `a`, high to low). */
export function gfMul(a: Gf128, b: Gf128): Gf128 {
  const acc = new Uint32Array(4);
  for (let i = 127; i >= 0; i--) {
    mulXInPlace(acc);
    const mask = -(((a[i >>> 5] ?? 0) >>> (i & 31)) & 1);
    acc[0] = (acc[0] ?? 0) ^ ((b[0] ?? 0) & mask);
    acc[1] = (acc[1] ?? 0) ^ ((b[1] ?? 0) & mask);
    acc[2] = (acc[2] ?? 0) ^ ((b[2] ?? 0) & mask);
    acc[3] = (acc[3] ?? 0) ^ ((b[3] ?? 0) & mask);
  }
  return acc;
}

/**
 * Scratch of {@link gfInnerProduct}: 32 nibble positions × 16 nibble values × 4 words (8 KiB).
 * Module-level so the hot loop allocates nothing; zeroed after every use (it holds XORs of
 * secret rows). The function is synchronous, so no two calls share it at once.
 */
const nibbleSlices = new Uint32Array(32 * 16 * 4);

/**
 * `Σ_k χ_k·r_k` for public `χ_k` and (possibly secret) rows `r_k`, both given as
 * concatenated 16-byte elements. Bit-sliced on 4-bit windows of the public χ:
 * `Σ_k χ_k·r_k = Σ_p x^{4p}·Σ_v v(x)·S_{p,v}` with `S_{p,v} = ⊕_{k: nibble p of χ_k = v} r_k`,
 * so each row is XORed into 32 slots chosen by χ (the rows' secret bits select nothing: no
 * branch or index depends on them), then the slots are folded into `x^b` coefficients and 128 steps of
 * Horner: 32 slot updates per row instead of one per set bit of χ (≈ 64), with no branch.
 */
export function gfInnerProduct(chis: Uint8Array, rows: Uint8Array, count: number): Gf128 {
  checkCount(chis, count);
  checkCount(rows, count);
  const s = nibbleSlices;
  const cv = new DataView(chis.buffer, chis.byteOffset, count * 16);
  const rv = new DataView(rows.buffer, rows.byteOffset, count * 16);
  try {
    accumulateSlices(s, cv, rv, count);
    return foldSlices(s);
  } finally {
    s.fill(0); // also on a throw: the next call must start from zero, and no secret stays
  }
}

function checkCount(elements: Uint8Array, count: number): void {
  if (!Number.isInteger(count) || count < 0 || elements.length < count * 16)
    throw new RangeError('length');
}

/** `S_{p,v} ^= r_k` for every row k and nibble position p, v = nibble p of χ_k. */
function accumulateSlices(s: Uint32Array, cv: DataView, rv: DataView, count: number): void {
  for (let k = 0; k < count; k++) {
    const r0 = rv.getUint32(16 * k, true);
    const r1 = rv.getUint32(16 * k + 4, true);
    const r2 = rv.getUint32(16 * k + 8, true);
    const r3 = rv.getUint32(16 * k + 12, true);
    for (let w = 0; w < 4; w++) {
      const c = cv.getUint32(16 * k + 4 * w, true);
      // Nibble n of χ word w is nibble position p = 8w + n; slot (p, value) at 4·(16p + value).
      for (let n = 0; n < 8; n++) {
        const at = 4 * (16 * (8 * w + n) + ((c >>> (4 * n)) & 15));
        s[at] = (s[at] ?? 0) ^ r0;
        s[at + 1] = (s[at + 1] ?? 0) ^ r1;
        s[at + 2] = (s[at + 2] ?? 0) ^ r2;
        s[at + 3] = (s[at + 3] ?? 0) ^ r3;
      }
    }
  }
}

/** `Σ_p x^{4p}·Σ_v v(x)·S_{p,v}`. */
function foldSlices(s: Uint32Array): Gf128 {
  // Coefficient of x^(4p + i): ⊕ of S_{p,v} over the values v with bit i set. Slot (p, 0) is
  // the rows whose nibble p is zero; it contributes nothing and is only wiped.
  const coefficients = new Uint32Array(128 * 4);
  for (let p = 0; p < 32; p++)
    for (let v = 1; v < 16; v++) {
      const at = 4 * (16 * p + v);
      for (let i = 0; i < 4; i++) {
        if (((v >>> i) & 1) === 0) continue; // v is a public loop index
        const to = 4 * (4 * p + i);
        coefficients[to] = (coefficients[to] ?? 0) ^ (s[at] ?? 0);
        coefficients[to + 1] = (coefficients[to + 1] ?? 0) ^ (s[at + 1] ?? 0);
        coefficients[to + 2] = (coefficients[to + 2] ?? 0) ^ (s[at + 2] ?? 0);
        coefficients[to + 3] = (coefficients[to + 3] ?? 0) ^ (s[at + 3] ?? 0);
      }
    }
  const acc = new Uint32Array(4);
  for (let b = 127; b >= 0; b--) {
    mulXInPlace(acc);
    gfAddInPlace(acc, coefficients.subarray(4 * b, 4 * b + 4));
  }
  coefficients.fill(0);
  return acc;
}

/** `Σ_k w_k·χ_k` for secret bits `w_k` (bit k of `bits`), branch-free. */
export function gfSelectSum(chis: Uint8Array, bits: Uint8Array, count: number): Gf128 {
  checkCount(chis, count);
  if (bits.length * 8 < count) throw new RangeError('length');
  const cv = new DataView(chis.buffer, chis.byteOffset, count * 16);
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let k = 0; k < count; k++) {
    const mask = -(((bits[k >>> 3] ?? 0) >>> (k & 7)) & 1);
    a0 ^= cv.getUint32(16 * k, true) & mask;
    a1 ^= cv.getUint32(16 * k + 4, true) & mask;
    a2 ^= cv.getUint32(16 * k + 8, true) & mask;
    a3 ^= cv.getUint32(16 * k + 12, true) & mask;
  }
  return Uint32Array.of(a0, a1, a2, a3);
}
