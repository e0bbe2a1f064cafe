/**
 * `aws-kms` KMS provider: AWS Key Management Service through the official SDK
 * (`@aws-sdk/client-kms`), operations Encrypt and Decrypt (AWS KMS API reference).
 *
 * The data key is encrypted under a symmetric KMS key; the encryption context — AWS KMS's AAD —
 * binds the purpose and the wrap format version, and Decrypt names the key explicitly, so a
 * ciphertext made under another key is refused by the service (IncorrectKeyException). The
 * endpoint is configurable (VPC endpoints, test servers). Service errors are mapped to
 * {@link CosignerError} codes by their AWS error name, which is never secret.
 * @module
 */
import type { KMSClientConfig } from '@aws-sdk/client-kms';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';

import { CosignerError, decryptionFailed } from '../errors.js';
import { astring, fromBase64, sanitizedCause, toBase64 } from './bytes.js';
import type { KmsProvider, WrappedKey } from './kms-provider.js';
import {
  DATA_KEY_BYTES,
  WRAPPED_KEY_FORMAT,
  assertDataKey,
  assertWrappedBy,
} from './kms-provider.js';

/** Provider id of this module. */
export const AWS_KMS_ID = 'aws-kms';

/** Options of {@link createAwsKms}. */
export interface AwsKmsOptions {
  /** Key id, key ARN, alias name or alias ARN of a SYMMETRIC_DEFAULT key. */
  readonly keyId: string;
  readonly region: string;
  /** Override of the service endpoint, e.g. a VPC endpoint URL. */
  readonly endpoint?: string;
  /** Credentials; default: the SDK's default provider chain (environment, profile, role). */
  readonly credentials?: KMSClientConfig['credentials'];
  /** Attempts per call including retries, default 3. */
  readonly maxAttempts?: number;
}

/** The wrap's encryption context: AAD binding purpose and format (AWS KMS "encryption context"). */
function encryptionContext(): Record<string, string> {
  return {
    'countersign:purpose': 'cosigner-store-data-key',
    'countersign:format': String(WRAPPED_KEY_FORMAT),
  };
}

/** Creates an `aws-kms` provider. No call is made until the first wrap or unwrap. */
export function createAwsKms(options: AwsKmsOptions): AwsKmsProvider {
  return new AwsKmsProvider(options);
}

/** The `aws-kms` provider; see the module comment. */
export class AwsKmsProvider implements KmsProvider {
  readonly id = AWS_KMS_ID;
  readonly #keyId: string;
  readonly #region: string;
  readonly #client: KMSClient;

  /** @internal Use {@link createAwsKms}. */
  constructor(options: AwsKmsOptions) {
    astring(options.keyId, 'keyId', 2048);
    astring(options.region, 'region', 64);
    this.#keyId = options.keyId;
    this.#region = options.region;
    const config: KMSClientConfig = {
      region: options.region,
      maxAttempts: options.maxAttempts ?? 3,
    };
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.credentials !== undefined) config.credentials = options.credentials;
    this.#client = new KMSClient(config);
  }

  describe(): string {
    return `AWS KMS key ${this.#keyId} (${this.#region})`;
  }

  async wrapKey(dataKey: Uint8Array): Promise<WrappedKey> {
    assertDataKey(dataKey);
    const plaintext = Uint8Array.from(dataKey);
    let out;
    try {
      out = await this.#client.send(
        new EncryptCommand({
          KeyId: this.#keyId,
          Plaintext: plaintext,
          EncryptionContext: encryptionContext(),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }),
      );
    } catch (e) {
      throw mapAwsError(e);
    } finally {
      plaintext.fill(0);
    }
    if (!(out.CiphertextBlob instanceof Uint8Array) || out.CiphertextBlob.length === 0) {
      throw new CosignerError('ERR_COSIGNER_KMS_REFUSED', {
        detail: 'AWS KMS returned no ciphertext',
      });
    }
    return {
      format: WRAPPED_KEY_FORMAT,
      provider: this.id,
      // The key ARN as the service reports it, so that an alias cannot hide which key was used.
      keyId: out.KeyId ?? this.#keyId,
      params: {},
      ciphertext: toBase64(out.CiphertextBlob),
    };
  }

  async unwrapKey(wrapped: WrappedKey): Promise<Uint8Array> {
    assertWrappedBy(wrapped, this.id);
    const ciphertext = fromBase64(wrapped.ciphertext);
    if (ciphertext === undefined || ciphertext.length === 0) throw decryptionFailed();
    let out;
    try {
      out = await this.#client.send(
        new DecryptCommand({
          KeyId: this.#keyId,
          CiphertextBlob: ciphertext,
          EncryptionContext: encryptionContext(),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }),
      );
    } catch (e) {
      throw mapAwsError(e);
    }
    const plaintext = out.Plaintext;
    if (out.KeyId !== undefined && out.KeyId !== wrapped.keyId) {
      plaintext?.fill(0);
      throw new CosignerError('ERR_COSIGNER_KMS_KEY_MISMATCH', {
        detail: `wrapped by ${wrapped.keyId}, decrypted by ${out.KeyId}`,
      });
    }
    if (!(plaintext instanceof Uint8Array) || plaintext.length !== DATA_KEY_BYTES) {
      plaintext?.fill(0);
      throw decryptionFailed();
    }
    return plaintext;
  }

  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }
}

function mapAwsError(e: unknown): CosignerError {
  const name = e instanceof Error ? e.name : 'Error';
  const status = (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  const detail = `AWS ${name}`;
  switch (name) {
    case 'IncorrectKeyException':
      return new CosignerError('ERR_COSIGNER_KMS_KEY_MISMATCH', {
        detail,
        cause: sanitizedCause(e),
      });
    case 'InvalidCiphertextException':
      return decryptionFailed(sanitizedCause(e));
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'IncompleteSignature':
    case 'ExpiredTokenException':
    case 'CredentialsProviderError':
      return new CosignerError('ERR_COSIGNER_KMS_AUTH', { detail, cause: sanitizedCause(e) });
    case 'KMSInternalException':
    case 'DependencyTimeoutException':
    case 'ThrottlingException':
      return new CosignerError('ERR_COSIGNER_KMS_UNAVAILABLE', {
        detail,
        cause: sanitizedCause(e),
      });
    default:
      if (status === undefined || status >= 500) {
        return new CosignerError('ERR_COSIGNER_KMS_UNAVAILABLE', {
          detail,
          cause: sanitizedCause(e),
        });
      }
      return new CosignerError('ERR_COSIGNER_KMS_REFUSED', { detail, cause: sanitizedCause(e) });
  }
}
