// `countersign-callback` as a real process: --help, usage and configuration exit codes, keygen
// (0600 private key, no overwrite), check-rules naming the bad field, pin, and `serve` in JWT
// mode answering over loopback HTTP, stopped and restarted on the same state directory (the
// velocity window survives) and refusing a world-readable private key.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import {
  checkCallbackResponse,
  createPinnedAgent,
  signCallbackRequest,
  verifyCallbackResponse,
} from '../src/index.js';
import {
  EXAMPLE_RULES,
  nowSeconds,
  opensslSelfSigned,
  post,
  rsaPair,
  txSignRequest,
} from './helpers.js';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
// Run the TypeScript sources, resolving workspace packages to their sources too.
const NODE_ARGS = ['--conditions=@countersign/source', '--import', 'tsx', BIN];

const dir = mkdtempSync(join(tmpdir(), 'callback-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [...NODE_ARGS, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('countersign-callback', () => {
  it('--help documents the commands and exit codes; usage errors exit 2', () => {
    const help = run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/serve .*--rules FILE/);
    expect(help.stdout).toMatch(
      /Exit codes: 0 success, 1 failure .* 2 usage error,\n3 invalid configuration/,
    );
    expect(run('frobnicate').code).toBe(2);
    expect(run('serve', '--rules').code).toBe(2);
    expect(run('serve', '--rules', 'x.json').stderr).toMatch(/--state-dir is required/);
  });

  it('keygen writes a 0600 private key and its public key, and never overwrites', () => {
    const out = mkdtempSync(join(dir, 'keys-'));
    const r = run('keygen', '--out', out, '--bits', '2048');
    expect(r.code).toBe(0);
    expect(statSync(join(out, 'handler-private.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'handler-public.pem'), 'utf8')).toMatch(
      /^-----BEGIN PUBLIC KEY-----/,
    );
    expect(r.stdout).not.toContain('PRIVATE KEY-----');
    const again = run('keygen', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('check-rules: valid summary, or exit 3 naming the file and field', () => {
    const good = join(dir, 'rules.json');
    writeFileSync(good, JSON.stringify(EXAMPLE_RULES));
    const ok = run('check-rules', good);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid — default REJECT/);
    const bad = join(dir, 'bad-rules.json');
    writeFileSync(
      bad,
      JSON.stringify({
        ...EXAMPLE_RULES,
        assets: { ETH: { allowlist: 'ANY', maxAmount: '10 ETH' } },
      }),
    );
    const r = run('check-rules', bad);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${bad}: /assets/ETH/maxAmount: must match pattern`);
  });

  it('pin prints the SPKI SHA-256 of a certificate', () => {
    const { certFile: cert } = opensslSelfSigned(dir, 'tls');
    const r = run('pin', cert);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(run('pin', join(dir, 'rules.json')).code).toBe(3);
  });
});

describe('countersign-callback serve', () => {
  const cosigner = rsaPair();
  const handler = rsaPair();
  const files = mkdtempSync(join(dir, 'serve-'));
  const cosignerPub = join(files, 'cosigner.pem');
  const handlerKey = join(files, 'handler.key');
  const rules = join(files, 'rules.json');
  writeFileSync(cosignerPub, cosigner.publicPem);
  writeFileSync(handlerKey, handler.privatePem, { mode: 0o600 });
  writeFileSync(
    rules,
    JSON.stringify({
      version: 1,
      defaultAction: 'REJECT',
      assets: { ETH: { allowlist: 'ANY', velocity: [{ windowSeconds: 86400, maxCount: 1 }] } },
    }),
  );
  const stateDir = join(files, 'state');
  const auditLog = join(files, 'audit.jsonl');
  const args = [
    'serve',
    '--rules',
    rules,
    '--state-dir',
    stateDir,
    '--audit-log',
    auditLog,
    '--cosigner-public-key',
    cosignerPub,
    '--private-key',
    handlerKey,
    '--listen',
    '127.0.0.1:0',
    '--path-prefix',
    '/cb',
  ];

  async function startServe(): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args]);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    return { child, url };
  }

  async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return exited;
  }

  async function ask(url: string) {
    const payload = txSignRequest({ asset: 'ETH' });
    const answer = await post(
      `${url}/v2/tx_sign_request`,
      signCallbackRequest({ ...payload }, cosigner.privateKey, nowSeconds()),
    );
    expect(answer.status).toBe(200);
    return verifyCallbackResponse(answer.body, handler.publicKey, {
      nowSeconds: nowSeconds(),
      clockSkewSeconds: 30,
      requireTimestamps: true,
      expectedRequestId: payload.requestId,
    });
  }

  it('answers signed decisions and keeps the velocity window across a restart', async () => {
    const first = await startServe();
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cb$/);
    expect((await ask(first.url)).action).toBe('APPROVE');
    expect(await stop(first.child)).toBe(0);

    const second = await startServe();
    expect(await ask(second.url)).toMatchObject({
      action: 'REJECT',
      rejectionReason: 'more than 1 ETH approvals in 86400 s',
    });
    expect(await stop(second.child)).toBe(0);

    const audit = readFileSync(auditLog, 'utf8').trimEnd().split('\n');
    expect(audit.map((l) => (JSON.parse(l) as { action: string }).action)).toEqual([
      'APPROVE',
      'REJECT',
    ]);
    expect(statSync(auditLog).mode & 0o777).toBe(0o600);
    // The hash chain runs across the two processes.
    const verified = run('verify-audit', auditLog);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/2 line\(s\), hash chain intact/);
    // Rewrite the first decision (an approval made to look like a rejection).
    writeFileSync(auditLog, readFileSync(auditLog, 'utf8').replace('"APPROVE"', '"REJECT"'));
    const broken = run('verify-audit', auditLog);
    expect(broken.code).toBe(4);
    expect(broken.stderr).toMatch(/hash chain broken at line 2/);
  });

  it('serves pinned-TLS mode over HTTPS to a client pinning the printed SPKI hash', async () => {
    const { keyFile: key, certFile: cert } = opensslSelfSigned(files, 'pinned');
    chmodSync(key, 0o600);
    const pin = run('pin', cert).stdout.trim();
    const child = spawn(process.execPath, [
      ...NODE_ARGS,
      'serve',
      '--pinned-tls',
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--rules',
      rules,
      '--state-dir',
      join(files, 'pinned-state'),
      '--audit-log',
      join(files, 'pinned.jsonl'),
      '--listen',
      '127.0.0.1:0',
    ]);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    try {
      expect(url).toMatch(/^https:/);
      const payload = txSignRequest({ asset: 'ETH' });
      const answer = await post(`${url}/v2/tx_sign_request`, JSON.stringify(payload), {
        contentType: 'application/json',
        tls: { agent: createPinnedAgent(pin) },
      });
      expect(answer.status).toBe(200);
      expect(checkCallbackResponse(JSON.parse(answer.body), payload.requestId).action).toBe(
        'APPROVE',
      );
      await expect(
        post(`${url}/v2/tx_sign_request`, JSON.stringify(txSignRequest()), {
          tls: { agent: createPinnedAgent('00'.repeat(32)) },
        }),
      ).rejects.toThrow(/does not match the pinned key/);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('refuses a private key readable by others (exit 3) and a bad rules file (exit 3)', () => {
    chmodSync(handlerKey, 0o644);
    try {
      const r = run(...args);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/readable by others .* chmod 600/);
      expect(r.stderr).not.toContain('PRIVATE KEY');
    } finally {
      chmodSync(handlerKey, 0o600);
    }
    // A TLS key that does not belong to the certificate.
    const { certFile: certOnly } = opensslSelfSigned(files, 'only');
    const mismatch = run(...args, '--tls-cert', certOnly, '--tls-key', handlerKey);
    expect(mismatch.code).toBe(3);
    expect(mismatch.stderr).toMatch(/--tls-cert\/--tls-key: not a usable certificate and key/);
    expect(mismatch.stderr).not.toContain('PRIVATE KEY');
    const badRules = join(files, 'bad.json');
    writeFileSync(badRules, '{"version":1}');
    const r = run(...args.map((a) => (a === rules ? badRules : a)));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/bad\.json: \/: missing field "defaultAction"/);
  });
});
