/**
 * AES-256-GCM (NIST SP 800-38D) with a 96-bit random IV and a 128-bit tag, on Node's OpenSSL.
 *
 * Used to wrap the data key with the `local` provider's key and to seal share, presignature and
 * protocol-state blobs in the store. Every open failure — wrong key, altered ciphertext, other
 * AAD — becomes the one {@link decryptionFailed} error, so callers cannot tell them apart.
 * Random 96-bit IVs stay far below the 2^32 messages-per-key bound of SP 800-38D §8.3 for a
 * co-signer's volumes (one message per share set, presignature or session state).
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { decryptionFailed } from '../errors.js';
import { abytes } from './bytes.js';

export const AES_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** Encrypts `plaintext`; returns `iv` and `ciphertext || tag`. */
export function aesGcmEncrypt(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { iv: Uint8Array; ciphertext: Uint8Array } {
  abytes(key, 'key', AES_KEY_BYTES);
  abytes(plaintext, 'plaintext');
  abytes(aad, 'aad');
  const iv = new Uint8Array(randomBytes(GCM_IV_BYTES));
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const ciphertext = new Uint8Array(body.length + final.length + GCM_TAG_BYTES);
  ciphertext.set(body, 0);
  ciphertext.set(final, body.length);
  ciphertext.set(cipher.getAuthTag(), body.length + final.length);
  body.fill(0);
  return { iv, ciphertext };
}

/** Decrypts `ciphertext || tag`; throws the fixed decryption error on any failure. */
export function aesGcmDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  abytes(key, 'key', AES_KEY_BYTES);
  if (
    !(iv instanceof Uint8Array) ||
    iv.length !== GCM_IV_BYTES ||
    !(ciphertext instanceof Uint8Array) ||
    ciphertext.length < GCM_TAG_BYTES
  ) {
    throw decryptionFailed();
  }
  abytes(aad, 'aad');
  const split = ciphertext.length - GCM_TAG_BYTES;
  let body: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(ciphertext.subarray(split));
    body = decipher.update(ciphertext.subarray(0, split));
    decipher.final(); // throws when the tag does not verify
    const plaintext = new Uint8Array(body);
    return plaintext;
  } catch (e) {
    throw decryptionFailed(e);
  } finally {
    body?.fill(0);
  }
}
