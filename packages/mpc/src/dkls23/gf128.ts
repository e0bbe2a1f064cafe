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
 * `Σ_k χ_k·r_k` for public `χ_k` and (possibly secret) rows `r_k`, both given as
 * concatenated 16-byte elements. Bit-sliced: `Σ_k χ_k·r_k = Σ_b x^b·(⊕_{k: χ_k[b]=1} r_k)`,
 * so the secret rows are only XORed (the branch is on the public χ), then 128 steps of Horner.
 */
export function gfInnerProduct(chis: Uint8Array, rows: Uint8Array, count: number): Gf128 {
  if (chis.length < count * 16 || rows.length < count * 16) throw new RangeError('length');
  const slices = new Uint32Array(128 * 4);
  const cv = new DataView(chis.buffer, chis.byteOffset, count * 16);
  const rv = new DataView(rows.buffer, rows.byteOffset, count * 16);
  for (let k = 0; k < count; k++) {
    const r0 = rv.getUint32(16 * k, true);
    const r1 = rv.getUint32(16 * k + 4, true);
    const r2 = rv.getUint32(16 * k + 8, true);
    const r3 = rv.getUint32(16 * k + 12, true);
    for (let w = 0; w < 4; w++) {
      // Visit the set bits of the public χ word, lowest first.
      for (let c = cv.getUint32(16 * k + 4 * w, true); c !== 0; ) {
        const low = c & -c;
        const s = 4 * (32 * w + 31 - Math.clz32(low));
        slices[s] = (slices[s] ?? 0) ^ r0;
        slices[s + 1] = (slices[s + 1] ?? 0) ^ r1;
        slices[s + 2] = (slices[s + 2] ?? 0) ^ r2;
        slices[s + 3] = (slices[s + 3] ?? 0) ^ r3;
        c ^= low;
      }
    }
  }
  const acc = new Uint32Array(4);
  for (let b = 127; b >= 0; b--) {
    mulXInPlace(acc);
    gfAddInPlace(acc, slices.subarray(4 * b, 4 * b + 4));
  }
  slices.fill(0);
  return acc;
}

/** `Σ_k w_k·χ_k` for secret bits `w_k` (bit k of `bits`), branch-free. */
export function gfSelectSum(chis: Uint8Array, bits: Uint8Array, count: number): Gf128 {
  const acc = new Uint32Array(4);
  for (let k = 0; k < count; k++) {
    const mask = -(((bits[k >>> 3] ?? 0) >>> (k & 7)) & 1);
    const c = gfFromBytes(chis, 16 * k);
    acc[0] = (acc[0] ?? 0) ^ ((c[0] ?? 0) & mask);
    acc[1] = (acc[1] ?? 0) ^ ((c[1] ?? 0) & mask);
    acc[2] = (acc[2] ?? 0) ^ ((c[2] ?? 0) & mask);
    acc[3] = (acc[3] ?? 0) ^ ((c[3] ?? 0) & mask);
  }
  return acc;
}
