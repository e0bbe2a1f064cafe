/**
 * Strict binary encoding helpers of the channel formats (roster, sealed message).
 *
 * Integers are big-endian; variable fields carry a length prefix. {@link WireReader} fails on
 * the first byte out of place with `ERR_CHANNEL_MALFORMED`, and {@link WireReader.end} rejects
 * trailing bytes, so every decoder built on it is canonical and strict in the same way.
 * Also the small shared byte helpers: constant-time equality and wiping.
 * @module
 */
import { equalBytes } from '@noble/curves/utils.js';
import { ChannelError } from './channel-errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Accumulates fields and returns one `Uint8Array`. */
export class WireWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  u8(v: number): this {
    return this.raw(Uint8Array.of(checkUint(v, 0xff)));
  }

  u16(v: number): this {
    checkUint(v, 0xffff);
    return this.raw(Uint8Array.of(v >>> 8, v & 0xff));
  }

  u32(v: number): this {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, checkUint(v, 0xffffffff), false);
    return this.raw(out);
  }

  /** An unsigned integer up to 2^53 - 1, as 8 bytes. */
  u64(v: number): this {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(checkUint(v, Number.MAX_SAFE_INTEGER)), false);
    return this.raw(out);
  }

  /** Bytes as they are (fixed-length field). */
  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  /** 1-byte length prefix, then the bytes. */
  bytes8(bytes: Uint8Array): this {
    return this.u8(bytes.length).raw(bytes);
  }

  /** 4-byte length prefix, then the bytes. */
  bytes32(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** 1-byte length prefix, then the ASCII string. */
  ascii8(s: string): this {
    return this.bytes8(encoder.encode(s));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}

function checkUint(v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError('integer out of range');
  return v;
}

/** Reads fields and throws `ERR_CHANNEL_MALFORMED` on any short read or trailing byte. */
export class WireReader {
  private offset = 0;
  /** Set by a decoder once the header's sender is read, so later failures can name it. */
  claimedSender: number | undefined;

  constructor(
    private readonly data: Uint8Array,
    readonly what: string,
  ) {
    if (!(data instanceof Uint8Array)) this.fail('not bytes');
  }

  fail(detail: string): never {
    throw new ChannelError('ERR_CHANNEL_MALFORMED', {
      claimedSender: this.claimedSender,
      detail: `${this.what}: ${detail}`,
    });
  }

  /** How many bytes were consumed so far. */
  get position(): number {
    return this.offset;
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

  /** 8 bytes that must hold an integer up to 2^53 - 1. */
  u64(): number {
    const b = this.take(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('integer too large');
    return Number(v);
  }

  /** Exactly `n` bytes, copied (the caller may wipe or reuse its input). */
  take(n: number): Uint8Array {
    if (n < 0 || this.offset + n > this.data.length) this.fail('short read');
    const out = this.data.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
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

  /** 1-byte length prefix, then ASCII matching `pattern`. */
  ascii8(pattern: RegExp, field: string): string {
    const b = this.take(this.u8());
    for (const c of b) if (c < 0x20 || c > 0x7e) this.fail(`${field}: non-printable`);
    const s = decoder.decode(b);
    if (!pattern.test(s)) this.fail(`${field}: not allowed`);
    return s;
  }

  /** Asserts that every byte was consumed. */
  end(): void {
    if (this.offset !== this.data.length) this.fail('trailing bytes');
  }
}

/** Constant-time equality (the length is not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return equalBytes(a, b);
}

/** Overwrites buffers with zeros. Best effort: copies made by the runtime are out of reach. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** UTF-8 bytes of a fixed label (domain tags). */
export function label(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Concatenation of byte strings. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const w = new WireWriter();
  for (const p of parts) w.raw(p);
  return w.finish();
}
