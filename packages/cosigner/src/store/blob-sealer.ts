/**
 * Sealing of share, presignature, protocol-state and secret blobs inside the encrypted database.
 *
 * The database is already encrypted as a whole; sealing each secret blob again with AES-256-GCM
 * means a reader of the decrypted database pages (a leaked page cache, a bug that dumps a row)
 * still gets nothing, and — through the AAD — that a blob copied to another row does not open.
 * Each purpose has its own subkey, HKDF-SHA256 (RFC 5869) of the data key with a distinct info
 * label, so a blob of one kind can never be opened as another. The AAD is the purpose label and
 * the row identity, each field length-prefixed so that no two identities encode alike.
 *
 * Sealed layout: `0x01 || iv (12) || ciphertext || tag (16)`.
 * @module
 */
import { hkdfSync } from 'node:crypto';

import { CosignerError, decryptionFailed } from '../errors.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES, aesGcmDecrypt, aesGcmEncrypt } from '../kms/aes-256-gcm.js';
import { utf8, zeroize } from '../kms/bytes.js';
import { DATA_KEY_BYTES } from '../kms/kms-provider.js';

const SEALED_VERSION = 0x01;

/** Kinds of sealed blobs; each has its own subkey and AAD label. */
export type SealPurpose =
  | 'share-set'
  | 'presignature'
  | 'protocol-state'
  | 'refresh-token'
  | 'secret';

const PURPOSES: readonly SealPurpose[] = [
  'share-set',
  'presignature',
  'protocol-state',
  'refresh-token',
  'secret',
];

function label(purpose: SealPurpose): string {
  return `countersign/cosigner/store/v1/seal/${purpose}`;
}

/** Encodes the AAD: purpose label, then each identity field, each as u32 length || UTF-8. */
export function sealAad(purpose: SealPurpose, identity: readonly (string | number)[]): Uint8Array {
  const parts = [label(purpose), ...identity.map(String)].map(utf8);
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** Holds the per-purpose subkeys of one open store; {@link destroy} wipes them. */
export class BlobSealer {
  readonly #keys = new Map<SealPurpose, Uint8Array>();

  /** Derives the subkeys; the caller keeps ownership of `dataKey`. */
  constructor(dataKey: Uint8Array) {
    if (dataKey.length !== DATA_KEY_BYTES) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'data key length' });
    }
    for (const purpose of PURPOSES) {
      const key = new Uint8Array(
        hkdfSync('sha256', dataKey, new Uint8Array(0), label(purpose), 32),
      );
      this.#keys.set(purpose, key);
    }
  }

  /** Seals `plaintext` for the row `identity`. */
  seal(
    purpose: SealPurpose,
    identity: readonly (string | number)[],
    plaintext: Uint8Array,
  ): Uint8Array {
    const { iv, ciphertext } = aesGcmEncrypt(
      this.#key(purpose),
      plaintext,
      sealAad(purpose, identity),
    );
    const out = new Uint8Array(1 + iv.length + ciphertext.length);
    out[0] = SEALED_VERSION;
    out.set(iv, 1);
    out.set(ciphertext, 1 + iv.length);
    return out;
  }

  /** Opens a blob sealed for the row `identity`; any mismatch throws the fixed decryption error. */
  open(
    purpose: SealPurpose,
    identity: readonly (string | number)[],
    sealed: Uint8Array,
  ): Uint8Array {
    if (sealed.length < 1 + GCM_IV_BYTES + GCM_TAG_BYTES || sealed[0] !== SEALED_VERSION) {
      throw decryptionFailed();
    }
    return aesGcmDecrypt(
      this.#key(purpose),
      sealed.subarray(1, 1 + GCM_IV_BYTES),
      sealed.subarray(1 + GCM_IV_BYTES),
      sealAad(purpose, identity),
    );
  }

  /** Wipes every subkey; the sealer is unusable afterwards. */
  destroy(): void {
    zeroize(...this.#keys.values());
    this.#keys.clear();
  }

  #key(purpose: SealPurpose): Uint8Array {
    const key = this.#keys.get(purpose);
    if (key === undefined) throw new CosignerError('ERR_COSIGNER_STORE_CLOSED');
    return key;
  }
}
