/**
 * Strict binary encoding helpers of the channel formats (roster, sealed message).
 *
 * Integers are big-endian; variable fields carry a length prefix. {@link WireReader} fails on
 * the first byte out of place with `ERR_CHANNEL_MALFORMED`, and {@link WireReader.end} rejects
 * trailing bytes, so every decoder built on it is canonical and strict in the same way.
 * Also the small shared byte helpers: constant-time equality and wiping.
 * @module
 */
import { CanonicalReader } from '@countersign/protocol';
import { equalBytes } from '@noble/curves/utils.js';
import { ChannelError } from './channel-errors.js';

const encoder = new TextEncoder();

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

/**
 * Reads fields and throws `ERR_CHANNEL_MALFORMED` on any short read or trailing byte: the
 * platform's canonical reader with the channel's error, naming the claimed sender once known.
 */
export class WireReader extends CanonicalReader {
  /** Set by a decoder once the header's sender is read, so later failures can name it. */
  claimedSender: number | undefined;

  constructor(data: Uint8Array, what: string) {
    super(data, what, (detail) => new Error(detail));
  }

  override fail(detail: string): never {
    throw new ChannelError('ERR_CHANNEL_MALFORMED', {
      claimedSender: this.claimedSender,
      detail: `${this.what}: ${detail}`,
    });
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
