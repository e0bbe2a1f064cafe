/**
 * Opening a set-up co-signer for a command: its configuration, its KMS provider (with the secret
 * from a file or the environment) and its store. Commands close what they open with
 * {@link closeCosigner}, also on failure.
 * @module
 */
import type { KmsProvider } from '../kms/kms-provider.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import { openStore } from '../store/cosigner-store.js';
import type { CosignerConfig } from './config.js';
import { readCosignerConfig } from './config.js';
import type { CosignerHome } from './home.js';
import { openKms } from './kms-config.js';

/** An open co-signer. */
export interface OpenCosigner {
  readonly home: CosignerHome;
  readonly config: CosignerConfig;
  readonly kms: KmsProvider;
  readonly store: CosignerStore;
}

/** Opens the co-signer in `home`. */
export async function openCosigner(
  home: CosignerHome,
  secretFlags: { 'passphrase-file'?: string; 'pin-file'?: string },
  env: Readonly<Record<string, string | undefined>>,
): Promise<OpenCosigner> {
  const config = await readCosignerConfig(home.configFile);
  const kms = await openKms(config.kms, secretFlags, env);
  try {
    const store = await openStore({ dir: home.storeDir, kms });
    return { home, config, kms, store };
  } catch (e) {
    await kms.close?.();
    throw e;
  }
}

/** Closes the store and the KMS provider. */
export async function closeCosigner(cosigner: OpenCosigner): Promise<void> {
  cosigner.store.close();
  await cosigner.kms.close?.();
}

/** Runs `work` on the opened co-signer and closes it afterwards. */
export async function withCosigner<T>(
  home: CosignerHome,
  secretFlags: { 'passphrase-file'?: string; 'pin-file'?: string },
  env: Readonly<Record<string, string | undefined>>,
  work: (cosigner: OpenCosigner) => Promise<T> | T,
): Promise<T> {
  const cosigner = await openCosigner(home, secretFlags, env);
  try {
    return await work(cosigner);
  } finally {
    await closeCosigner(cosigner);
  }
}
