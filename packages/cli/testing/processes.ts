/**
 * The built `countersign` and `cosigner` binaries as a user runs them, in a scratch directory:
 * shared by the end-to-end tests (packages/cli/test) and the end-to-end benchmarks (bench/).
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalKmsKey, MIN_SCRYPT_LOG_N } from '@countersign/cosigner';
import { createServices, openDatabase } from '@countersign/platform';

export const BIN = fileURLToPath(new URL('../bin/countersign.js', import.meta.url));
export const COSIGNER_BIN = fileURLToPath(
  new URL('../../cosigner/bin/cosigner.js', import.meta.url),
);
/** The dev workspace Owner's password in tests (dev reads COUNTERSIGN_OWNER_PASSWORD). */
export const DEV_OWNER_PASSWORD = 'dev owner password for tests';

/**
 * Makes the `local` KMS key file of the co-signer home `home` (`<home>/local-kms.key`, where
 * `cosigner setup --kms local` looks) at the lowest scrypt cost, for setup to keep and use — it
 * never replaces a key file it finds. Every `cosigner` command of that home then derives its
 * key in milliseconds rather than a second of the 2-core machines' CPU, which end-to-end files
 * that start daemons over and over paid hundreds of times. The production cost stays covered:
 * the co-signer package's CLI tests set up homes without this.
 */
export async function lowCostKeyFile(home: string, passphrase: string): Promise<void> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const kms = await createLocalKmsKey({
    keyFile: join(home, 'local-kms.key'),
    passphrase,
    unsafeScryptLogN: MIN_SCRYPT_LOG_N,
  });
  await kms.close?.();
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a long-running command and resolves once its output matches `ready`. */
export function startCli(
  args: string[],
  cwd: string,
  ready: RegExp,
  env: Record<string, string> = {},
  bin = BIN,
): Promise<{ child: ChildProcess; output: () => string; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env } });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out waiting for ${String(ready)}; output:\n${out}`));
    }, 120_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output: () => out, match });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready; output:\n${out}`));
    });
  });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A running `countersign dev`: its platform URL and port, and how to stop it. */
export interface DevPlatform {
  platformUrl: string;
  port: number;
  /** The platform process's id. */
  pid: number;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts `countersign dev --platform-only` in `cwd` (port 0 picks one; pass the previous port to
 * restart the same platform where its co-signers expect it): the callers register their own
 * co-signers, each a process. The Owner's password is DEV_OWNER_PASSWORD.
 */
export async function startDev(cwd: string, port = 0): Promise<DevPlatform> {
  const dev = await startCli(
    ['dev', '--port', String(port), '--platform-only'],
    cwd,
    /Press Ctrl\+C to stop\./,
    { COUNTERSIGN_OWNER_PASSWORD: DEV_OWNER_PASSWORD },
  );
  const platformUrl = /Base URL: +(http:\/\/127\.0\.0\.1:(\d+))\/v1/.exec(dev.output());
  if (!platformUrl) throw new Error(`no base URL in:\n${dev.output()}`);
  return {
    platformUrl: platformUrl[1]!,
    port: Number(platformUrl[2]),
    pid: dev.child.pid!,
    output: dev.output,
    stop: async () => {
      if (dev.child.exitCode !== null) return;
      dev.child.kill('SIGTERM');
      await exitOf(dev.child);
    },
  };
}

/**
 * The dev workspace's Owner decides an approval request (a COSIGNER_PAIR, say), signed in with
 * the Owner's email and password, straight on the embedded database — the Owner has no HTTP
 * session yet, and PGlite admits one process, so `countersign dev` must be stopped first.
 * Returns the request's payload (what the Owner was shown).
 */
export async function decideAsDevOwner(
  cwd: string,
  requestId: string,
  decision: 'APPROVE' | 'REJECT' = 'APPROVE',
): Promise<Record<string, unknown>> {
  const database = await openDatabase({ dataDir: join(cwd, '.countersign', 'db') });
  try {
    const services = createServices(database, { clockSkewSeconds: 0 });
    const signedIn = await services.workspaces.signIn(
      'owner@countersign.local',
      DEV_OWNER_PASSWORD,
    );
    if (signedIn.outcome !== 'signed-in') throw new Error(`Owner sign-in: ${signedIn.outcome}`);
    const decided = await services.approvals.decide(signedIn.principal, requestId, decision);
    return decided.payload;
  } finally {
    await database.close();
  }
}
