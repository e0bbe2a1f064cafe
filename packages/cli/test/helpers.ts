/**
 * Helpers of the cli tests. Running the built binaries lives in ../testing/processes.ts (shared
 * with bench/) and is re-exported here.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createLocalKmsKey,
  createStoredIdentity,
  initStore,
  MIN_SCRYPT_LOG_N,
  type CosignerStore,
} from '@countersign/cosigner';

export {
  BIN,
  COSIGNER_BIN,
  DEV_OWNER_PASSWORD,
  decideAsDevOwner,
  exitOf,
  lowCostKeyFile,
  runCli,
  startCli,
  startDev,
  type DevPlatform,
  type RunResult,
} from '../testing/processes.js';

/** A CSR (openssl) of a fresh RSA key written to `<dir>/<name>.key`, for an API user in process. */
export function freshCsrPem(dir: string, name: string): string {
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(
    keyFile,
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
    { mode: 0o600 },
  );
  return execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`], {
    encoding: 'utf8',
  });
}

/** A co-signer store with its party identity in a new `home` (local KMS, fast scrypt for tests). */
export async function newCosignerStore(home: string, passphrase: string): Promise<CosignerStore> {
  mkdirSync(home, { mode: 0o700 });
  const kms = await createLocalKmsKey({
    keyFile: join(home, 'kms.key'),
    passphrase,
    unsafeScryptLogN: MIN_SCRYPT_LOG_N,
  });
  const store = await initStore({ dir: join(home, 'store'), kms });
  createStoredIdentity(store).dispose();
  return store;
}
