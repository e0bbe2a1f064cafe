/**
 * The key behind an API user. The client never touches key material itself:
 * it hands the JWT signing input (RFC 7515 §5.1: ASCII of
 * `base64url(header) "." base64url(payload)`) to a `RequestSigner` and puts
 * the returned bytes in the token. That keeps a key held in a KMS or HSM
 * usable: `sign` is asynchronous and may call out to it.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { CountersignUsageError } from './errors.js';

export interface RequestSigner {
  /**
   * RS256 (RFC 7518 §3.3): RSASSA-PKCS1-v1_5 with SHA-256 over `signingInput`.
   * Returns the raw signature bytes (modulus length). A KMS that signs
   * digests only must be given SHA-256(signingInput) with PKCS#1 v1.5 padding.
   */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

/** Below this the platform refuses the API user's CSR, so fail here first. */
const MIN_MODULUS_BITS = 2048;

/**
 * A `RequestSigner` over an RSA private key PEM (PKCS#8 `PRIVATE KEY`, as
 * `countersign csr` and `openssl req -newkey` write it, or PKCS#1
 * `RSA PRIVATE KEY`), signing with node:crypto.
 */
export function createPemRequestSigner(
  privateKeyPem: string,
  options: { passphrase?: string } = {},
): RequestSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(
      options.passphrase === undefined
        ? { key: privateKeyPem, format: 'pem' }
        : { key: privateKeyPem, format: 'pem', passphrase: options.passphrase },
    );
  } catch (cause) {
    // The parser's message may quote the input; never echo key material.
    throw new CountersignUsageError(
      `Not a readable private key PEM${cause instanceof Error && 'code' in cause ? ` (${String(cause.code)})` : ''}`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CountersignUsageError(
      `API user keys are RSA (RS256); got a ${key.asymmetricKeyType ?? 'unknown'} key`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_MODULUS_BITS) {
    throw new CountersignUsageError(
      `RSA key of ${bits} bits is too small; at least ${MIN_MODULUS_BITS} required`,
    );
  }
  return {
    sign(signingInput: Uint8Array): Promise<Uint8Array> {
      return Promise.resolve(sign('sha256', signingInput, key));
    },
  };
}
