/**
 * `countersign csr` end to end: the command writes real files, and the real
 * `openssl` binary (required, never skipped) and the platform's CSR check
 * must both accept what it wrote.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseApiUserCsr } from '@countersign/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrCommand, help } from '../src/commands/csr.js';

let root: string;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await csrCommand(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  // Fails the suite loudly when openssl is missing.
  expect(execFileSync('openssl', ['version'], { encoding: 'utf8' })).toMatch(/^OpenSSL/);
  root = mkdtempSync(join(tmpdir(), 'countersign-cli-csr-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('countersign csr', () => {
  let out: string;
  let keyPem: string;
  let csrPem: string;

  beforeAll(async () => {
    out = join(root, 'new', 'dir');
    const result = await run(['--name', 'treasury-bot', '--org', 'Acme Ltd', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('api_private.key');
    keyPem = readFileSync(join(out, 'api_private.key'), 'utf8');
    csrPem = readFileSync(join(out, 'api_user.csr'), 'utf8');
  });

  it('writes a PKCS#8 key with mode 0600 and never prints it', async () => {
    expect(statSync(join(out, 'api_private.key')).mode & 0o777).toBe(0o600);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(keyPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(openssl('pkey', '-in', join(out, 'api_private.key'), '-noout', '-check')).toBeDefined();
    const again = await run(['--name', 'x', '--out', join(root, 'quiet')]);
    const written = readFileSync(join(root, 'quiet', 'api_private.key'), 'utf8');
    const body = written.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    expect(again.stdout).not.toContain(body);
  });

  it('writes a CSR that openssl verifies: RSA 4096, SHA-256, subject CN then O', () => {
    const csrPath = join(out, 'api_user.csr');
    const verified = spawnSync('openssl', ['req', '-verify', '-noout', '-in', csrPath], {
      encoding: 'utf8',
    });
    expect(verified.status).toBe(0);
    expect(verified.stdout + verified.stderr).toMatch(/verify OK/);
    const text = openssl('req', '-in', csrPath, '-noout', '-text');
    expect(text).toMatch(/Public-Key: \(4096 bit\)/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/Version: 1 \(0x0\)/);
    expect(openssl('req', '-in', csrPath, '-noout', '-subject', '-nameopt', 'RFC2253').trim()).toBe(
      'subject=O=Acme Ltd,CN=treasury-bot',
    );
  });

  it('has exactly the ASN.1 layout of the CSR openssl req makes for the same subject', () => {
    const reference = join(root, 'openssl-reference');
    mkdirSync(reference);
    openssl(
      'req',
      '-new',
      '-newkey',
      'rsa:4096',
      '-nodes',
      '-keyout',
      join(reference, 'k.key'),
      '-out',
      join(reference, 'r.csr'),
      '-subj',
      '/CN=treasury-bot/O=Acme Ltd',
    );
    // Offsets, tags, lengths, OIDs, string types and values; key and signature bits differ.
    expect(openssl('asn1parse', '-in', join(out, 'api_user.csr'))).toBe(
      openssl('asn1parse', '-in', join(reference, 'r.csr')),
    );
  });

  it('writes a CSR the platform accepts, whose key pairs with the private key', () => {
    const parsed = parseApiUserCsr(csrPem);
    expect(parsed.modulusBits).toBe(4096);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.subject).toBe('O=Acme Ltd,CN=treasury-bot');
    const derived = createPublicKey(createPrivateKey(keyPem)).export({
      type: 'spki',
      format: 'pem',
    });
    expect(parsed.publicKeyPem).toBe(derived);
    // And openssl agrees the two files belong together.
    expect(openssl('req', '-in', join(out, 'api_user.csr'), '-noout', '-pubkey')).toBe(
      openssl('pkey', '-in', join(out, 'api_private.key'), '-pubout'),
    );
  });

  it('refuses to overwrite an existing key, and replaces it only with --force', async () => {
    const dir = join(root, 'existing');
    expect((await run(['--name', 'first', '--out', dir])).code).toBe(0);
    const original = readFileSync(join(dir, 'api_private.key'), 'utf8');

    const refused = await run(['--name', 'second', '--out', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists.*--force/);
    expect(readFileSync(join(dir, 'api_private.key'), 'utf8')).toBe(original);

    writeFileSync(join(dir, 'api_private.key'), original, { mode: 0o644 });
    const forced = await run(['--name', 'second', '--out', dir, '--force']);
    expect(forced.code).toBe(0);
    const replaced = readFileSync(join(dir, 'api_private.key'), 'utf8');
    expect(replaced).not.toBe(original);
    expect(statSync(join(dir, 'api_private.key')).mode & 0o777).toBe(0o600);
    expect(parseApiUserCsr(readFileSync(join(dir, 'api_user.csr'), 'utf8')).subject).toBe(
      'CN=second',
    );
  });
});

describe('countersign csr usage', () => {
  it('prints help with exit code 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(help);
    expect(help).toMatch(/--name <CN>/);
    expect(help).toMatch(/openssl req -new -newkey rsa:4096/);
  });

  it('rejects unknown flags, positionals and missing or bad values with exit code 2', async () => {
    for (const args of [
      ['--name', 'a', '--bits', '2048'],
      ['--name', 'a', 'extra'],
      [],
      ['--name'],
      ['--name', '   '],
      ['--name', 'x'.repeat(65)],
      ['--name', 'bad\nname'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^countersign csr: .+\nRun "countersign csr --help"/);
      expect(result.stdout).toBe('');
    }
    expect((await run(['--name', 'a', '--bits', '2048'])).stderr).toMatch(/--bits/);
  });
});
