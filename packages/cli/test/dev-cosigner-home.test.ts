/**
 * The development co-signers' key files: at the lowest scrypt cost only for the passphrase dev
 * generated (256 random bits), at the production cost for one written into its file by hand.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SCRYPT_LOG_N, MIN_SCRYPT_LOG_N } from '@countersign/cosigner';
import { afterAll, describe, expect, it } from 'vitest';
import { openDevCosigner } from '../src/dev/dev-cosigner-home.js';
import {
  devPassphrase,
  isGeneratedPassphrase,
  PASSPHRASE_FILE,
} from '../src/dev/dev-passphrase.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'countersign-dev-home-'));
  homes.push(home);
  return home;
}

/**
 * Makes dev co-signer cloud-1 in `home` with the passphrase dev's file holds, and returns the
 * scrypt log2(N) of its key file.
 */
async function newKeyFileCost(home: string): Promise<number> {
  const dev = await openDevCosigner(
    home,
    'cloud-1',
    'cloud',
    devPassphrase(home).passphrase,
    () => undefined,
  );
  await dev.close();
  const file = join(home, 'cosigners', 'cloud-1', 'local-kms.key');
  return (JSON.parse(readFileSync(file, 'utf8')) as { kdf: { logN: number } }).kdf.logN;
}

describe('dev co-signer key files', () => {
  it('generates a 256-bit passphrase once, in a private file, and recognises its shape', () => {
    const home = newHome();
    const { file, passphrase } = devPassphrase(home);
    expect(file).toBe(join(home, 'dev', PASSPHRASE_FILE));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(isGeneratedPassphrase(passphrase)).toBe(true);
    expect(Buffer.from(passphrase, 'base64url')).toHaveLength(32);
    expect(devPassphrase(home).passphrase).toBe(passphrase);
    for (const chosen of ['correct horse battery staple', 'hunter2', `${passphrase}=`, ''])
      expect(isGeneratedPassphrase(chosen)).toBe(false);
  });

  it('makes key files at the lowest cost for the generated passphrase, the production cost for a chosen one', async () => {
    expect(await newKeyFileCost(newHome())).toBe(MIN_SCRYPT_LOG_N);

    const chosen = newHome();
    writeFileSync(devPassphrase(chosen).file, 'my own dev passphrase\n');
    expect(await newKeyFileCost(chosen)).toBe(DEFAULT_SCRYPT_LOG_N);
  });
});
