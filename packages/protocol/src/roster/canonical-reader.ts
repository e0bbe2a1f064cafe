/**
 * Strict reader of the canonical encodings the platform signs (the roster, the signing
 * authorization): big-endian integers, length-prefixed fields, no trailing byte. Every deviation
 * throws the error the caller's format names, with a short public detail (the field at fault).
 * The co-signer's channel reader extends it with its own error.
 * @module
 */

export class CanonicalReader {
  private offset = 0;

  constructor(
    private readonly data: Uint8Array,
    readonly what: string,
    private readonly error: (detail: string) => Error,
  ) {
    if (!(data instanceof Uint8Array)) this.fail('not bytes');
  }

  fail(detail: string): never {
    throw this.error(`${this.what}: ${detail}`);
  }

  /** How many bytes were consumed so far. */
  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }

  /** Exactly `n` bytes, copied (the caller may wipe or reuse its input). */
  take(n: number): Uint8Array {
    if (n < 0 || this.offset + n > this.data.length) this.fail('short read');
    const out = this.data.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0] ?? this.fail('short read');
  }

  u16(): number {
    const b = this.take(2);
    return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  }

  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
  }

  /** 8 bytes that must hold an integer up to 2^53 - 1. */
  u64(): number {
    const b = this.take(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('integer too large');
    return Number(v);
  }

  /** 1-byte length prefix within [min, max], then that many bytes. */
  bytes8(min: number, max: number): Uint8Array {
    const n = this.u8();
    if (n < min || n > max) this.fail('length out of range');
    return this.take(n);
  }

  /** 4-byte length prefix within [min, max], then that many bytes. */
  bytes32(min: number, max: number): Uint8Array {
    const n = this.u32();
    if (n < min || n > max) this.fail('length out of range');
    return this.take(n);
  }

  ascii8(pattern: RegExp, field: string): string {
    const b = this.take(this.u8());
    for (const c of b) if (c < 0x20 || c > 0x7e) this.fail(`${field}: non-printable`);
    const s = String.fromCharCode(...b);
    if (!pattern.test(s)) this.fail(`${field}: not allowed`);
    return s;
  }

  /** Asserts that every byte was consumed. */
  end(): void {
    if (this.offset !== this.data.length) this.fail('trailing bytes');
  }
}

/** Big-endian unsigned integer of `bytes` bytes (≤ 8) appended to `out`. */
export function pushUint(out: number[], value: number, bytes: number): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(value), false);
  out.push(...b.subarray(8 - bytes));
}
