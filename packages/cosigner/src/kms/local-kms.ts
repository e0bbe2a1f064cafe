/**
 * `local` KMS provider: a key file protected by a passphrase (ARCHITECTURE.md §9).
 *
 * The key file holds a random 256-bit key-encryption key (KEK), sealed with AES-256-GCM under a
 * key derived from the passphrase with scrypt (RFC 7914); the scrypt parameters and salt are
 * stored in the file, N = 2^17 by default. The KEK wraps the store's data key with AES-256-GCM,
 * the AAD binding the provider id, the wrap format version and the key file's id. The KEK is
 * re-derived for each wrap or unwrap and wiped at once, so only the passphrase stays in memory
 * (until {@link LocalKmsProvider.close}). Moving a store to a new machine needs the key file and
 * the passphrase.
 * @module
 */
import { randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

import { CosignerError, decryptionFailed } from '../errors.js';
import { AES_KEY_BYTES, aesGcmDecrypt, aesGcmEncrypt } from './aes-256-gcm.js';
import { fromBase64, hasExactKeys, isPlainObject, toBase64, utf8, zeroize } from './bytes.js';
import type { KmsProvider, WrappedKey } from './kms-provider.js';
import { WRAPPED_KEY_FORMAT, assertDataKey, assertWrappedBy, wrapAad } from './kms-provider.js';

/** Provider id of this module. */
export const LOCAL_KMS_ID = 'local';

/** Production scrypt cost, log2(N): 2^17 with r = 8 takes 128 MiB and ~0.3 s. */
export const DEFAULT_SCRYPT_LOG_N = 17;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
/**
 * The lowest log2(N) a key file may name (with the r and p it names): for a passphrase that needs
 * no work factor — 256 random bits, as `countersign dev` generates, cannot be guessed at any
 * cost — and for tests. A passphrase a person chose needs the default.
 */
export const MIN_SCRYPT_LOG_N = 10;
// Bounds accepted from a key file, so that a crafted file cannot ask for gigabytes of memory.
const MIN_LOG_N = MIN_SCRYPT_LOG_N;
const MAX_LOG_N = 20;

const KEY_FILE_FORMAT = 'countersign-local-kms-key';
const KEY_FILE_VERSION = 1;

/** Options of {@link createLocalKmsKey}. */
export interface CreateLocalKmsKeyOptions {
  /** Where to write the key file; an existing file is never overwritten. */
  readonly keyFile: string;
  readonly passphrase: string | Uint8Array;
  /**
   * scrypt cost as log2(N), default {@link DEFAULT_SCRYPT_LOG_N}. Lower only for a passphrase
   * that cannot be guessed anyway, or in tests (see {@link MIN_SCRYPT_LOG_N}), hence the name.
   */
  readonly unsafeScryptLogN?: number;
}

/** Options of {@link openLocalKms}. */
export interface OpenLocalKmsOptions {
  readonly keyFile: string;
  readonly passphrase: string | Uint8Array;
}

interface KeyFile {
  readonly keyId: string;
  readonly logN: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Uint8Array;
  readonly iv: Uint8Array;
  readonly sealedKek: Uint8Array;
}

/** Creates a new key file (mode 0600) with a fresh KEK and returns a provider for it. */
export async function createLocalKmsKey(
  options: CreateLocalKmsKeyOptions,
): Promise<LocalKmsProvider> {
  const logN = options.unsafeScryptLogN ?? DEFAULT_SCRYPT_LOG_N;
  if (!Number.isInteger(logN) || logN < MIN_LOG_N || logN > MAX_LOG_N) {
    throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
      detail: `scrypt log2(N) must be an integer in [${MIN_LOG_N}, ${MAX_LOG_N}]`,
    });
  }
  const passphrase = passphraseBytes(options.passphrase);
  const keyId = randomBytes(16).toString('hex');
  const salt = new Uint8Array(randomBytes(32));
  const kek = new Uint8Array(randomBytes(AES_KEY_BYTES));
  let passKey: Uint8Array | undefined;
  try {
    passKey = await deriveKey(passphrase, salt, logN, SCRYPT_R, SCRYPT_P);
    const { iv, ciphertext } = aesGcmEncrypt(passKey, kek, keyFileAad(keyId));
    const text = JSON.stringify(
      {
        format: KEY_FILE_FORMAT,
        version: KEY_FILE_VERSION,
        keyId,
        kdf: { name: 'scrypt', logN, r: SCRYPT_R, p: SCRYPT_P, salt: toBase64(salt) },
        iv: toBase64(iv),
        sealedKek: toBase64(ciphertext),
      },
      null,
      2,
    );
    try {
      await writeFile(options.keyFile, text + '\n', { flag: 'wx', mode: 0o600, flush: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CosignerError('ERR_COSIGNER_KEY_FILE_EXISTS', {
          detail: options.keyFile,
          cause: e,
        });
      }
      throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
        detail: 'cannot write key file',
        cause: e,
      });
    }
    const file: KeyFile = {
      keyId,
      logN,
      r: SCRYPT_R,
      p: SCRYPT_P,
      salt,
      iv,
      sealedKek: ciphertext,
    };
    return new LocalKmsProvider(options.keyFile, file, passphrase);
  } catch (e) {
    zeroize(passphrase);
    throw e;
  } finally {
    zeroize(kek, passKey);
  }
}

