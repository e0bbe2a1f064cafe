/**
 * The store header: the small JSON file beside the database that says what the store is and
 * holds the only on-disk copy of the data key, wrapped by the KMS provider (ARCHITECTURE.md §9).
 *
 * It is versioned so that a future release can change the cipher or the wrap without guessing,
 * and parsed strictly (unknown fields rejected) because it is read before anything is
 * authenticated.
 * @module
 */
import { readFile } from 'node:fs/promises';

import { CosignerError } from '../errors.js';
import { hasExactKeys, isPlainObject } from '../kms/bytes.js';
import type { WrappedKey } from '../kms/kms-provider.js';
import { parseWrappedKey } from '../kms/kms-provider.js';

export const STORE_HEADER_FORMAT = 'countersign-cosigner-store';
export const STORE_HEADER_VERSION = 1;
/** SQLite3 Multiple Ciphers scheme `sqlcipher`, legacy = 4 (SQLCipher 4 compatible), raw key. */
export const STORE_CIPHER = 'sqlcipher-4-raw-key';

/** Parsed store header. */
export interface StoreHeader {
  readonly format: typeof STORE_HEADER_FORMAT;
  readonly version: typeof STORE_HEADER_VERSION;
  /** Random id of the store, also kept inside the database to pair the two files. */
  readonly storeId: string;
  /** ISO 8601 creation time. */
  readonly createdAt: string;
  readonly cipher: typeof STORE_CIPHER;
  readonly wrappedKey: WrappedKey;
}

/** Serialises a header for writing. */
export function serializeStoreHeader(header: StoreHeader): string {
  return JSON.stringify(header, null, 2) + '\n';
}

/** Validates an untrusted value as a {@link StoreHeader}. */
export function parseStoreHeader(value: unknown): StoreHeader {
  const bad = (detail: string): CosignerError =>
    new CosignerError('ERR_COSIGNER_STORE_HEADER_INVALID', { detail });
  if (!isPlainObject(value)) throw bad('not an object');
  if (!hasExactKeys(value, ['format', 'version', 'storeId', 'createdAt', 'cipher', 'wrappedKey'])) {
    throw bad('unexpected or missing fields');
  }
  if (value['format'] !== STORE_HEADER_FORMAT) throw bad('not a co-signer store header');
  if (value['version'] !== STORE_HEADER_VERSION || value['cipher'] !== STORE_CIPHER) {
    throw new CosignerError('ERR_COSIGNER_STORE_VERSION', {
      detail: 'store header version or cipher',
    });
  }
  const { storeId, createdAt } = value;
  if (typeof storeId !== 'string' || !/^[0-9a-f]{32}$/.test(storeId)) throw bad('storeId');
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw bad('createdAt');
  return Object.freeze({
    format: STORE_HEADER_FORMAT,
    version: STORE_HEADER_VERSION,
    storeId,
    createdAt,
    cipher: STORE_CIPHER,
    wrappedKey: parseWrappedKey(value['wrappedKey']),
  });
}

/** Reads and validates the header file at `path`. */
export async function readStoreHeader(path: string): Promise<StoreHeader> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CosignerError('ERR_COSIGNER_STORE_NOT_FOUND', { detail: path, cause: e });
    }
    throw new CosignerError('ERR_COSIGNER_STORE_HEADER_INVALID', {
      detail: 'unreadable',
      cause: e,
    });
  }
  if (text.length > 64 * 1024) {
    throw new CosignerError('ERR_COSIGNER_STORE_HEADER_INVALID', { detail: 'too large' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CosignerError('ERR_COSIGNER_STORE_HEADER_INVALID', { detail: 'not JSON', cause: e });
  }
  return parseStoreHeader(json);
}
