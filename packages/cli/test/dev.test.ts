/**
 * The README's run command, end to end: `countersign dev` as a real process,
 * then the CLI against it as a newcomer would use it — the platform alone
 * (--platform-only), and the whole signing stack signing the README's RAW
 * messages, verified with @noble/curves and @scure/bip32 against the root keys
 * the API co-signer's store holds.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { derivePublicKey } from '@countersign/mpc';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { afterAll, describe, expect, it } from 'vitest';
import { COSIGNER_BIN, exitOf, runCli, startCli } from './helpers.js';
import { cosigner, statusShareSets, type ShareSetStatus } from './signing-stack.js';

describe('countersign dev --platform-only', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-dev-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('starts, serves signed requests, creates API users, verifies the audit log, and stops cleanly', async () => {
    const dev = await startCli(
      ['dev', '--port', '0', '--platform-only'],
      cwd,
      /Press Ctrl\+C to stop\./,
    );
    const out = dev.output();
    expect(out).toMatch(/password: \S{16,}/);
    const baseUrl = /Base URL: +(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out)?.[1];
    const apiKey = /API key: +([0-9a-f-]{36})/.exec(out)?.[1];
    expect(baseUrl).toBeDefined();
    expect(apiKey).toBeDefined();
    expect(statSync(join(cwd, '.countersign/dev/api_private.key')).mode & 0o777).toBe(0o600);

    const list = runCli(['api', 'GET', '/v1/management/api_users'], cwd);
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).users).toEqual([
      expect.objectContaining({ id: apiKey, name: 'dev-admin', role: 'ADMIN' }),
    ]);

    const csr = runCli(['csr', '--name', 'my-bot', '--org', 'Acme', '--out', 'my-bot'], cwd);
    expect(csr.status, csr.stderr).toBe(0);
    const created = runCli(
      [
        'api-user',
        'create',
        '--name',
        'my-bot',
        '--role',
        'VIEWER',
        '--csr',
        'my-bot/api_user.csr',
      ],
      cwd,
    );
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/API user my-bot \(VIEWER\): READY/);

    const notFound = runCli(['api', 'GET', '/v1/management/nothing'], cwd);
    expect(notFound.status).toBe(4);
    expect(notFound.stderr).toMatch(/API error 404/);

    // The embedded database has one owner at a time: a second opener is refused, nothing is lost.
    const concurrent = runCli(['audit', 'verify', '--data-dir', '.countersign/db'], cwd);
    expect(concurrent.status).toBe(1);
    expect(concurrent.stderr).toMatch(/in use by process \d+/);

    dev.child.kill('SIGTERM');
    expect(await exitOf(dev.child)).toBe(0);

    // With the stack stopped, the audit chain of everything above verifies.
    const verify = runCli(['audit', 'verify', '--data-dir', '.countersign/db'], cwd);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/Audit chain intact: \d+ entries verified/);

    // A second start reuses the workspace and key: no new Owner password.
    const again = await startCli(
      ['dev', '--port', '0', '--platform-only'],
      cwd,
      /Press Ctrl\+C to stop\./,
    );
    expect(again.output()).toMatch(/Reusing the workspace/);
    expect(again.output()).not.toMatch(/password:/);
    expect(again.output()).toContain(apiKey);
    again.child.kill('SIGINT');
    expect(await exitOf(again.child)).toBe(0);
  });
});

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
const READY = /Press Ctrl\+C to stop\./;

/** The README's RAW-signing commands, in order, split into arguments as a shell would. */
function readmeSignCommands(): { line: string; args: string[] }[] {
  return readFileSync(README, 'utf8')
    .split('\n')
    .filter((l) => /^npx countersign api (POST|GET) \/v1\/transactions/.test(l))
    .map((line) => ({
      line,
      args: [...line.slice('npx countersign '.length).matchAll(/'([^']*)'|(\S+)/g)].map(
        (m) => m[1] ?? m[2]!,
      ),
    }));
}

interface SignedMessage {
  content: string;
  algorithm: string;
  derivationPath: number[];
  signature: { fullSig: string; r?: string; s?: string; v?: number };
  publicKey: string;
}

