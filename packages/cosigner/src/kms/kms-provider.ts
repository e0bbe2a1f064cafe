/**
 * The KMS provider contract: the one thing that can turn the store's data key into bytes that
 * are safe to keep on disk, and back (ARCHITECTURE.md §9).
 *
 * A provider never sees the database; it wraps and unwraps a 32-byte data key. The result, a
 * {@link WrappedKey}, is plain JSON kept in the store header and in backups; it names the
 * provider and the (non-secret) key that wrapped it, so that opening a store with the wrong
 * provider or key fails with a clear error before anything is touched.
 * @module
 */
import { CosignerError } from '../errors.js';
import { fromBase64, hasExactKeys, isPlainObject, utf8 } from './bytes.js';

/** Version of the {@link WrappedKey} format. */
export const WRAPPED_KEY_FORMAT = 1;

/** Identifiers of the providers this package ships. */
export type KmsProviderId = 'local' | 'pkcs11' | 'aws-kms' | 'gcp-kms';

/** A data key wrapped by a KMS provider; plain JSON, no secret in the clear. */
export interface WrappedKey {
  /** {@link WRAPPED_KEY_FORMAT}. */
  readonly format: 1;
  /** The provider that wrapped it (`KmsProvider.id`). */
  readonly provider: string;
  /** The key that wrapped it, as the provider names it (key file id, HSM label, key ARN, ...). */
  readonly keyId: string;
  /** Provider parameters needed to unwrap (IV, mechanism, key version); never secret. */
  readonly params: Readonly<Record<string, string>>;
  /** The wrapped key, base64. */
  readonly ciphertext: string;
}

/** A key management backend that wraps the store's data key. */
export interface KmsProvider {
  /** Provider identifier, recorded in every {@link WrappedKey} it makes. */
  readonly id: string;
  /** One line for humans and logs: provider and key, never a secret. */
  describe(): string;
  /** Wraps a 32-byte data key. The caller keeps ownership of `dataKey` (and zeroes it). */
  wrapKey(dataKey: Uint8Array): Promise<WrappedKey>;
  /** Unwraps; the caller owns (and zeroes) the result. Any key or integrity failure throws. */
  unwrapKey(wrapped: WrappedKey): Promise<Uint8Array>;
  /** Releases sessions and wipes cached secrets; the provider is unusable afterwards. */
  close?(): Promise<void>;
}

/** Length of the store data key. */
export const DATA_KEY_BYTES = 32;

/**
 * Additional authenticated data of every wrap: binds the provider id and the format version (and,
 * where the provider has one, its key id), so a wrapped key cannot be replayed under another
 * provider or format.
 */
export function wrapAad(providerId: string, keyId?: string): Uint8Array {
  const base = `countersign/cosigner/data-key/v${WRAPPED_KEY_FORMAT}/${providerId}`;
  return utf8(keyId === undefined ? base : `${base}/${keyId}`);
}

/** Validates an untrusted value as a {@link WrappedKey}; returns a fresh, frozen copy. */
export function parseWrappedKey(value: unknown): WrappedKey {
  const bad = (detail: string): CosignerError =>
    new CosignerError('ERR_COSIGNER_STORE_HEADER_INVALID', { detail: `wrapped key: ${detail}` });
  if (!isPlainObject(value)) throw bad('not an object');
  if (!hasExactKeys(value, ['format', 'provider', 'keyId', 'params', 'ciphertext'])) {
    throw bad('unexpected or missing fields');
  }
  if (value['format'] !== WRAPPED_KEY_FORMAT) {
    throw new CosignerError('ERR_COSIGNER_STORE_VERSION', { detail: 'wrapped key format' });
  }
  const { provider, keyId, params, ciphertext } = value;
  if (typeof provider !== 'string' || !/^[a-z0-9-]{1,32}$/.test(provider)) throw bad('provider');
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > 2048) throw bad('keyId');
  if (!isPlainObject(params) || Object.keys(params).length > 16) throw bad('params');
  const copy: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (!/^[a-zA-Z0-9]{1,32}$/.test(k) || typeof v !== 'string' || v.length > 2048) {
      throw bad('params');
    }
    copy[k] = v;
  }
  if (fromBase64(ciphertext, 64 * 1024) === undefined) throw bad('ciphertext');
  return Object.freeze({
    format: WRAPPED_KEY_FORMAT,
    provider,
    keyId,
    params: Object.freeze(copy),
    ciphertext: ciphertext as string,
  });
}

/** Throws unless `wrapped` was made by the provider `providerId`. */
export function assertWrappedBy(wrapped: WrappedKey, providerId: string): void {
  if (wrapped.provider !== providerId) {
    throw new CosignerError('ERR_COSIGNER_KMS_PROVIDER_MISMATCH', {
      detail: `wrapped by "${wrapped.provider}", opened with "${providerId}"`,
    });
  }
}

/** Throws unless `dataKey` is a 32-byte key. */
export function assertDataKey(dataKey: unknown): asserts dataKey is Uint8Array {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `data key must be ${DATA_KEY_BYTES} bytes`,
    });
  }
}
