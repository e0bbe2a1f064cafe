/**
 * `gcp-kms` KMS provider: Google Cloud KMS through the official SDK (`@google-cloud/kms`),
 * methods `cryptoKeys.encrypt` and `cryptoKeys.decrypt` (Cloud KMS REST reference).
 *
 * The client runs in REST mode (`fallback: true`: HTTP/1.1 + JSON, no gRPC channel). The data key
 * is encrypted under a symmetric ENCRYPT_DECRYPT key with additional authenticated data binding
 * the provider id and the wrap format version; CRC-32C checksums go both ways and every
 * `verified*` flag is checked, as the Cloud KMS data-integrity guide asks. The endpoint is
 * configurable (private endpoints, test servers).
 * @module
 */
import { KeyManagementServiceClient } from '@google-cloud/kms';

import { CosignerError, decryptionFailed } from '../errors.js';
import { astring, fromBase64, sanitizedCause, toBase64 } from './bytes.js';
import { crc32c } from './crc32c.js';
import type { KmsProvider, WrappedKey } from './kms-provider.js';
import {
  DATA_KEY_BYTES,
  WRAPPED_KEY_FORMAT,
  assertDataKey,
  assertWrappedBy,
  wrapAad,
} from './kms-provider.js';

/** Provider id of this module. */
export const GCP_KMS_ID = 'gcp-kms';

type ClientOptions = NonNullable<ConstructorParameters<typeof KeyManagementServiceClient>[0]>;

/** Options of {@link createGcpKms}. */
export interface GcpKmsOptions {
  /** `projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}`. */
  readonly keyName: string;
  /** Endpoint URL, default `https://cloudkms.googleapis.com`. */
  readonly endpoint?: string;
  /** Authentication; default: Application Default Credentials. */
  readonly authClient?: ClientOptions['authClient'];
}

const KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/** Creates a `gcp-kms` provider. No call is made until the first wrap or unwrap. */
export function createGcpKms(options: GcpKmsOptions): GcpKmsProvider {
  return new GcpKmsProvider(options);
}

/** The `gcp-kms` provider; see the module comment. */
export class GcpKmsProvider implements KmsProvider {
  readonly id = GCP_KMS_ID;
  readonly #keyName: string;
  readonly #client: KeyManagementServiceClient;

  /** @internal Use {@link createGcpKms}. */
  constructor(options: GcpKmsOptions) {
    astring(options.keyName, 'keyName', 1024);
    if (!KEY_NAME.test(options.keyName)) {
      throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
        detail: 'keyName must be projects/*/locations/*/keyRings/*/cryptoKeys/*',
      });
    }
    this.#keyName = options.keyName;
    const config: ClientOptions = { fallback: true };
    if (options.endpoint !== undefined) {
      let url: URL;
      try {
        url = new URL(options.endpoint);
      } catch (e) {
        throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
          detail: 'endpoint must be a URL',
          cause: e,
        });
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', { detail: 'endpoint must be http(s)' });
      }
      config.apiEndpoint = url.hostname;
      config.protocol = url.protocol.slice(0, -1);
      config.port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    }
    if (options.authClient !== undefined) config.authClient = options.authClient;
    this.#client = new KeyManagementServiceClient(config);
  }

  describe(): string {
    return `Google Cloud KMS key ${this.#keyName}`;
  }

  async wrapKey(dataKey: Uint8Array): Promise<WrappedKey> {
    assertDataKey(dataKey);
    const plaintext = Buffer.from(dataKey);
    const aad = wrapAad(this.id);
    let response;
    try {
      [response] = await this.#client.encrypt({
        name: this.#keyName,
        plaintext,
        plaintextCrc32c: { value: crc32c(plaintext) },
        additionalAuthenticatedData: aad,
        additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
      });
    } catch (e) {
      throw mapGcpError(e, 'encrypt');
    } finally {
      plaintext.fill(0);
    }
    const ciphertext = bytesOf(response.ciphertext);
    if (
      response.verifiedPlaintextCrc32c !== true ||
      response.verifiedAdditionalAuthenticatedDataCrc32c !== true ||
      typeof response.name !== 'string' ||
      !response.name.startsWith(`${this.#keyName}/`) ||
      ciphertext === undefined ||
      ciphertext.length === 0 ||
      !crcMatches(ciphertext, response.ciphertextCrc32c?.value)
    ) {
      throw new CosignerError('ERR_COSIGNER_KMS_REFUSED', {
        detail: 'Cloud KMS encrypt response failed its integrity checks',
      });
    }
    return {
      format: WRAPPED_KEY_FORMAT,
      provider: this.id,
      keyId: this.#keyName,
      params: { keyVersion: response.name },
      ciphertext: toBase64(ciphertext),
    };
  }

  async unwrapKey(wrapped: WrappedKey): Promise<Uint8Array> {
    assertWrappedBy(wrapped, this.id);
    if (wrapped.keyId !== this.#keyName) {
      throw new CosignerError('ERR_COSIGNER_KMS_KEY_MISMATCH', {
        detail: `wrapped by ${wrapped.keyId}, configured ${this.#keyName}`,
      });
    }
    const ciphertext = fromBase64(wrapped.ciphertext);
    if (ciphertext === undefined || ciphertext.length === 0) throw decryptionFailed();
    const aad = wrapAad(this.id);
    let response;
    try {
      [response] = await this.#client.decrypt({
        name: this.#keyName,
        ciphertext,
        ciphertextCrc32c: { value: crc32c(ciphertext) },
        additionalAuthenticatedData: aad,
        additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
      });
    } catch (e) {
      throw mapGcpError(e, 'decrypt');
    }
    const plaintext = bytesOf(response.plaintext);
    if (plaintext === undefined || plaintext.length !== DATA_KEY_BYTES) {
      plaintext?.fill(0);
      throw decryptionFailed();
    }
    if (!crcMatches(plaintext, response.plaintextCrc32c?.value)) {
      plaintext.fill(0);
      throw new CosignerError('ERR_COSIGNER_KMS_REFUSED', {
        detail: 'Cloud KMS decrypt response failed its integrity check',
      });
    }
    return plaintext;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

