/**
 * API credentials come from one source: flags/environment, or else the dev
 * state — never mixed. A checkout's .countersign/dev/state.json (here: one
 * naming a "collector" server run by the test) must not receive requests
 * signed with a key given on the command line, nor make the CLI sign with a
 * key file it points at.
 */
import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, type RunResult } from './helpers.js';

/** Like helpers.runCli, but without blocking the event loop the collector server runs on. */
function runCliAsync(args: string[], cwd: string, env: Record<string, string>): Promise<RunResult> {
  const clean: Record<string, string | undefined> = { ...process.env };
  for (const name of [
    'COUNTERSIGN_API_KEY',
    'COUNTERSIGN_API_SECRET_PATH',
    'COUNTERSIGN_BASE_URL',
    'COUNTERSIGN_HOME',
  ]) {
    delete clean[name];
  }
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...clean, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('close', (status) => resolve({ status, stdout, stderr })),
  );
}

function newKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Whether the request's JWT carries a valid RS256 signature by `publicPem`. */
function signedBy(headers: IncomingHttpHeaders, publicPem: string): boolean {
  const jwt = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1] ?? '';
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  return verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    createPublicKey(publicPem),
    Buffer.from(signature, 'base64url'),
  );
}

describe('API credentials: one source, never mixed', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-creds-'));
  const devKey = newKey();
  const userKey = newKey();
  const DEV_API_KEY = '11111111-1111-4111-8111-111111111111';
  const USER_API_KEY = '22222222-2222-4222-8222-222222222222';
  const received: IncomingHttpHeaders[] = [];
  let collector: Server;
  let collectorUrl: string;

  beforeAll(async () => {
    collector = createServer((req, res) => {
      received.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"collected":true}');
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    writeFileSync(join(cwd, 'user.key'), userKey.privatePem, { mode: 0o600 });
    mkdirSync(join(cwd, '.countersign/dev'), { recursive: true });
    writeFileSync(join(cwd, '.countersign/dev/api_private.key'), devKey.privatePem);
  });
  afterAll(async () => {
    await new Promise((resolve) => collector.close(resolve));
    rmSync(cwd, { recursive: true, force: true });
  });
  beforeEach(() => {
    received.length = 0;
    // A planted state: the collector as base URL, and the user's own key as "the dev key".
    writeFileSync(
      join(cwd, '.countersign/dev/state.json'),
      JSON.stringify({
        workspaceId: '33333333-3333-4333-8333-333333333333',
        apiKey: DEV_API_KEY,
        privateKeyPath: join(cwd, 'user.key'),
        baseUrl: collectorUrl,
      }),
    );
  });

  it('a key given by flags is never sent to the dev state base URL', async () => {
    const r = await runCliAsync(
      ['api', 'GET', '/v1/management/api_users', '--api-key', USER_API_KEY, '--key', 'user.key'],
      cwd,
      // Nothing listens here: the request goes to the explicit default or nowhere.
      { COUNTERSIGN_BASE_URL: 'http://127.0.0.1:9' },
    );
    expect(r.status).not.toBe(0);
    expect(received).toEqual([]);
  });

  it('flags without a base URL default to http://127.0.0.1:8080, not to the dev state', async () => {
    await runCliAsync(
      ['api', 'GET', '/v1/management/api_users', '--api-key', USER_API_KEY, '--key', 'user.key'],
      cwd,
      {},
    );
    expect(received).toEqual([]);
  });

  it('the same from the environment', async () => {
    await runCliAsync(['api', 'GET', '/v1/management/api_users'], cwd, {
      COUNTERSIGN_API_KEY: USER_API_KEY,
      COUNTERSIGN_API_SECRET_PATH: 'user.key',
    });
    expect(received).toEqual([]);
  });

  it('a partial explicit set is a usage error, not completed from the dev state', async () => {
    for (const [args, env] of [
      [['--api-key', USER_API_KEY], {}],
      [['--key', 'user.key'], {}],
      [['--base-url', collectorUrl], {}],
      [[], { COUNTERSIGN_BASE_URL: collectorUrl }],
      [['--api-key', USER_API_KEY], { COUNTERSIGN_BASE_URL: collectorUrl }],
    ] as const) {
      const r = await runCliAsync(['api', 'GET', '/v1/management/api_users', ...args], cwd, env);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/is missing: when any of --api-key, --key or --base-url/);
      expect(r.stderr).toMatch(/dev state is not mixed in/);
    }
    expect(received).toEqual([]);
  });

  it('with nothing given, all three come from the dev state; the key is always the dev directory’s own', async () => {
    const r = await runCliAsync(['api', 'GET', '/v1/management/api_users'], cwd, {});
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ collected: true });
    expect(received).toHaveLength(1);
    const [headers] = received;
    expect(headers?.['x-api-key']).toBe(DEV_API_KEY);
    // Signed with .countersign/dev/api_private.key, not with the user.key state.json names.
    expect(signedBy(headers!, devKey.publicPem)).toBe(true);
    expect(signedBy(headers!, userKey.publicPem)).toBe(false);
  });

  it('refuses a dev key that is a symbolic link (to some other key on disk)', async () => {
    const home = join(cwd, 'linked');
    mkdirSync(join(home, 'dev'), { recursive: true });
    symlinkSync(join(cwd, 'user.key'), join(home, 'dev/api_private.key'));
    writeFileSync(
      join(home, 'dev/state.json'),
      JSON.stringify({
        workspaceId: '33333333-3333-4333-8333-333333333333',
        apiKey: DEV_API_KEY,
        privateKeyPath: join(home, 'dev/api_private.key'),
        baseUrl: collectorUrl,
      }),
    );
    const r = await runCliAsync(['api', 'GET', '/v1/management/api_users'], cwd, {
      COUNTERSIGN_HOME: home,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is a symbolic link: refusing to sign/);
    expect(received).toEqual([]);
  });
});
