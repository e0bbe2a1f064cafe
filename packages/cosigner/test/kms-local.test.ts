// The `local` KMS provider: key file protected by a passphrase (scrypt + AES-256-GCM).
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { createLocalKmsKey, DEFAULT_SCRYPT_LOG_N, openLocalKms } from '../src/kms/local-kms.js';
import type { WrappedKey } from '../src/kms/kms-provider.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import {
  cleanupTempDirs,
  expectCosignerError,
  pattern,
  snapshotDir,
  tempDir,
  testLocalKms,
  TEST_PASSPHRASE,
  TEST_SCRYPT_LOG_N,
} from './store-helpers.js';

afterAll(cleanupTempDirs);

describe('local KMS provider', () => {
  it('wraps and unwraps a data key, through a reopened key file', async () => {
    const dir = await tempDir();
    const kms = await testLocalKms(dir);
    const dataKey = pattern(32, 7);
    const wrapped = await kms.wrapKey(dataKey);
    expect(wrapped).toMatchObject({ format: 1, provider: 'local', keyId: kms.keyId });
    expect(JSON.stringify(wrapped)).not.toContain(Buffer.from(dataKey).toString('base64'));
    const reopened = await openLocalKms({
      keyFile: join(dir, 'kms.key'),
      passphrase: TEST_PASSPHRASE,
    });
    expect(await reopened.unwrapKey(wrapped)).toEqual(dataKey);
    expect(reopened.describe()).toContain(kms.keyId);
    expect(reopened.describe()).not.toContain(TEST_PASSPHRASE);
  });

  it('writes the key file 0600 with the stored scrypt parameters, and never overwrites it', async () => {
    const dir = await tempDir();
    await testLocalKms(dir);
    const keyFile = join(dir, 'kms.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(keyFile, 'utf8'));
    expect(json.kdf).toMatchObject({ name: 'scrypt', logN: TEST_SCRYPT_LOG_N, r: 8, p: 1 });
    const before = await readFile(keyFile);
    await expectCosignerError(
      testLocalKms(dir, 'another passphrase'),
      'ERR_COSIGNER_KEY_FILE_EXISTS',
    );
    expect(await readFile(keyFile)).toEqual(before);
  });

  it('defaults to scrypt N = 2^17 and refuses costs outside the bounds', async () => {
    expect(DEFAULT_SCRYPT_LOG_N).toBe(17);
    const dir = await tempDir();
    const kms = await createLocalKmsKey({ keyFile: join(dir, 'prod.key'), passphrase: 'p' });
    expect(JSON.parse(await readFile(join(dir, 'prod.key'), 'utf8')).kdf.logN).toBe(17);
    expect(await kms.unwrapKey(await kms.wrapKey(pattern(32)))).toEqual(pattern(32));
    await expectCosignerError(
      createLocalKmsKey({ keyFile: join(dir, 'weak.key'), passphrase: 'p', unsafeScryptLogN: 4 }),
      'ERR_COSIGNER_KMS_CONFIG',
    );
  });

  it('gives the one decryption error for a wrong passphrase and for altered wrapped keys', async () => {
    const dir = await tempDir();
    const kms = await testLocalKms(dir);
    const wrapped = await kms.wrapKey(pattern(32));
    const wrong = await openLocalKms({
      keyFile: join(dir, 'kms.key'),
      passphrase: 'wrong passphrase',
    });
    const e1 = await expectCosignerError(
      wrong.unwrapKey(wrapped),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    const ct = Buffer.from(wrapped.ciphertext, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 1;
    const altered: WrappedKey = { ...wrapped, ciphertext: ct.toString('base64') };
    const e2 = await expectCosignerError(kms.unwrapKey(altered), 'ERR_COSIGNER_DECRYPTION_FAILED');
    // No oracle: the same message whatever failed.
    expect(e1.message).toBe(e2.message);
    expect(e1.message).not.toContain('wrong passphrase"');
  });

  it('binds the wrap to the provider and the key file', async () => {
    const dir = await tempDir();
    const kms = await testLocalKms(dir);
    const wrapped = await kms.wrapKey(pattern(32));
    await expectCosignerError(
      kms.unwrapKey({ ...wrapped, provider: 'pkcs11' }),
      'ERR_COSIGNER_KMS_PROVIDER_MISMATCH',
    );
    const other = await testLocalKms(await tempDir());
    await expectCosignerError(other.unwrapKey(wrapped), 'ERR_COSIGNER_KMS_KEY_MISMATCH');
    // Same key id forged onto another key file: the AAD and the key both differ.
    await expectCosignerError(
      other.unwrapKey({ ...wrapped, keyId: other.keyId }),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
  });

  it('rejects malformed key files with a typed error', async () => {
    const dir = await tempDir();
    const keyFile = join(dir, 'bad.key');
    await writeFile(keyFile, '{"format":"countersign-local-kms-key","version":1}');
    await expectCosignerError(
      openLocalKms({ keyFile, passphrase: 'p' }),
      'ERR_COSIGNER_KEY_FILE_INVALID',
    );
    await writeFile(keyFile, 'not json');
    await expectCosignerError(
      openLocalKms({ keyFile, passphrase: 'p' }),
      'ERR_COSIGNER_KEY_FILE_INVALID',
    );
    await expectCosignerError(
      openLocalKms({ keyFile: join(dir, 'missing'), passphrase: 'p' }),
      'ERR_COSIGNER_KMS_CONFIG',
    );
  });

  it('opens a store only with the right passphrase, leaving every file untouched otherwise', async () => {
    const dir = await tempDir();
    const storeDir = join(dir, 'store');
    const kms = await testLocalKms(dir);
    const store = await initStore({ dir: storeDir, kms });
    store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'EDDSA_ED25519',
      share: pattern(64),
    });
    store.close();
    const before = await snapshotDir(dir);
    const wrong = await openLocalKms({ keyFile: join(dir, 'kms.key'), passphrase: 'not it' });
    await expectCosignerError(
      openStore({ dir: storeDir, kms: wrong }),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    expect(await snapshotDir(dir)).toEqual(before);
    const right = await openLocalKms({
      keyFile: join(dir, 'kms.key'),
      passphrase: TEST_PASSPHRASE,
    });
    const reopened = await openStore({ dir: storeDir, kms: right });
    expect(reopened.shareSets.readShare('ss-1').share).toEqual(pattern(64));
    reopened.close();
  });
});
