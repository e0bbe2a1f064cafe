/**
 * From command-line flags to a {@link KmsConfig}, and from a {@link KmsConfig} to a working
 * {@link KmsProvider} (docs/kms.md). `setup` creates the key where the provider allows it (a
 * `local` key file; a PKCS#11 key with `--pkcs11-create-key`); cloud KMS keys are created by
 * their owners in the cloud console and only named here.
 * @module
 */
import { resolve } from 'node:path';

import { CosignerError } from '../errors.js';
import type { KmsProvider } from '../kms/kms-provider.js';
import {
  createLocalKmsKey,
  DEFAULT_SCRYPT_LOG_N,
  LocalKmsProvider,
  openLocalKms,
} from '../kms/local-kms.js';
import { createPkcs11Key, openPkcs11Kms } from '../kms/pkcs11-kms.js';
import type { KmsConfig } from './config.js';
import { UsageError } from './exit-codes.js';
import type { CosignerHome } from './home.js';
import { readSecret } from './secrets.js';

/** The KMS flags every command that opens or creates a store accepts. */
export const KMS_FLAGS = {
  kms: { type: 'string' },
  'key-file': { type: 'string' },
  'pkcs11-library': { type: 'string' },
  'pkcs11-token': { type: 'string' },
  'pkcs11-key': { type: 'string' },
  'aws-key-id': { type: 'string' },
  'aws-region': { type: 'string' },
  'aws-endpoint': { type: 'string' },
  'gcp-key-name': { type: 'string' },
  'gcp-endpoint': { type: 'string' },
} as const;

/** The secret flags (paths of files, never the secrets themselves). */
export const SECRET_FLAGS = {
  'passphrase-file': { type: 'string' },
  'pin-file': { type: 'string' },
} as const;

export const KMS_HELP = `KMS (wraps the store's data key; docs/kms.md):
  --kms local            passphrase-protected key file (default <home>/local-kms.key,
                         or --key-file <path>); passphrase from --passphrase-file,
                         COSIGNER_PASSPHRASE_FILE or COSIGNER_PASSPHRASE
  --kms pkcs11           an AES key in an HSM: --pkcs11-library <module.so>
                         --pkcs11-token <token label> --pkcs11-key <key label>;
                         PIN from --pin-file, COSIGNER_PKCS11_PIN_FILE or COSIGNER_PKCS11_PIN
  --kms aws-kms          --aws-key-id <key id/ARN/alias> --aws-region <region>
                         [--aws-endpoint <url>]; credentials from the AWS default chain
  --kms gcp-kms          --gcp-key-name projects/…/cryptoKeys/<key> [--gcp-endpoint <url>];
                         credentials from Application Default Credentials`;

type Flags = Partial<Record<keyof typeof KMS_FLAGS | keyof typeof SECRET_FLAGS, string>>;

function required(flags: Flags, name: keyof Flags, provider: string): string {
  const value = flags[name];
  if (value === undefined || value === '') {
    throw new UsageError(`--kms ${provider} needs --${name}`);
  }
  return value;
}

