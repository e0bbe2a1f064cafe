/**
 * `cosigner.json`: what the co-signer needs to reopen its store and reach its platform. It holds
 * no secret: the passphrase or PIN that unlocks the KMS key comes from the environment or a file
 * at each start (see kms-config.ts), cloud KMS credentials from the provider's own chain.
 * @module
 */
import { readFile } from 'node:fs/promises';

import { CosignerError } from '../errors.js';
import { hasExactKeys, isPlainObject } from '../kms/bytes.js';
import { writeFileAtomic } from '../store/store-files.js';

const CONFIG_FORMAT = 'countersign-cosigner-config';
const CONFIG_VERSION = 1;

/** Which KMS provider wraps the store's data key, and which key (docs/kms.md). */
export type KmsConfig =
  | { readonly provider: 'local'; readonly keyFile: string }
  | {
      readonly provider: 'pkcs11';
      readonly library: string;
      readonly tokenLabel: string;
      readonly keyLabel: string;
    }
  | {
      readonly provider: 'aws-kms';
      readonly keyId: string;
      readonly region: string;
      readonly endpoint?: string;
    }
  | { readonly provider: 'gcp-kms'; readonly keyName: string; readonly endpoint?: string };

/** API co-signer (customer side) or Cloud Co-signer (operator side), ARCHITECTURE.md §1. */
export type CosignerMode = 'api' | 'cloud';

/** The configuration file's content. */
export interface CosignerConfig {
  /** Human name shown in the co-signer management API. */
  readonly name: string;
  readonly mode: CosignerMode;
  readonly kms: KmsConfig;
}

/** Longest co-signer name accepted (the platform applies the same bound). */
export const MAX_NAME_LENGTH = 100;

/** Validates a co-signer name: printable, trimmed, 1–128 characters. */
export function assertCosignerName(name: unknown): asserts name is string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > MAX_NAME_LENGTH ||
    name.trim() !== name ||
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    /[\u0000-\u001f\u007f]/.test(name)
  ) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `name must be 1-${MAX_NAME_LENGTH} printable characters without surrounding spaces`,
    });
  }
}

function invalid(detail: string): CosignerError {
  return new CosignerError('ERR_COSIGNER_CONFIG_INVALID', { detail });
}

function text(value: unknown, name: string, max = 2048): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`${name} must be a non-empty string`);
  }
  return value;
}

function optionalText(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : text(value, name);
}

function parseKms(value: unknown): KmsConfig {
  if (!isPlainObject(value)) throw invalid('kms must be an object');
  switch (value['provider']) {
    case 'local':
      if (!hasExactKeys(value, ['provider', 'keyFile'])) throw invalid('kms (local) fields');
      return { provider: 'local', keyFile: text(value['keyFile'], 'kms.keyFile') };
    case 'pkcs11':
      if (!hasExactKeys(value, ['provider', 'library', 'tokenLabel', 'keyLabel'])) {
        throw invalid('kms (pkcs11) fields');
      }
      return {
        provider: 'pkcs11',
        library: text(value['library'], 'kms.library'),
        tokenLabel: text(value['tokenLabel'], 'kms.tokenLabel', 32),
        keyLabel: text(value['keyLabel'], 'kms.keyLabel', 256),
      };
    case 'aws-kms': {
      if (!hasExactKeys(value, ['provider', 'keyId', 'region'], ['endpoint'])) {
        throw invalid('kms (aws-kms) fields');
      }
      const endpoint = optionalText(value['endpoint'], 'kms.endpoint');
      return {
        provider: 'aws-kms',
        keyId: text(value['keyId'], 'kms.keyId'),
        region: text(value['region'], 'kms.region', 64),
        ...(endpoint === undefined ? {} : { endpoint }),
      };
    }
    case 'gcp-kms': {
      if (!hasExactKeys(value, ['provider', 'keyName'], ['endpoint'])) {
        throw invalid('kms (gcp-kms) fields');
      }
      const endpoint = optionalText(value['endpoint'], 'kms.endpoint');
      return {
        provider: 'gcp-kms',
        keyName: text(value['keyName'], 'kms.keyName'),
        ...(endpoint === undefined ? {} : { endpoint }),
      };
    }
    default:
      throw invalid('kms.provider must be local, pkcs11, aws-kms or gcp-kms');
  }
}

/** Parses and validates a configuration file's text. */
export function parseCosignerConfig(source: string): CosignerConfig {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    throw invalid('not JSON');
  }
  if (!isPlainObject(value) || !hasExactKeys(value, ['format', 'version', 'name', 'mode', 'kms'])) {
    throw invalid('unexpected or missing fields');
  }
  if (value['format'] !== CONFIG_FORMAT) throw invalid('not a co-signer configuration');
  if (value['version'] !== CONFIG_VERSION) {
    throw new CosignerError('ERR_COSIGNER_STORE_VERSION', {
      detail: `configuration version ${String(value['version'])}`,
    });
  }
  const name = value['name'];
  try {
    assertCosignerName(name);
  } catch {
    throw invalid('name');
  }
  const mode = value['mode'];
  if (mode !== 'api' && mode !== 'cloud') throw invalid('mode must be api or cloud');
  return { name, mode, kms: parseKms(value['kms']) };
}

/** Reads the configuration file; a missing file is ERR_COSIGNER_STORE_NOT_FOUND. */
export async function readCosignerConfig(file: string): Promise<CosignerConfig> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') {
      throw new CosignerError('ERR_COSIGNER_STORE_NOT_FOUND', {
        detail: `${file} (run cosigner setup first)`,
      });
    }
    throw e;
  }
  return parseCosignerConfig(source);
}

/** Writes the configuration file (mode 0600); `exclusive` refuses to replace one. */
export async function writeCosignerConfig(
  file: string,
  config: CosignerConfig,
  options: { exclusive: boolean },
): Promise<void> {
  const body = { format: CONFIG_FORMAT, version: CONFIG_VERSION, ...config };
  try {
    await writeFileAtomic(file, JSON.stringify(body, null, 2) + '\n', {
      mode: 0o600,
      exclusive: options.exclusive,
    });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EEXIST') {
      throw new CosignerError('ERR_COSIGNER_STORE_EXISTS', { detail: file, cause: e });
    }
    throw e;
  }
}
