/**
 * What every repository of an open store shares: the database connection, the blob sealer, the
 * clock, and the guard that refuses work on a closed store and turns SQLite failures into typed
 * errors. Kept apart so that repositories stay one concept per file and cannot reach the data
 * key (they only see the per-purpose sealer).
 * @module
 */

import { CosignerError } from '../errors.js';
import type { BlobSealer } from './blob-sealer.js';
import type { Database } from './sqlite-driver.js';
import { mapSqliteError } from './sqlite-errors.js';

/** Shared state of an open store. */
export interface StoreContext {
  readonly db: Database;
  readonly sealer: BlobSealer;
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Whether the store was closed. */
  isClosed(): boolean;
}

/** Runs `work` on an open store, mapping SQLite failures to {@link CosignerError}s. */
export function guarded<T>(context: StoreContext, work: () => T): T {
  if (context.isClosed()) throw new CosignerError('ERR_COSIGNER_STORE_CLOSED');
  try {
    return work();
  } catch (e) {
    throw mapSqliteError(e);
  }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Asserts that `value` is a record identifier: 1–128 characters of `[A-Za-z0-9._:-]`. */
export function assertId(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `${name} must be 1-128 characters of [A-Za-z0-9._:-]`,
    });
  }
}

/** Asserts that `value` is a non-empty byte string of at most `max` bytes. */
export function assertBlob(
  value: unknown,
  name: string,
  max = 16 * 1024 * 1024,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > max) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `${name} must be 1 to ${max} bytes`,
    });
  }
}

/** Copies a BLOB column value into a fresh Uint8Array. */
export function blobOf(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', { detail: 'expected a blob' });
  }
  return Uint8Array.from(value);
}
