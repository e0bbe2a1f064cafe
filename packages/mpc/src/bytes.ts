/**
 * Strict binary encoding helpers: a writer and a reader that fails early, on the first byte
 * out of place, with a typed {@link MpcError}. Every decoder in this package is built on
 * {@link ByteReader}, so "wrong length" and "trailing bytes" are rejected the same way
 * everywhere. Integers are big-endian.
 * @module
 */
import { equalBytes } from '@noble/curves/utils.js';
import { MpcError } from './errors.js';

/** Accumulates fields and returns one `Uint8Array`. */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError('u8 out of range');
    return this.raw(Uint8Array.of(v));
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError('u16 out of range');
    return this.raw(Uint8Array.of(v >>> 8, v & 0xff));
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError('u32 out of range');
    return this.raw(u32be(v));
  }

  /** Appends bytes as they are (fixed-length field). */
  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  /** Appends a 4-byte length prefix, then the bytes. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** Appends a 1-byte length prefix, then the ASCII string. */
  ascii(s: string): this {
    const b = new TextEncoder().encode(s);
    if (b.length > 0xff) throw new RangeError('string too long');
    return this.u8(b.length).raw(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

/**
 * Reads fields from a byte string and throws `ERR_MPC_MALFORMED` (naming `culprit` when the
 * bytes came from another party) on any short read or, at {@link ByteReader.end}, trailing bytes.
 */
export class ByteReader {
  private offset = 0;

  constructor(
    private readonly data: Uint8Array,
    readonly what: string,
    readonly culprit?: number,
  ) {
    if (!(data instanceof Uint8Array)) this.fail('not bytes');
  }

  fail(detail: string): never {
    throw new MpcError('ERR_MPC_MALFORMED', {
      culprit: this.culprit,
      detail: `${this.what}: ${detail}`,
    });
  }

  get remaining(): number {
    return this.data.length - this.offset;
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

  /** Exactly `n` bytes, copied (the caller may wipe its input). */
  take(n: number): Uint8Array {
    if (n < 0 || this.offset + n > this.data.length) this.fail('short read');
    const out = this.data.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A 4-byte length prefix, at most `max`, then that many bytes. */
  bytes(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) this.fail('length field too large');
    return this.take(n);
  }

  /** A 1-byte length prefix, then printable ASCII. */
  ascii(): string {
    const b = this.take(this.u8());
    for (const c of b) if (c < 0x20 || c > 0x7e) this.fail('non-printable string');
    return new TextDecoder().decode(b);
  }

  /** Asserts that every byte was consumed. */
  end(): void {
    if (this.offset !== this.data.length) this.fail('trailing bytes');
  }
}

/** 4-byte big-endian encoding of `n`. */
export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** 2-byte big-endian encoding of `n`. */
export function u16be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

/** Constant-time equality for equal-length inputs (length itself is not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return equalBytes(a, b);
}

/** Overwrites buffers with zeros. Best effort: copies made by the runtime are out of reach. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Lower-case hex, for logs of public values and test fixtures. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
