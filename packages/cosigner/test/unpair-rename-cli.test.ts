// `cosigner unpair` and `cosigner rename` on a co-signer not registered with any platform (the
// platform side runs end to end in packages/cli/test/cosigner-unpair-rename.test.ts): unpair
// needs --yes, destroys this co-signer's shares of the API key's share sets and erases its
// tokens in one transaction, and is repeatable; rename changes cosigner.json and the store.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ExitCode } from '../src/cli/exit-codes.js';
import { main } from '../src/cli/main.js';
import { openLocalKms } from '../src/kms/local-kms.js';
import { openStore, type CosignerStore } from '../src/store/cosigner-store.js';
import {
  cleanupTempDirs,
  pattern,
  tempDir,
  TEST_PASSPHRASE,
  testLocalKms,
} from './store-helpers.js';

afterAll(cleanupTempDirs);

const PASS = { COSIGNER_PASSPHRASE: TEST_PASSPHRASE };
const KEY = '11111111-2222-4333-8444-555555555555';
const OTHER_KEY = '66666666-7777-4888-9999-000000000000';

async function cosigner(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: PASS,
  });
  return { code, stdout, stderr };
}

async function withStore<T>(home: string, work: (store: CosignerStore) => T): Promise<T> {
  const kms = await openLocalKms({
    keyFile: join(home, 'local-kms.key'),
    passphrase: TEST_PASSPHRASE,
  });
  const store = await openStore({ dir: join(home, 'store'), kms });
  try {
    return work(store);
  } finally {
    store.close();
  }
}

async function homeWithTwoKeys(): Promise<string> {
  const home = join(await tempDir('cosigner-unpair-'), 'home');
  // Its key file at the test scrypt cost, kept by setup: every command below derives the key.
  await mkdir(home, { mode: 0o700 });
  await (await testLocalKms(home, TEST_PASSPHRASE, 'local-kms.key')).close?.();
  const setup = await cosigner(['setup', '--home', home, '--kms', 'local', '--name', 'desk-1']);
  expect(setup.code, setup.stderr).toBe(ExitCode.OK);
  await withStore(home, (store) => {
    for (const [apiKeyId, n] of [
      [KEY, 1],
      [OTHER_KEY, 2],
    ] as const) {
      store.pairedApiKeys.addPairedApiKey({
        apiKeyId,
        cosignerId: 'cs-1',
        platformUrl: 'https://platform.example',
        refreshToken: `rt-${n}`,
      });
      for (const algorithm of ['ECDSA_SECP256K1', 'EDDSA_ED25519'] as const)
        store.shareSets.putShareSet({
          id: `ss-${n}-${algorithm}`,
          apiKeyId,
          algorithm,
          share: pattern(64, n),
        });
    }
  });
  return home;
}

describe('cosigner unpair (no platform)', () => {
  it('refuses without --yes and changes nothing; with --yes destroys only that key’s shares; repeatable', async () => {
    const home = await homeWithTwoKeys();

    const unconfirmed = await cosigner(['unpair', KEY, '--home', home]);
    expect(unconfirmed.code).toBe(ExitCode.USAGE);
    expect(unconfirmed.stderr).toMatch(
      /destroys this co-signer's shares of 2 share set\(s\) \(ss-1-ECDSA_SECP256K1, ss-1-EDDSA_ED25519\).*--yes/,
    );
    await withStore(home, (store) => {
      expect(store.pairedApiKeys.getPairedApiKey(KEY)?.unpairedAt).toBeNull();
      expect(store.shareSets.listShareSets({ apiKeyId: KEY })).toHaveLength(2);
    });

    const done = await cosigner(['unpair', KEY, '--yes', '--json', '--home', home]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(ExitCode.OK);
    expect(JSON.parse(done.stdout)).toEqual({
      apiKeyId: KEY,
      alreadyUnpaired: false,
      destroyedShareSets: ['ss-1-ECDSA_SECP256K1', 'ss-1-EDDSA_ED25519'],
      platform: 'not registered',
    });
    await withStore(home, (store) => {
      const pairing = store.pairedApiKeys.getPairedApiKey(KEY)!;
      expect(pairing.unpairedAt).not.toBeNull();
      expect(store.pairedApiKeys.readRefreshToken(KEY)).toBeUndefined();
      expect(store.shareSets.listShareSets({ apiKeyId: KEY })).toEqual([]);
      for (const algorithm of ['ECDSA_SECP256K1', 'EDDSA_ED25519'])
        expect(() => store.shareSets.readShare(`ss-1-${algorithm}`)).toThrow(/not found/);
      // The other API key is untouched.
      expect(store.pairedApiKeys.readRefreshToken(OTHER_KEY)).toBe('rt-2');
      expect(store.shareSets.readShare('ss-2-EDDSA_ED25519').share).toEqual(pattern(64, 2));
    });

    const again = await cosigner(['unpair', KEY, '--yes', '--json', '--home', home]);
    expect(again.code).toBe(ExitCode.OK);
    expect(JSON.parse(again.stdout)).toMatchObject({
      alreadyUnpaired: true,
      destroyedShareSets: [],
    });
  });

  it('an API key never paired here, or not a UUID, is a clear error', async () => {
    const home = await homeWithTwoKeys();
    const unknown = await cosigner([
      'unpair',
      '99999999-2222-4333-8444-555555555555',
      '--yes',
      '--home',
      home,
    ]);
    expect(unknown.code).toBe(ExitCode.FAILURE);
    expect(unknown.stderr).toMatch(/was never paired to this co-signer/);
    const malformed = await cosigner(['unpair', 'not-a-key', '--yes', '--home', home]);
    expect(malformed.code).toBe(ExitCode.USAGE);
    expect(malformed.stderr).toMatch(/apiKeyId must be an API key id/);
    expect((await cosigner(['unpair', '--yes', '--home', home])).code).toBe(ExitCode.USAGE);
  });
});

describe('cosigner rename (no platform)', () => {
  it('renames in cosigner.json and the store; a bad name is exit 2 and changes nothing', async () => {
    const home = await homeWithTwoKeys();
    const renamed = await cosigner(['rename', 'treasury desk 2', '--json', '--home', home]);
    expect(renamed.stderr).toBe('');
    expect(JSON.parse(renamed.stdout)).toEqual({
      name: 'treasury desk 2',
      from: 'desk-1',
      platform: 'not registered',
    });
    const config = JSON.parse(await readFile(join(home, 'cosigner.json'), 'utf8')) as {
      name: string;
    };
    expect(config.name).toBe('treasury desk 2');
    const status = await cosigner(['status', '--json', '--home', home]);
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'treasury desk 2' });
    await withStore(home, (store) => expect(store.getMeta('name')).toBe('treasury desk 2'));

    for (const bad of [' padded', 'x'.repeat(101), 'line\nbreak']) {
      const refused = await cosigner(['rename', bad, '--home', home]);
      expect(refused.code).toBe(ExitCode.USAGE);
      expect(refused.stderr).toMatch(/name must be 1-100 printable characters/);
    }
    expect((await cosigner(['rename', 'a', 'b', '--home', home])).code).toBe(ExitCode.USAGE);
    await withStore(home, (store) => expect(store.getMeta('name')).toBe('treasury desk 2'));
  });
});
