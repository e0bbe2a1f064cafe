/**
 * The co-signer's home directory: its configuration, its encrypted store and, for the `local` KMS
 * provider, its key file. `--home`, else `COSIGNER_HOME`, else `./.cosigner`.
 * @module
 */
import { join, resolve } from 'node:path';

/** Paths inside a co-signer home. */
export interface CosignerHome {
  readonly dir: string;
  /** `cosigner.json`: non-secret settings (KMS provider and key names, platform URL). */
  readonly configFile: string;
  /** The encrypted store (docs/store.md). */
  readonly storeDir: string;
  /** Default key file of the `local` KMS provider. */
  readonly localKeyFile: string;
}

export const DEFAULT_HOME = '.cosigner';

/** The home named by `flag`, the environment, or the default. */
export function cosignerHome(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): CosignerHome {
  const dir = resolve(flag ?? env['COSIGNER_HOME'] ?? DEFAULT_HOME);
  return {
    dir,
    configFile: join(dir, 'cosigner.json'),
    storeDir: join(dir, 'store'),
    localKeyFile: join(dir, 'local-kms.key'),
  };
}
