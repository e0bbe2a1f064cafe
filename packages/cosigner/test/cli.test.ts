// The `cosigner` command: setup, status, print-public-key, api-keys, backup and restore against
// real stores, a real local key file (production scrypt cost) and a real SoftHSM2 token; the
// built binary's exit codes.
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { exportDkls23KeyShare, importDkls23KeyShare } from '@countersign/mpc';
import { afterAll, describe, expect, it } from 'vitest';

import { ExitCode } from '../src/cli/exit-codes.js';
import { main } from '../src/cli/main.js';
import { persistDkls23Ban } from '../src/daemon/dkls23-ban.js';
import {
  createLocalKmsKey,
  DEFAULT_SCRYPT_LOG_N,
  MIN_SCRYPT_LOG_N,
  openLocalKms,
} from '../src/kms/local-kms.js';
import { openStore } from '../src/store/cosigner-store.js';
import { dkls23KeyShares, kosFailureAtParty1, setupsDestroyed } from './dkls23-fixtures.js';
import { softHsmToken } from './softhsm.js';
import { cleanupTempDirs, snapshotDir, tempDir, TEST_PASSPHRASE } from './store-helpers.js';

afterAll(cleanupTempDirs);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cosigner(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
  });
  return { code, stdout, stderr };
}

const PASS = { COSIGNER_PASSPHRASE: TEST_PASSPHRASE };

async function secretFile(dir: string, name: string, content: string, mode = 0o600) {
  const file = join(dir, name);
  await writeFile(file, content + '\n', { mode });
  await chmod(file, mode);
  return file;
}

/** A key file in `home` at the lowest cost a file may name, as development homes have. */
async function developmentKeyFile(home: string): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const kms = await createLocalKmsKey({
    keyFile: join(home, 'local-kms.key'),
    passphrase: TEST_PASSPHRASE,
    unsafeScryptLogN: MIN_SCRYPT_LOG_N,
  });
  await kms.close?.();
}

