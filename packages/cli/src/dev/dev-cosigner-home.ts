/**
 * A development co-signer's home, <home>/cosigners/<name>: a `local` KMS key file, the encrypted
 * store with the co-signer's party identity, and `cosigner.json` — the layout `cosigner setup`
 * makes, so `cosigner status --home <dir>` opens it too. The configuration is written last: a
 * home without it was interrupted while being made, holds nothing paired, and is made again.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createLocalKmsKey,
  initStore,
  MIN_SCRYPT_LOG_N,
  openLocalKms,
  openStore,
  provisionStore,
  writeCosignerConfig,
  type CosignerStore,
  type KmsProvider,
} from '@countersign/cosigner';
import { isGeneratedPassphrase } from './dev-passphrase.js';

/** An open development co-signer. */
export interface DevCosigner {
  readonly name: string;
  readonly mode: 'api' | 'cloud';
  readonly dir: string;
  readonly store: CosignerStore;
  close(): Promise<void>;
}

export function devCosignerDir(home: string, name: string): string {
  return resolve(home, 'cosigners', name);
}

/** Opens the co-signer `name` under `home`, making it first if it does not exist (or is half made). */
export async function openDevCosigner(
  home: string,
  name: string,
  mode: 'api' | 'cloud',
  passphrase: string,
  onNote: (message: string) => void,
): Promise<DevCosigner> {
  const dir = devCosignerDir(home, name);
  const keyFile = join(dir, 'local-kms.key');
  const storeDir = join(dir, 'store');
  const configFile = join(dir, 'cosigner.json');
  if (existsSync(dir) && !existsSync(configFile)) {
    onNote(`${name}: an earlier setup was interrupted; moved to ${moveAside(dir)}`);
  }
  let kms: KmsProvider;
  let store: CosignerStore;
  if (existsSync(configFile)) {
    kms = await openLocalKms({ keyFile, passphrase });
    try {
      store = await openStore({ dir: storeDir, kms });
    } catch (error) {
      await kms.close?.();
      throw new Error(
        `cannot open the co-signer store in ${dir} (a passphrase other than the one it was ` +
          `made with, or a damaged store); move ${resolve(home, 'cosigners')} and ` +
          `${resolve(home, 'db')} away to start over`,
        { cause: error },
      );
    }
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // dev's own passphrase is 256 random bits (dev-passphrase.ts): no guess can find it, so
    // scrypt's work factor would only slow every start (about a second per store on the 2-core
    // machines). One written into the file by hand gets the production cost.
    kms = await createLocalKmsKey({
      keyFile,
      passphrase,
      ...(isGeneratedPassphrase(passphrase) ? { unsafeScryptLogN: MIN_SCRYPT_LOG_N } : {}),
    });
    store = await initStore({ dir: storeDir, kms });
    try {
      await provisionStore(store, name, mode);
      await writeCosignerConfig(
        configFile,
        { name, mode, kms: { provider: 'local', keyFile } },
        { exclusive: true },
      );
    } catch (error) {
      store.close();
      await kms.close?.();
      throw error;
    }
  }
  return {
    name,
    mode,
    dir,
    store,
    close: async () => {
      store.close();
      await kms.close?.();
    },
  };
}

/**
 * Renames a home that no longer belongs to this platform out of the way, never deleting it:
 * it may hold the only copy of a share someone still wants.
 */
export function moveAside(dir: string): string {
  const target = `${dir}.stale-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(dir, target);
  return target;
}
