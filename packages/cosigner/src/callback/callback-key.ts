/**
 * The co-signer's callback key (ARCHITECTURE.md §7): an RSA key pair whose private half signs the
 * JWTs (RS256) the co-signer sends to its Callback Handler, and whose public half the handler is
 * configured with (`cosigner print-public-key`). Made once at setup, kept in the store's sealed
 * secrets as PKCS#8 DER, and separate from the Ed25519 identity that signs MPC messages: a
 * Callback Handler never needs to trust anything that could speak in an MPC session.
 * @module
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';

const CALLBACK_KEY_SECRET = 'callback.rsa';
/** 3072-bit RSA: 128-bit security (NIST SP 800-57), well above the handler side's 2048 minimum. */
const MODULUS_BITS = 3072;

const generate = promisify(generateKeyPair);

/** Generates and stores the callback key; refuses if the store already has one. */
export async function createCallbackKey(store: CosignerStore): Promise<void> {
  if (store.secrets.getSecret(CALLBACK_KEY_SECRET) !== undefined) {
    throw new CosignerError('ERR_COSIGNER_CONFLICT', {
      detail: 'the store already has a callback key',
    });
  }
  const { privateKey } = await generate('rsa', {
    modulusLength: MODULUS_BITS,
    publicExponent: 65537,
  });
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  try {
    store.secrets.putSecret(CALLBACK_KEY_SECRET, der);
  } finally {
    der.fill(0);
  }
}

/** The callback private key; ERR_COSIGNER_NOT_FOUND if setup never made one. */
export function loadCallbackKey(store: CosignerStore): KeyObject {
  const der = store.secrets.getSecret(CALLBACK_KEY_SECRET);
  if (der === undefined)
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: 'callback key' });
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

/** The callback public key as SPKI PEM, the form a Callback Handler is configured with. */
export function callbackPublicKeyPem(store: CosignerStore): string {
  return createPublicKey(loadCallbackKey(store)).export({ format: 'pem', type: 'spki' }).toString();
}
