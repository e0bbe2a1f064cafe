// Shared fixtures of the store and KMS tests: temporary directories, a fast local KMS key, and
// byte-for-byte snapshots of a directory to prove that a failed operation wrote nothing.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'vitest';

import { isCosignerError } from '../src/errors.js';
import type { CosignerErrorCode } from '../src/errors.js';
import { createLocalKmsKey, MIN_SCRYPT_LOG_N } from '../src/kms/local-kms.js';
import type { LocalKmsProvider } from '../src/kms/local-kms.js';

/** scrypt cost for tests: 2^10 instead of the production 2^17, through the explicit option. */
export const TEST_SCRYPT_LOG_N = MIN_SCRYPT_LOG_N;
export const TEST_PASSPHRASE = 'correct horse battery staple';

const made: string[] = [];

/** A fresh temporary directory, removed by {@link cleanupTempDirs}. */
export async function tempDir(prefix = 'cosigner-store-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * A new local KMS key file in `dir` with the test scrypt cost. Named `local-kms.key`, it is the
 * key file of the co-signer home `dir`, which `cosigner setup --kms local` then keeps and uses.
 */
export function testLocalKms(
  dir: string,
  passphrase = TEST_PASSPHRASE,
  name = 'kms.key',
): Promise<LocalKmsProvider> {
  return createLocalKmsKey({
    keyFile: join(dir, name),
    passphrase,
    unsafeScryptLogN: TEST_SCRYPT_LOG_N,
  });
}

/** SHA-256 of every file under `dir` (recursively), by relative path. */
export async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(sub: string): Promise<void> {
    for (const name of (await readdir(join(dir, sub))).sort()) {
      const rel = sub === '' ? name : join(sub, name);
      const s = await stat(join(dir, rel));
      if (s.isDirectory()) await walk(rel);
      else
        out[rel] = createHash('sha256')
          .update(await readFile(join(dir, rel)))
          .digest('hex');
    }
  }
  await walk('');
  return out;
}

/** Asserts that `promise` rejects with a CosignerError of `code`, and returns it. */
export async function expectCosignerError(
  promise: Promise<unknown>,
  code: CosignerErrorCode,
): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(Error);
  expect((caught as { code?: unknown }).code).toBe(code);
  expect(isCosignerError(caught, code)).toBe(true);
  return caught as Error;
}

/** Same as {@link expectCosignerError} for synchronous calls. */
export function expectCosignerErrorSync(work: () => unknown, code: CosignerErrorCode): Error {
  let caught: unknown;
  try {
    work();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(Error);
  expect((caught as { code?: unknown }).code).toBe(code);
  return caught as Error;
}

/** Bytes 0, 1, 2, ... of length `n`, offset by `seed`. */
export function pattern(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);
}