/** Reads and validates a key file; the passphrase is checked at the first wrap or unwrap. */
export async function openLocalKms(options: OpenLocalKmsOptions): Promise<LocalKmsProvider> {
  let text: string;
  try {
    text = await readFile(options.keyFile, 'utf8');
  } catch (e) {
    throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
      detail: 'cannot read key file',
      cause: e,
    });
  }
  const file = parseKeyFile(text);
  return new LocalKmsProvider(options.keyFile, file, passphraseBytes(options.passphrase));
}

/** The `local` provider; see the module comment. */
export class LocalKmsProvider implements KmsProvider {
  readonly id = LOCAL_KMS_ID;
  readonly #path: string;
  readonly #file: KeyFile;
  readonly #passphrase: Uint8Array;
  #closed = false;

  /** @internal Use {@link createLocalKmsKey} or {@link openLocalKms}. */
  constructor(path: string, file: KeyFile, passphrase: Uint8Array) {
    this.#path = path;
    this.#file = file;
    this.#passphrase = passphrase;
  }

  /** The key file's random identifier, recorded as `keyId` in every wrapped key. */
  get keyId(): string {
    return this.#file.keyId;
  }

  /** log2 of the scrypt cost N the key file names for its passphrase. */
  get scryptLogN(): number {
    return this.#file.logN;
  }

  describe(): string {
    return `local key file ${this.#path} (key ${this.#file.keyId}, scrypt N = 2^${this.#file.logN})`;
  }