/** The KMS configuration the flags describe. */
export function kmsConfigFromFlags(flags: Flags, home: CosignerHome): KmsConfig {
  const provider = flags.kms;
  const others = (allowed: (keyof Flags)[]): void => {
    for (const name of Object.keys(KMS_FLAGS) as (keyof Flags)[]) {
      if (name !== 'kms' && !allowed.includes(name) && flags[name] !== undefined) {
        throw new UsageError(`--${name} does not apply to --kms ${String(provider)}`);
      }
    }
  };
  switch (provider) {
    case 'local':
      others(['key-file']);
      return { provider, keyFile: resolve(flags['key-file'] ?? home.localKeyFile) };
    case 'pkcs11':
      others(['pkcs11-library', 'pkcs11-token', 'pkcs11-key']);
      return {
        provider,
        library: resolve(required(flags, 'pkcs11-library', provider)),
        tokenLabel: required(flags, 'pkcs11-token', provider),
        keyLabel: required(flags, 'pkcs11-key', provider),
      };
    case 'aws-kms': {
      others(['aws-key-id', 'aws-region', 'aws-endpoint']);
      const endpoint = flags['aws-endpoint'];
      return {
        provider,
        keyId: required(flags, 'aws-key-id', provider),
        region: required(flags, 'aws-region', provider),
        ...(endpoint === undefined ? {} : { endpoint }),
      };
    }
    case 'gcp-kms': {
      others(['gcp-key-name', 'gcp-endpoint']);
      const endpoint = flags['gcp-endpoint'];
      return {
        provider,
        keyName: required(flags, 'gcp-key-name', provider),
        ...(endpoint === undefined ? {} : { endpoint }),
      };
    }
    case undefined:
      throw new UsageError('--kms is required (local, pkcs11, aws-kms or gcp-kms)');
    default:
      throw new UsageError(`unknown --kms '${provider}' (local, pkcs11, aws-kms or gcp-kms)`);
  }
}

/**
 * A provider for `config`. With `create`, makes the key first where that is ours to do (a new
 * `local` key file, never overwriting one; a PKCS#11 key when `createHsmKey`).
 */
export async function openKms(
  config: KmsConfig,
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
  options: { create?: boolean; createHsmKey?: boolean } = {},
): Promise<KmsProvider> {
  switch (config.provider) {
    case 'local': {
      const passphrase = await readSecret(
        {
          label: 'passphrase',
          fileFlag: flags['passphrase-file'],
          fileEnv: 'COSIGNER_PASSPHRASE_FILE',
          valueEnv: 'COSIGNER_PASSPHRASE',
        },
        env,
      );
      if (options.create === true) {
        try {
          return await createLocalKmsKey({ keyFile: config.keyFile, passphrase });
        } catch (e) {
          // An existing key file is kept and used: a second store may share one passphrase key.
          if (!(e instanceof CosignerError && e.code === 'ERR_COSIGNER_KEY_FILE_EXISTS')) throw e;
        }
      }
      return openLocalKms({ keyFile: config.keyFile, passphrase });
    }
    case 'pkcs11': {
      const pin = await readSecret(
        {
          label: 'PIN',
          fileFlag: flags['pin-file'],
          fileEnv: 'COSIGNER_PKCS11_PIN_FILE',
          valueEnv: 'COSIGNER_PKCS11_PIN',
        },
        env,
      );
      const options11 = {
        library: config.library,
        tokenLabel: config.tokenLabel,
        keyLabel: config.keyLabel,
        pin,
      };
      return options.createHsmKey === true ? createPkcs11Key(options11) : openPkcs11Kms(options11);
    }
    // The cloud SDKs are loaded only for their provider: importing both costs every `cosigner`
    // command (status, pair, start…) about half a second of CPU on a local or PKCS#11 home.
    case 'aws-kms': {
      const { createAwsKms } = await import('../kms/aws-kms.js');
      return createAwsKms({
        keyId: config.keyId,
        region: config.region,
        ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      });
    }
    case 'gcp-kms': {
      const { createGcpKms } = await import('../kms/gcp-kms.js');
      return createGcpKms({
        keyName: config.keyName,
        ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      });
    }
  }
}

/**
 * What an operator should know about the KMS a command opened: a local key file whose
 * passphrase KDF costs less than the default (a development key file, or one copied from a
 * development home) makes a passphrase cheaper to guess offline (dev-KDF review L2).
 */
export function kmsWarnings(kms: KmsProvider): string[] {
  if (!(kms instanceof LocalKmsProvider) || kms.scryptLogN >= DEFAULT_SCRYPT_LOG_N) return [];
  return [
    `the local key file derives its key from the passphrase with scrypt N = 2^${kms.scryptLogN}, ` +
      `below the default 2^${DEFAULT_SCRYPT_LOG_N}: a guess at the passphrase costs that much less. ` +
      'Fine for development; for real keys set up a new home with a new key file and restore a backup into it.',
  ];
}