function bytesOf(value: Uint8Array | string | null | undefined): Uint8Array | undefined {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (typeof value === 'string') return fromBase64(value);
  return undefined;
}

function crcMatches(data: Uint8Array, reported: unknown): boolean {
  // Int64Value arrives as a number, a decimal string or a Long, depending on the transport.
  let text: string;
  if (typeof reported === 'number' || typeof reported === 'string') text = String(reported);
  else if (typeof reported === 'object' && reported !== null && 'low' in reported) {
    text = (reported as { toString(): string }).toString();
  } else return false;
  return /^\d{1,10}$/.test(text) && Number(text) === crc32c(data);
}

// google.rpc.Code values (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto).
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;

type Outcome = 'invalid' | 'auth' | 'unavailable' | 'refused';

/**
 * Classifies a Cloud KMS failure. In REST mode an HTTP error usually arrives from the HTTP layer
 * (gaxios) with the HTTP `status`; errors decoded by google-gax carry a google.rpc `code`.
 */
function classify(e: unknown): { outcome: Outcome; detail: string } {
  const { status, code } = (e ?? {}) as { status?: unknown; code?: unknown };
  const http =
    typeof status === 'number'
      ? status
      : typeof code === 'number' && code >= 100
        ? code
        : undefined;
  if (typeof code === 'number' && code < 100) {
    const detail = `Cloud KMS code ${code}`;
    if (code === GRPC_INVALID_ARGUMENT) return { outcome: 'invalid', detail };
    if (code === GRPC_PERMISSION_DENIED || code === GRPC_UNAUTHENTICATED)
      return { outcome: 'auth', detail };
    if (
      code === GRPC_DEADLINE_EXCEEDED ||
      code === GRPC_UNAVAILABLE ||
      code === GRPC_RESOURCE_EXHAUSTED
    ) {
      return { outcome: 'unavailable', detail };
    }
    return { outcome: 'refused', detail };
  }
  if (http !== undefined) {
    const detail = `Cloud KMS HTTP ${http}`;
    if (http === 400) return { outcome: 'invalid', detail };
    if (http === 401 || http === 403) return { outcome: 'auth', detail };
    if (http === 408 || http === 429 || http >= 500) return { outcome: 'unavailable', detail };
    return { outcome: 'refused', detail };
  }
  return { outcome: 'unavailable', detail: 'Cloud KMS transport error' };
}

function mapGcpError(e: unknown, operation: 'encrypt' | 'decrypt'): CosignerError {
  const { outcome, detail } = classify(e);
  switch (outcome) {
    case 'invalid':
      // Cloud KMS answers a ciphertext it cannot decrypt (wrong key, altered bytes) with
      // INVALID_ARGUMENT; on encrypt the same code means a request we built wrong.
      return operation === 'decrypt'
        ? decryptionFailed(sanitizedCause(e))
        : new CosignerError('ERR_COSIGNER_KMS_REFUSED', { detail, cause: sanitizedCause(e) });
    case 'auth':
      return new CosignerError('ERR_COSIGNER_KMS_AUTH', { detail, cause: sanitizedCause(e) });
    case 'unavailable':
      return new CosignerError('ERR_COSIGNER_KMS_UNAVAILABLE', {
        detail,
        cause: sanitizedCause(e),
      });
    case 'refused':
      return new CosignerError('ERR_COSIGNER_KMS_REFUSED', { detail, cause: sanitizedCause(e) });
  }
}
