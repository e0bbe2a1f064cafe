/**
 * Loads the RSA keys of the callback protocol (RS256, RFC 7518 §3.3). A key is checked once, at
 * configuration time, so a wrong key fails at start-up and never on a live request.
 * @module
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';

import { CallbackError } from './callback-auth-error.js';

/** RFC 7518 §3.3: a key of size 2048 bits or larger MUST be used with RS256. */
export const MIN_RSA_MODULUS_BITS = 2048;
/** Far above any real key; a larger one would only make every verification slow. */
export const MAX_RSA_MODULUS_BITS = 16384;
/** F4 = 65537, what every mainstream tool makes (NIST SP 800-56B allows odd e ≥ 65537). */
const RSA_PUBLIC_EXPONENT = 65537n;

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
  if (bits > MAX_RSA_MODULUS_BITS) {
    throw new CallbackError(
      'ERR_CALLBACK_INVALID_KEY',
      `${what}: RSA key of ${bits} bits, at most ${MAX_RSA_MODULUS_BITS} accepted`,
    );
  }
  // With e = 1 a "signature" is the padded message itself, so anyone could forge one; any other
  // odd exponent is legal but unused in practice, so only F4 is accepted (review 2026-11-27 F6).
  if (key.asymmetricKeyDetails?.publicExponent !== RSA_PUBLIC_EXPONENT) {
    throw new CallbackError(
      'ERR_CALLBACK_INVALID_KEY',
      `${what}: RSA public exponent must be 65537`,
    );
  }
}

/** Modulus size in bytes: the exact length of every RS256 signature made with the key. */
export function rsaSignatureLength(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}