  async wrapKey(dataKey: Uint8Array): Promise<WrappedKey> {
    assertDataKey(dataKey);
    const kek = await this.#openKek();
    try {
      const { iv, ciphertext } = aesGcmEncrypt(kek, dataKey, this.#aad());
      return {
        format: WRAPPED_KEY_FORMAT,
        provider: this.id,
        keyId: this.#file.keyId,
        params: { iv: toBase64(iv) },
        ciphertext: toBase64(ciphertext),
      };
    } finally {
      zeroize(kek);
    }
  }

  async unwrapKey(wrapped: WrappedKey): Promise<Uint8Array> {
    assertWrappedBy(wrapped, this.id);
    if (wrapped.keyId !== this.#file.keyId) {
      throw new CosignerError('ERR_COSIGNER_KMS_KEY_MISMATCH', {
        detail: `wrapped by key ${wrapped.keyId}, key file holds ${this.#file.keyId}`,
      });
    }
    const iv = fromBase64(wrapped.params['iv']);
    const ciphertext = fromBase64(wrapped.ciphertext);
    if (iv === undefined || ciphertext === undefined) throw decryptionFailed();
    const kek = await this.#openKek();
    try {
      const dataKey = aesGcmDecrypt(kek, iv, ciphertext, this.#aad());
      assertDataKey(dataKey);
      return dataKey;
    } finally {
      zeroize(kek);
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    zeroize(this.#passphrase);
    return Promise.resolve();
  }

  #aad(): Uint8Array {
    return wrapAad(this.id, this.#file.keyId);
  }

  async #openKek(): Promise<Uint8Array> {
    if (this.#closed)
      throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', { detail: 'provider closed' });
    const { logN, r, p, salt, iv, sealedKek, keyId } = this.#file;
    const passKey = await deriveKey(this.#passphrase, salt, logN, r, p);
    try {
      return aesGcmDecrypt(passKey, iv, sealedKek, keyFileAad(keyId));
    } finally {
      zeroize(passKey);
    }
  }
}

function keyFileAad(keyId: string): Uint8Array {
  return utf8(`${KEY_FILE_FORMAT}/v${KEY_FILE_VERSION}/${keyId}`);
}

function passphraseBytes(passphrase: string | Uint8Array): Uint8Array {
  // NFC so that the same passphrase typed on two systems derives the same key.
  const bytes =
    typeof passphrase === 'string'
      ? utf8(passphrase.normalize('NFC'))
      : Uint8Array.from(passphrase);
  if (bytes.length === 0 || bytes.length > 1024) {
    throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
      detail: 'passphrase must be 1 to 1024 bytes',
    });
  }
  return bytes;
}

function deriveKey(
  passphrase: Uint8Array,
  salt: Uint8Array,
  logN: number,
  r: number,
  p: number,
): Promise<Uint8Array> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scryptCallback(
      passphrase,
      salt,
      AES_KEY_BYTES,
      { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 },
      (err, key) => {
        if (err !== null) {
          reject(
            new CosignerError('ERR_COSIGNER_KMS_CONFIG', { detail: 'scrypt failed', cause: err }),
          );
          return;
        }
        const out = new Uint8Array(key);
        key.fill(0);
        resolve(out);
      },
    );
  });
}

function parseKeyFile(text: string): KeyFile {
  const bad = (detail: string): CosignerError =>
    new CosignerError('ERR_COSIGNER_KEY_FILE_INVALID', { detail });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CosignerError('ERR_COSIGNER_KEY_FILE_INVALID', { detail: 'not JSON', cause: e });
  }
  if (
    !isPlainObject(json) ||
    !hasExactKeys(json, ['format', 'version', 'keyId', 'kdf', 'iv', 'sealedKek'])
  ) {
    throw bad('unexpected or missing fields');
  }
  if (json['format'] !== KEY_FILE_FORMAT || json['version'] !== KEY_FILE_VERSION) {
    throw bad('unknown format or version');
  }
  const { keyId, kdf } = json;
  if (typeof keyId !== 'string' || !/^[0-9a-f]{32}$/.test(keyId)) throw bad('keyId');
  if (
    !isPlainObject(kdf) ||
    !hasExactKeys(kdf, ['name', 'logN', 'r', 'p', 'salt']) ||
    kdf['name'] !== 'scrypt'
  ) {
    throw bad('kdf');
  }
  const { logN, r, p } = kdf;
  if (
    typeof logN !== 'number' ||
    !Number.isInteger(logN) ||
    logN < MIN_LOG_N ||
    logN > MAX_LOG_N ||
    typeof r !== 'number' ||
    !Number.isInteger(r) ||
    r < 1 ||
    r > 16 ||
    typeof p !== 'number' ||
    !Number.isInteger(p) ||
    p < 1 ||
    p > 4
  ) {
    throw bad('kdf parameters out of range');
  }
  const salt = fromBase64(kdf['salt'], 64);
  const iv = fromBase64(json['iv'], 64);
  const sealedKek = fromBase64(json['sealedKek'], 64);
  if (salt === undefined || salt.length < 16) throw bad('salt');
  if (iv === undefined || sealedKek === undefined) throw bad('sealed key');
  return { keyId, logN, r, p, salt, iv, sealedKek };
}
