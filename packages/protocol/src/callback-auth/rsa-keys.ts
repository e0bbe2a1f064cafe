/**
 * Loads the RSA keys of the callback protocol (RS256, RFC 7518 §3.3). A key is checked once, at
 * configuration time, so a wrong key fails at start-up and never on a live request.
 * @module
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';

import { CallbackError } from './callback-auth-error.js';

/** RFC 7518 §3.3: a key of size 2048 bits or larger MUST be used with RS256. */
export const MIN_RSA_MODULUS_BITS = 2048;

/** A PEM string (SPKI or PKCS#1) or a public `KeyObject`; a private key is reduced to its public half. */
export type PublicKeyInput = string | KeyObject;
/** A PEM string (PKCS#8 or PKCS#1) or a private `KeyObject`. */
export type PrivateKeyInput = string | KeyObject;

export function loadRsaPublicKey(input: PublicKeyInput, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = input instanceof KeyObject ? input : createPublicKey(input);
    if (key.type === 'private') key = createPublicKey(key);
  } catch (cause) {
    throw new CallbackError('ERR_CALLBACK_INVALID_KEY', `${what}: not a PEM public key`, {
      cause,
    });
  }
  if (key.type !== 'public') {
    throw new CallbackError('ERR_CALLBACK_INVALID_KEY', `${what}: not a public key`);
  }
  checkRsa(key, what);
  return key;
}

export function loadRsaPrivateKey(input: PrivateKeyInput, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = input instanceof KeyObject ? input : createPrivateKey(input);
  } catch {
    // No cause: the parser's message may quote the input, and the input is a secret.
    throw new CallbackError('ERR_CALLBACK_INVALID_KEY', `${what}: not a PEM private key`);
  }
  if (key.type !== 'private') {
    throw new CallbackError('ERR_CALLBACK_INVALID_KEY', `${what}: not a private key`);
  }
  checkRsa(key, what);
  return key;
}

function checkRsa(key: KeyObject, what: string): void {
  // 'rsa-pss' keys are refused: they cannot make or check PKCS#1 v1.5 (RS256) signatures.
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CallbackError(
      'ERR_CALLBACK_INVALID_KEY',
      `${what}: must be an RSA key (got ${key.asymmetricKeyType ?? 'a symmetric key'})`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_MODULUS_BITS) {
    throw new CallbackError(
      'ERR_CALLBACK_INVALID_KEY',
      `${what}: RSA key of ${bits} bits, at least ${MIN_RSA_MODULUS_BITS} required`,
    );
  }
}

/** Modulus size in bytes: the exact length of every RS256 signature made with the key. */
export function rsaSignatureLength(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}
