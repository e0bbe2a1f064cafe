/**
 * Small byte helpers shared by the KMS providers and the store: early input checks (in the
 * manner of noble's `abytes`), strict base64, zeroisation and constant-time comparison.
 * They exist so that every boundary rejects malformed input the same way and every secret buffer
 * is wiped the same way (CONVENTIONS.md, "Secrets").
 * @module
 */
import { timingSafeEqual } from 'node:crypto';

import { CosignerError } from '../errors.js';

/** Asserts that `value` is a Uint8Array, of `length` bytes when given. */
export function abytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: `${name} must be bytes` });
  }
  if (length !== undefined && value.length !== length) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `${name} must be ${length} bytes`,
    });
  }
}

/** Asserts that `value` is a non-empty string of at most `max` characters. */
export function astring(value: unknown, name: string, max = 1024): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `${name} must be a non-empty string of at most ${max} characters`,
    });
  }
}

/** Overwrites every given buffer with zeros. */
export function zeroize(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Constant-time equality of two byte strings (length is not secret). */
export function equalBytesConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes canonical standard base64, or returns undefined: Node's own decoder silently skips
 * junk, which would let two different texts name the same bytes.
 */
export function fromBase64(text: unknown, maxBytes = 1 << 20): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length > ((maxBytes + 2) / 3) * 4 + 4) return undefined;
  if (!BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Whether `value` is a plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Whether `obj` has exactly the keys in `required`, plus any of `optional`, and no other. */
export function hasExactKeys(
  obj: Record<string, unknown>,
  required: readonly string[],
  optional: readonly string[] = [],
): boolean {
  for (const k of required) if (!Object.hasOwn(obj, k)) return false;
  for (const k of Object.keys(obj))
    if (!required.includes(k) && !optional.includes(k)) return false;
  return true;
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * A copy of a third-party error that keeps only its name, message, code and status. SDK errors
 * may carry the whole request (gaxios keeps `config.body`, which holds the plaintext data key on
 * an encrypt), so they are never passed on as `cause` as they are.
 */
export function sanitizedCause(e: unknown): Error {
  if (!(e instanceof Error)) return new Error('non-error thrown');
  const copy = new Error(e.message.slice(0, 500));
  copy.name = e.name;
  const { code, status } = e as { code?: unknown; status?: unknown };
  if (typeof code === 'string' || typeof code === 'number') Object.assign(copy, { code });
  if (typeof status === 'number') Object.assign(copy, { status });
  return copy;
}