describe('countersign dev: the signing stack', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-dev-stack-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  /** Runs the README's commands (with `rename` applied to the ids) and waits for COMPLETED. */
  const signAsReadme = async (rename: (arg: string) => string = (a) => a) => {
    const commands = readmeSignCommands();
    const results: SignedMessage[] = [];
    for (const { args } of commands.filter((c) => c.args[1] === 'POST')) {
      const created = runCli(args.map(rename), cwd);
      expect(created.status, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({ id: expect.any(String) });
    }
    for (const { args } of commands.filter((c) => c.args[1] === 'GET')) {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const read = runCli(args.map(rename), cwd);
        expect(read.status, read.stderr).toBe(0);
        const tx = JSON.parse(read.stdout) as { status: string; signedMessages?: SignedMessage[] };
        expect(['SUBMITTED', 'PENDING_SIGNATURE', 'COMPLETED']).toContain(tx.status);
        if (tx.status === 'COMPLETED') {
          expect(tx.signedMessages).toHaveLength(1);
          results.push(tx.signedMessages![0]!);
          break;
        }
        if (Date.now() > deadline) throw new Error(`still ${tx.status}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    return results;
  };

  /** The API co-signer's status, read from its store with the `cosigner` command. */
  const devApiStatus = (): {
    shareSets: ShareSetStatus[];
    platform?: { platformUrl: string };
  } => {
    const r = cosigner(
      [
        'status',
        '--home',
        '.countersign/cosigners/dev-api',
        '--passphrase-file',
        '.countersign/dev/cosigner-passphrase',
        '--json',
      ],
      cwd,
    );
    expect(r.status, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as { platform?: { platformUrl: string } };
    return { ...status, shareSets: statusShareSets(r.stdout) };
  };
  /** The API co-signer's root keys. */
  const rootKeys = (): ShareSetStatus[] => devApiStatus().shareSets;

  /** Both signatures verify under the key derived from the root along their path. */
  const verifySignatures = (signed: SignedMessage[], roots: ShareSetStatus[]): void => {
    const [eddsa, ecdsa] = signed;
    const message = Buffer.from('Hello, Countersign');
    expect(eddsa).toMatchObject({
      algorithm: 'MPC_EDDSA_ED25519',
      content: message.toString('hex'),
    });
    expect(eddsa!.derivationPath).toEqual([44, 0, 0, 0, 0]);
    const edRoot = roots.find((s) => s.algorithm === 'EDDSA_ED25519')!;
    const edKey = derivePublicKey(
      {
        curve: 'ed25519',
        publicKey: Buffer.from(edRoot.publicKey!, 'hex'),
        chainCode: Buffer.from(edRoot.chainCode!, 'hex'),
      },
      eddsa!.derivationPath,
    ).publicKey;
    expect(eddsa!.publicKey).toBe(Buffer.from(edKey).toString('hex'));
    const edSig = Buffer.from(eddsa!.signature.fullSig, 'hex');
    expect(ed25519.verify(edSig, message, edKey, { zip215: false })).toBe(true);
    expect(ed25519.verify(edSig, Buffer.from('another message'), edKey)).toBe(false);

    const digest = createHash('sha256').update(message).digest();
    expect(ecdsa).toMatchObject({
      algorithm: 'MPC_ECDSA_SECP256K1',
      content: digest.toString('hex'),
    });
    const ecRoot = roots.find((s) => s.algorithm === 'ECDSA_SECP256K1')!;
    const child = new HDKey({
      publicKey: Buffer.from(ecRoot.publicKey!, 'hex'),
      chainCode: Buffer.from(ecRoot.chainCode!, 'hex'),
    }).derive(`m/${ecdsa!.derivationPath.join('/')}`);
    expect(ecdsa!.publicKey).toBe(Buffer.from(child.publicKey!).toString('hex'));
    const ecSig = Buffer.from(ecdsa!.signature.fullSig, 'hex');
    expect(secp256k1.verify(ecSig, digest, child.publicKey!, { prehash: false, lowS: true })).toBe(
      true,
    );
  };

  it("signs the README's RAW messages with both root keys, and signs again after a restart without a new KEYGEN", async () => {
    const readme = readmeSignCommands();
    expect(readme.map((c) => c.args.slice(1, 3))).toEqual([
      ['POST', '/v1/transactions'],
      ['POST', '/v1/transactions'],
      ['GET', '/v1/transactions/external_tx_id/hello-ed25519'],
      ['GET', '/v1/transactions/external_tx_id/hello-secp256k1'],
    ]);

    const dev = await startCli(['dev', '--port', '0'], cwd, READY);
    const out = dev.output();
    expect(out).toMatch(/Generating root keys \(secp256k1 and Ed25519\)/);
    expect(out).toMatch(/Root keys ready in \d+ s/);
    // What dev prints is what the README shows, command for command.
    for (const { line } of readme) expect(out).toContain(line);
    expect(statSync(join(cwd, '.countersign/dev/cosigner-passphrase')).mode & 0o777).toBe(0o600);
    const port = /Base URL: +http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]!;
    const users = JSON.parse(runCli(['api', 'GET', '/v1/management/api_users'], cwd).stdout) as {
      users: { name: string; role: string }[];
    };
    expect(users.users).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'dev-signer', role: 'SIGNER' })]),
    );

    const first = await signAsReadme();
    dev.child.kill('SIGINT');
    expect(await exitOf(dev.child)).toBe(0);
    const roots = rootKeys();
    expect(roots.map((s) => s.algorithm).sort()).toEqual(['ECDSA_SECP256K1', 'EDDSA_ED25519']);
    verifySignatures(first, roots);

    // Second run on another port: everything reused, the co-signers follow the platform to its
    // new address, no KEYGEN, and it signs again.
    const again = await startCli(['dev', '--port', '0'], cwd, READY);
    expect(again.output()).toMatch(/Reusing the root keys/);
    for (const name of ['cloud-1', 'cloud-2', 'dev-api', 'sandbox'])
      expect(again.output()).toContain(`${name}: was paired at http://127.0.0.1:${port}; now uses`);
    expect(again.output()).not.toMatch(/Generating root keys|password:|KEYGEN/);
    const second = await signAsReadme((a) => a.replaceAll('hello-', 'again-'));
    again.child.kill('SIGTERM');
    expect(await exitOf(again.child)).toBe(0);
    expect(rootKeys()).toEqual(roots);
    verifySignatures(second, roots);
    // Same message, same path, same key: both runs signed with the same root keys.
    expect(second.map((m) => m.publicKey)).toEqual(first.map((m) => m.publicKey));
  }, 400_000);

  it('a database removed while the stores stay: the stores are moved aside, new ones make new root keys; a store another daemon holds stops dev with a clear error', async () => {
    rmSync(join(cwd, '.countersign/db'), { recursive: true, force: true });
    const dev = await startCli(['dev', '--port', '0'], cwd, READY);
    const out = dev.output();
    expect(out).toMatch(/does not match the database: creating a new workspace/);
    for (const name of ['cloud-1', 'cloud-2', 'dev-api', 'sandbox'])
      expect(out).toContain(`${name}: its store belongs to an earlier database; moved to`);
    expect(out).toMatch(/Root keys ready/);
    const entries = readdirSync(join(cwd, '.countersign/cosigners'));
    expect(entries.filter((e) => e.includes('.stale-'))).toHaveLength(4);
    expect(existsSync(join(cwd, '.countersign/cosigners/dev-api/cosigner.json'))).toBe(true);
    const port = /Base URL: +http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]!;
    dev.child.kill('SIGTERM');
    expect(await exitOf(dev.child)).toBe(0);

    // The API co-signer's store held by a `cosigner start` of its own: dev says so and exits 1.
    const other = await startCli(
      [
        'start',
        '--home',
        '.countersign/cosigners/dev-api',
        '--passphrase-file',
        '.countersign/dev/cosigner-passphrase',
      ],
      cwd,
      /polling for work/,
      {},
      COSIGNER_BIN,
    );
    const refused = runCli(['dev', '--port', port], cwd);
    // On another port too: the running daemon keeps the address it started with, so its store is
    // not moved from under it (its stored address stays).
    const notMoved = runCli(['dev', '--port', '0'], cwd);
    other.child.kill('SIGTERM');
    expect(await exitOf(other.child)).toBe(0);
    expect(refused.status, refused.stdout).toBe(1);
    expect(refused.stderr).toMatch(
      /^countersign dev: co-signer dev-api stopped: ERR_COSIGNER_STORE_IN_USE/,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(refused.stdout).not.toMatch(/Countersign is running/);
    expect(notMoved.status, notMoved.stdout).toBe(1);
    expect(notMoved.stderr).toMatch(
      /^countersign dev: co-signer dev-api cannot follow the platform to .*: another co-signer daemon/,
    );
    expect(notMoved.stderr).not.toMatch(/\n\s+at /);
    // (The clouds, opened before it, did follow; the next run moves them wherever it listens.)
    expect(notMoved.stdout).not.toMatch(/dev-api: was paired/);
    expect(devApiStatus()).toMatchObject({
      platform: { platformUrl: `http://127.0.0.1:${port}` },
    });
  }, 400_000);
});