describe('cosigner setup / status / print-public-key (local KMS)', () => {
  it('sets up a home whose files are private and hold no secret, and reports the same identity everywhere', async () => {
    const dir = await tempDir('cosigner-cli-');
    const home = join(dir, 'home');
    const passFile = await secretFile(dir, 'pass', TEST_PASSPHRASE);
    const setup = await cosigner([
      'setup',
      '--home',
      home,
      '--kms',
      'local',
      '--passphrase-file',
      passFile,
      '--name',
      'treasury-1',
      '--json',
    ]);
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(ExitCode.OK);
    const created = JSON.parse(setup.stdout) as Record<string, string>;
    expect(created).toMatchObject({
      home,
      name: 'treasury-1',
      mode: 'api',
      kms: expect.stringContaining(`scrypt N = 2^${DEFAULT_SCRYPT_LOG_N}`),
      keyFileAdopted: false,
      warnings: [],
    });
    expect(created['identityKey']).toMatch(/^[0-9a-f]{64}$/);

    for (const file of ['cosigner.json', 'local-kms.key']) {
      expect((await stat(join(home, file))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    const config = JSON.parse(await readFile(join(home, 'cosigner.json'), 'utf8')) as unknown;
    expect(config).toEqual({
      format: 'countersign-cosigner-config',
      version: 1,
      name: 'treasury-1',
      mode: 'api',
      kms: { provider: 'local', keyFile: join(home, 'local-kms.key') },
    });
    for (const file of ['cosigner.json', 'local-kms.key', 'store/cosigner.db']) {
      expect(await readFile(join(home, file), 'latin1')).not.toContain(TEST_PASSPHRASE);
    }
    // A key file setup makes itself has the production cost (a person chose this passphrase).
    const keyFile = JSON.parse(await readFile(join(home, 'local-kms.key'), 'utf8')) as {
      kdf: unknown;
    };
    expect(keyFile.kdf).toMatchObject({ name: 'scrypt', logN: DEFAULT_SCRYPT_LOG_N, r: 8, p: 1 });

    const status = await cosigner(['status', '--home', home, '--json'], PASS);
    expect(status.code).toBe(ExitCode.OK);
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({
      warnings: [],
      name: 'treasury-1',
      mode: 'api',
      storeId: created['storeId'],
      identityKey: created['identityKey'],
      pairedApiKeys: [],
      shareSets: [],
    });
    const human = await cosigner(['status', '--home', home], PASS);
    expect(human.stdout).toContain('treasury-1');
    expect(human.stdout).toContain(created['identityKey']);

    // The callback key: an RSA-3072 public key in SPKI PEM, the same on every call, and a
    // different key from the identity (the handler never trusts an MPC signing key).
    const key = await cosigner(['print-public-key', '--home', home], PASS);
    expect(key.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    const rsa = createPublicKey(key.stdout);
    expect(rsa.asymmetricKeyType).toBe('rsa');
    expect(rsa.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const keys = await cosigner(['print-public-key', '--json'], { COSIGNER_HOME: home, ...PASS });
    expect(JSON.parse(keys.stdout)).toEqual({
      callbackPublicKey: key.stdout,
      identityKey: created['identityKey'],
      agreementKey: created['agreementKey'],
    });
    const apiKeys = await cosigner(['api-keys', 'list', '--home', home, '--json'], PASS);
    expect(JSON.parse(apiKeys.stdout)).toEqual([]);
  });

  it('adopts a key file already at its path, says so, and warns while its scrypt cost is below the default (dev-KDF review L2)', async () => {
    const dir = await tempDir('cosigner-cli-');
    const home = join(dir, 'home');
    await developmentKeyFile(home);
    const warning = `scrypt N = 2^${MIN_SCRYPT_LOG_N}, below the default 2^${DEFAULT_SCRYPT_LOG_N}`;
    const setup = await cosigner(['setup', '--home', home, '--kms', 'local', '--json'], PASS);
    expect(setup.code).toBe(ExitCode.OK);
    expect(setup.stderr).toContain(`cosigner: warning: the local key file derives`);
    expect(setup.stderr).toContain(warning);
    expect(JSON.parse(setup.stdout)).toMatchObject({
      kms: expect.stringContaining(`scrypt N = 2^${MIN_SCRYPT_LOG_N}`),
      keyFileAdopted: true,
      warnings: [expect.stringContaining(warning)],
    });
    // Every status says it again, on stderr (stdout stays what scripts parse).
    const status = await cosigner(['status', '--home', home, '--json'], PASS);
    expect(status.code).toBe(ExitCode.OK);
    expect(status.stderr).toContain(warning);
    expect(JSON.parse(status.stdout)).toMatchObject({
      warnings: [expect.stringContaining(warning)],
    });
    const human = await cosigner(['status', '--home', home], PASS);
    expect(human.stdout).toContain(`scrypt N = 2^${MIN_SCRYPT_LOG_N}`);
    expect(human.stderr).toContain(warning);
    // The human setup output names the adoption.
    const second = join(dir, 'second');
    await developmentKeyFile(second);
    const shown = await cosigner(['setup', '--home', second, '--kms', 'local'], PASS);
    expect(shown.code).toBe(ExitCode.OK);
    expect(shown.stdout).toContain('kept (it was there before setup)');
    expect(shown.stderr).toContain(warning);
  });

  it('a wrong passphrase, a second setup and bad flags fail with their exit codes and change no file', async () => {
    const dir = await tempDir('cosigner-cli-');
    const home = join(dir, 'home');
    expect((await cosigner(['setup', '--home', home, '--kms', 'local'], PASS)).code).toBe(0);
    const before = await snapshotDir(home);

    const wrong = await cosigner(['status', '--home', home], { COSIGNER_PASSPHRASE: 'wrong' });
    expect(wrong.code).toBe(ExitCode.LOCKED);
    expect(wrong.stderr).toMatch(/decryption failed/);
    const none = await cosigner(['status', '--home', home]);
    expect(none.code).toBe(ExitCode.LOCKED);
    expect(none.stderr).toMatch(/COSIGNER_PASSPHRASE/);

    const again = await cosigner(['setup', '--home', home, '--kms', 'local'], PASS);
    expect(again.code).toBe(ExitCode.STORE);
    expect(again.stderr).toMatch(/already set up/);

    const open = await secretFile(dir, 'open-pass', TEST_PASSPHRASE, 0o644);
    const readable = await cosigner(['status', '--home', home, '--passphrase-file', open]);
    expect(readable.code).toBe(ExitCode.USAGE);
    expect(readable.stderr).toMatch(/readable by others/);

    const usage: [string[], RegExp][] = [
      [['setup', '--home', join(dir, 'x')], /--kms is required/],
      [['setup', '--home', join(dir, 'x'), '--kms', 'vault'], /unknown --kms/],
      [
        ['setup', '--home', join(dir, 'x'), '--kms', 'local', '--pkcs11-key', 'k'],
        /does not apply/,
      ],
      [['setup', '--home', join(dir, 'x'), '--kms', 'pkcs11'], /needs --pkcs11-library/],
      [['setup', '--home', join(dir, 'x'), '--kms', 'local', '--name', ' padded'], /name must/],
      [['status', '--home', home, '--passphrase', 'on-the-command-line'], /Unknown option/],
      [['api-keys', 'remove', '--home', home], /api-keys list/],
      [['backup', '--home', home], /one backup file/],
      [['pair', '--home', home, '--pairing-token-file', open], /readable by others/],
    ];
    for (const [args, message] of usage) {
      const run = await cosigner(args, PASS);
      expect(run.code, args.join(' ')).toBe(ExitCode.USAGE);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain('--help');
    }
    expect(await snapshotDir(home)).toEqual(before);
    await expect(stat(join(dir, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });

    const missing = await cosigner(['status', '--home', join(dir, 'nothing')], PASS);
    expect(missing.code).toBe(ExitCode.STORE);
    expect(missing.stderr).toMatch(/run cosigner setup first/);
  });

  it('an interrupted setup is recovered: a staging store is removed, a store without configuration is refused', async () => {
    const dir = await tempDir('cosigner-cli-');
    const home = join(dir, 'home');
    await mkdir(join(home, 'store.setup-0123456789ab'), { recursive: true });
    await writeFile(join(home, 'store.setup-0123456789ab', 'cosigner.db'), 'half-written');
    expect((await cosigner(['setup', '--home', home, '--kms', 'local'], PASS)).code).toBe(0);
    await expect(stat(join(home, 'store.setup-0123456789ab'))).rejects.toMatchObject({
      code: 'ENOENT',
    });

    const orphan = join(dir, 'orphan');
    await mkdir(join(orphan, 'store'), { recursive: true });
    const run = await cosigner(['setup', '--home', orphan, '--kms', 'local'], PASS);
    expect(run.code).toBe(ExitCode.STORE);
    expect(run.stderr).toMatch(/without cosigner\.json/);
  });
});

describe('cosigner backup / restore', () => {
  it('moves a co-signer to a new home with its identity and store id; a set-up home is never overwritten', async () => {
    const dir = await tempDir('cosigner-cli-');
    const home = join(dir, 'old');
    const setup = await cosigner(
      ['setup', '--home', home, '--kms', 'local', '--name', 'mover', '--json'],
      PASS,
    );
    const created = JSON.parse(setup.stdout) as Record<string, string>;
    const file = join(dir, 'cosigner.backup');
    const backup = await cosigner(['backup', file, '--home', home, '--json'], PASS);
    expect(backup.code).toBe(ExitCode.OK);
    expect(JSON.parse(backup.stdout)).toMatchObject({ storeId: created['storeId'] });
    expect(await readFile(file, 'latin1')).not.toContain('mover');

    const keyFile = join(home, 'local-kms.key');
    const target = join(dir, 'new');
    const restore = await cosigner(
      ['restore', file, '--home', target, '--kms', 'local', '--key-file', keyFile, '--json'],
      PASS,
    );
    expect(restore.stderr).toBe('');
    expect(JSON.parse(restore.stdout)).toMatchObject({
      name: 'mover',
      mode: 'api',
      storeId: created['storeId'],
      discardedPresignatures: 0,
    });
    const status = await cosigner(['status', '--home', target, '--json'], PASS);
    expect(JSON.parse(status.stdout)).toMatchObject({
      name: 'mover',
      storeId: created['storeId'],
      identityKey: created['identityKey'],
    });
    expect((JSON.parse(status.stdout) as { restoredAt: unknown }).restoredAt).toEqual(
      expect.any(String),
    );

    const before = await snapshotDir(home);
    const over = await cosigner(
      ['restore', file, '--home', home, '--kms', 'local', '--key-file', keyFile],
      PASS,
    );
    expect(over.code).toBe(ExitCode.STORE);
    expect(await snapshotDir(home)).toEqual(before);

    const twice = await cosigner(['backup', file, '--home', home], PASS);
    expect(twice.code).not.toBe(ExitCode.OK);
  });
});

/**
 * Tries a DKLs23 presign with `share` in a fresh Node process (a process of this test has the
 * ban in its in-memory table already, which would refuse whatever the stored flags say) and
 * returns the error code, or 'created' and whether the sid registry was asked.
 */
function presignInFreshProcess(share: Uint8Array): string {
  const script = `
    import { dkls23Presign, importDkls23KeyShare } from '@countersign/mpc';
    let claimed = false;
    const registry = { claim: async () => (claimed = true) };
    const keyShare = importDkls23KeyShare(Buffer.from(process.env.SHARE, 'hex'));
    try {
      await dkls23Presign({ sid: new Uint8Array(32).fill(7), keyShare, signers: [1, 2, 3], registry });
      console.log('created claimed=' + claimed);
    } catch (e) {
      console.log(e.code + ' claimed=' + claimed);
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, SHARE: Buffer.from(share).toString('hex') },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

describe('cosigner restore after a DKLs23 ban (review M3)', () => {
  it('backup, then a ban, then restore: every OT setup of the restored share is destroyed and presigning is refused', async () => {
    const dir = await tempDir('cosigner-cli-');
    const home = join(dir, 'old');
    expect(
      (await cosigner(['setup', '--home', home, '--kms', 'local', '--name', 'banned'], PASS)).code,
    ).toBe(ExitCode.OK);
    const keyFile = join(home, 'local-kms.key');
    const kms = await openLocalKms({ keyFile, passphrase: TEST_PASSPHRASE });
    const shares = dkls23KeyShares();
    const live = exportDkls23KeyShare(shares.get(1)!);
    const failure = await kosFailureAtParty1(shares);
    const store = await openStore({ dir: join(home, 'store'), kms });
    try {
      store.shareSets.putShareSet({
        id: 'ss-ecdsa',
        apiKeyId: 'ak-1',
        algorithm: 'ECDSA_SECP256K1',
        share: live,
      });
    } finally {
      store.close();
    }
    // A live share presigns (as far as creation) in a fresh process.
    expect(presignInFreshProcess(live)).toBe('created claimed=true');

    const file = join(dir, 'cosigner.backup');
    expect((await cosigner(['backup', file, '--home', home], PASS)).code).toBe(ExitCode.OK);
    // After the backup, party 2 fails a KOS check: the old store bans it.
    const old = await openStore({ dir: join(home, 'store'), kms });
    try {
      persistDkls23Ban(old, 'ss-ecdsa', failure);
      const banned = importDkls23KeyShare(old.shareSets.readShare('ss-ecdsa').share);
      expect(setupsDestroyed(banned)).toEqual({ 2: true, 3: false });
    } finally {
      old.close();
    }

    const target = join(dir, 'new');
    const restore = await cosigner(
      ['restore', file, '--home', target, '--kms', 'local', '--key-file', keyFile, '--json'],
      PASS,
    );
    expect(restore.stderr).toBe('');
    expect(JSON.parse(restore.stdout)).toMatchObject({ dkls23ShareSetsNeedingRefresh: 1 });
    const status = await cosigner(['status', '--home', target, '--json'], PASS);
    expect(JSON.parse(status.stdout)).toMatchObject({ restoredFromBackupAt: expect.any(String) });

    const restored = await openStore({ dir: join(target, 'store'), kms });
    let share: Uint8Array;
    try {
      share = restored.shareSets.readShare('ss-ecdsa').share;
    } finally {
      restored.close();
    }
    // The backup had party 2's setups live; the restored share has none live.
    expect(setupsDestroyed(importDkls23KeyShare(share))).toEqual({ 2: true, 3: true });
    expect(presignInFreshProcess(share)).toBe('ERR_MPC_OT_SETUP_DESTROYED claimed=false');
  }, 120_000);
});

describe('cosigner with an HSM (SoftHSM2)', () => {
  it('sets up with a key it generates in the token, opens with the PIN, and a wrong PIN is exit 3', async () => {
    const token = await softHsmToken();
    const dir = await tempDir('cosigner-cli-');
    const home = join(dir, 'home');
    const pinFile = await secretFile(dir, 'pin', token.pin);
    const hsm = [
      '--kms',
      'pkcs11',
      '--pkcs11-library',
      token.library,
      '--pkcs11-token',
      token.tokenLabel,
      '--pkcs11-key',
      'cosigner-cli-wrap',
    ];
    const setup = await cosigner([
      'setup',
      '--home',
      home,
      ...hsm,
      '--pkcs11-create-key',
      '--pin-file',
      pinFile,
      '--json',
    ]);
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(ExitCode.OK);
    expect(JSON.parse(setup.stdout)).toMatchObject({
      kms: 'PKCS#11 token "countersign-test", key "cosigner-cli-wrap"',
    });

    const ok = await cosigner(['status', '--home', home, '--json'], {
      COSIGNER_PKCS11_PIN: token.pin,
    });
    expect(ok.code).toBe(ExitCode.OK);
    const wrong = await cosigner(['status', '--home', home], { COSIGNER_PKCS11_PIN: '000000' });
    expect(wrong.code).toBe(ExitCode.LOCKED);

    // The key label is taken now: a second setup asking to create it is refused.
    const again = await cosigner([
      'setup',
      '--home',
      join(dir, 'second'),
      ...hsm,
      '--pkcs11-create-key',
      '--pin-file',
      pinFile,
    ]);
    expect(again.code).not.toBe(ExitCode.OK);
  });
});

describe('the cosigner binary', () => {
  const bin = fileURLToPath(new URL('../bin/cosigner.js', import.meta.url));

  it('prints help, and exits 2 on an unknown command and 4 without a store', async () => {
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: cosigner <command>/);
    expect(help.stdout).toMatch(/Exit codes: 0 success/);
    const unknown = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    const dir = await tempDir('cosigner-cli-');
    const missing = spawnSync(process.execPath, [bin, 'status', '--home', join(dir, 'none')], {
      encoding: 'utf8',
    });
    expect(missing.status).toBe(4);
    expect(missing.stderr).toMatch(/run cosigner setup first/);
  });

  it('start --help says what dealing pairings without a handler risks; a cloud co-signer refuses the flag', async () => {
    const help = spawnSync(process.execPath, [bin, 'start', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--approve-pairings-without-handler/);
    expect(help.stdout).toMatch(/RISK: a compromised platform could[\s\S]*whole root\s+key/);
    expect(help.stdout).toMatch(/PAIRING_NOT_GUARDED/);
    const dir = await tempDir('cosigner-cli-');
    const cloud = spawnSync(
      process.execPath,
      [bin, 'start', '--cloud', '--approve-pairings-without-handler', '--home', join(dir, 'none')],
      { encoding: 'utf8' },
    );
    expect(cloud.status).toBe(2);
    expect(cloud.stderr).toMatch(/--approve-pairings-without-handler is for API co-signers/);
  });
});
