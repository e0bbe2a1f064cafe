/**
 * The passphrase of the development co-signers' `local` KMS key files: generated once and kept
 * in <home>/dev/cosigner-passphrase (mode 0600), so `countersign dev` restarts without asking.
 * For development only: a passphrase stored beside the key files it unlocks protects nothing
 * from whoever can read the disk. A production co-signer takes its secret from a file or KMS the
 * operator provides (cosigner docs/kms.md).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devDir } from '../dev-state.js';

export const PASSPHRASE_FILE = 'cosigner-passphrase';

/**
 * Whether `passphrase` has the shape of one this module generates (32 random bytes, base64url):
 * 256 bits that no guess finds, which a key file's work factor cannot protect further. A
 * passphrase someone wrote into the file instead may be a guessable one.
 */
export function isGeneratedPassphrase(passphrase: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(passphrase);
}

/** The path of the passphrase file and the passphrase, created on first use. */
export function devPassphrase(home: string): { file: string; passphrase: string } {
  const dir = devDir(home);
  const file = join(dir, PASSPHRASE_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': never replace an existing passphrase, which would lock the stores for good.
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const passphrase = readFileSync(file, 'utf8').trim();
  if (passphrase.length === 0) throw new Error(`${file} is empty; restore it or remove ${home}`);
  return { file, passphrase };
}
