/**
 * The backup file format: one file that carries a store to another machine.
 *
 * Layout (all integers big-endian):
 *
 *     magic        "countersign-cosigner-backup\n" (28 bytes)
 *     headerLength u32
 *     header       JSON, headerLength bytes: format, version, createdAt, databaseBytes, store
 *                  header (with the wrapped data key)
 *     database     the encrypted database snapshot, databaseBytes bytes
 *     checksum     SHA-256 of everything above (32 bytes)
 *
 * The checksum catches truncation and accidental damage. It is not what makes a backup
 * trustworthy — anyone can recompute it: authenticity comes from the database cipher's per-page
 * HMAC, the sealed blobs' GCM tags and the KMS unwrap, all of which an altered backup fails.
 * @module
 */
import { createHash } from 'node:crypto';

import { CosignerError } from '../errors.js';
import { equalBytesConstantTime, hasExactKeys, isPlainObject, utf8 } from '../kms/bytes.js';
import type { StoreHeader } from './store-header.js';
import { parseStoreHeader } from './store-header.js';

const MAGIC = utf8('countersign-cosigner-backup\n');
const BACKUP_FORMAT = 'countersign-cosigner-backup';
const BACKUP_VERSION = 1;
const MAX_HEADER_BYTES = 64 * 1024;
const CHECKSUM_BYTES = 32;

/** A decoded backup. */
export interface BackupContents {
  readonly createdAt: string;
  readonly storeHeader: StoreHeader;
  readonly database: Uint8Array;
}

/** Encodes a backup file. */
export function encodeBackup(contents: BackupContents): Uint8Array {
  const header = utf8(
    JSON.stringify({
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAt: contents.createdAt,
      databaseBytes: contents.database.length,
      storeHeader: contents.storeHeader,
    }),
  );
  const bodyLength = MAGIC.length + 4 + header.length + contents.database.length;
  const out = new Uint8Array(bodyLength + CHECKSUM_BYTES);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length);
  out.set(header, MAGIC.length + 4);
  out.set(contents.database, MAGIC.length + 4 + header.length);
  out.set(sha256(out.subarray(0, bodyLength)), bodyLength);
  return out;
}

/** Decodes and checks a backup file; any defect is `ERR_COSIGNER_BACKUP_INVALID`. */
export function decodeBackup(bytes: Uint8Array): BackupContents {
  const bad = (detail: string, cause?: unknown): CosignerError =>
    new CosignerError(
      'ERR_COSIGNER_BACKUP_INVALID',
      cause === undefined ? { detail } : { detail, cause },
    );
  if (bytes.length < MAGIC.length + 4 + CHECKSUM_BYTES) throw bad('too short');
  if (!equalBytesConstantTime(bytes.subarray(0, MAGIC.length), MAGIC))
    throw bad('not a co-signer backup');
  const bodyLength = bytes.length - CHECKSUM_BYTES;
  if (!equalBytesConstantTime(sha256(bytes.subarray(0, bodyLength)), bytes.subarray(bodyLength))) {
    throw bad('checksum mismatch (truncated or damaged)');
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  if (headerLength > MAX_HEADER_BYTES || headerStart + headerLength > bodyLength)
    throw bad('header length');
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(
        bytes.subarray(headerStart, headerStart + headerLength),
      ),
    );
  } catch (e) {
    throw bad('header is not JSON', e);
  }
  if (
    !isPlainObject(header) ||
    !hasExactKeys(header, ['format', 'version', 'createdAt', 'databaseBytes', 'storeHeader'])
  ) {
    throw bad('header fields');
  }
  if (header['format'] !== BACKUP_FORMAT) throw bad('header format');
  if (header['version'] !== BACKUP_VERSION) {
    throw new CosignerError('ERR_COSIGNER_STORE_VERSION', { detail: 'backup version' });
  }
  const { createdAt, databaseBytes } = header;
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw bad('createdAt');
  const databaseStart = headerStart + headerLength;
  if (databaseBytes !== bodyLength - databaseStart || databaseBytes === 0)
    throw bad('database length');
  let storeHeader: StoreHeader;
  try {
    storeHeader = parseStoreHeader(header['storeHeader']);
  } catch (e) {
    if (e instanceof CosignerError && e.code === 'ERR_COSIGNER_STORE_VERSION') throw e;
    throw bad('store header', e);
  }
  return {
    createdAt,
    storeHeader,
    database: Uint8Array.from(bytes.subarray(databaseStart, bodyLength)),
  };
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}
