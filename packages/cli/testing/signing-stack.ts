/**
 * The whole signing stack as real processes on loopback, for end-to-end tests and benchmarks:
 * `countersign dev` (the platform on PGlite), two Cloud Co-signers registered with cloud pairing
 * tokens and one API co-signer paired to a Signer, each a `cosigner start` process with its own
 * store. Resolves once every party holds both root keys' share sets (KEYGEN through the relay).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CountersignClient, createPemRequestSigner } from '@countersign/sdk';
import {
  COSIGNER_BIN as COSIGNER,
  decideAsDevOwner,
  exitOf,
  runCli,
  startDev,
  type DevPlatform,
} from './processes.js';

const env = { ...process.env, COSIGNER_PASSPHRASE: 'signing stack passphrase' };
export const PARTY_HOMES = ['cloud-1', 'cloud-2', 'api-cosigner'] as const;

export interface ShareSetStatus {
  id: string;
  apiKeyId: string;
  algorithm: string;
  publicKey?: string;
  chainCode?: string;
}

export interface SigningStack {
  readonly cwd: string;
  /** Base URL of the platform, without `/v1`. */
  readonly platformUrl: string;
  /** The development API user (ADMIN) that `countersign dev` created: its key id and PEM. */
  readonly devApiKey: string;
  readonly devPrivateKeyPem: string;
  /** The Signer API user whose share sets sign. */
  readonly signerId: string;
  /** Every party's share sets, in PARTY_HOMES order. */
  readonly shareSets: ShareSetStatus[][];
  /** The daemons' combined output, for failure messages. */
  logs(): string;
  /** Pairs a new SIGNER API user to a new API co-signer in `home` (not started); its id. */
  pairSigner(name: string, home: string): Promise<string>;
  /** Starts the daemon of an API co-signer's `home`. */
  startDaemon(home: string, options?: ApiDaemonOptions): void;
  /** Stops the daemons of `home` (SIGTERM); their exit codes. */
  stopDaemon(home: string): Promise<number[]>;
  /** Stops the daemons (expecting exit 0) and the platform. */
  stop(): Promise<number[]>;
  /** Removes the scratch directory (after stop). */
  remove(): void;
}

/** Our SDK, as the development API user (ADMIN) that `countersign dev` created. */
export function devClient(stack: SigningStack): CountersignClient {
  return new CountersignClient({
    baseUrl: stack.platformUrl,
    apiKey: stack.devApiKey,
    signer: createPemRequestSigner(stack.devPrivateKeyPem),
  });
}

export function cosigner(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [COSIGNER, ...args], {
    cwd,
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function shareSetsOf(home: string, cwd: string): ShareSetStatus[] {
  const r = cosigner(['status', '--home', home, '--json'], cwd);
  if (r.status !== 0) return [];
  return (JSON.parse(r.stdout) as { shareSets: ShareSetStatus[] }).shareSets;
}

/**
 * The algorithms of the jobs of `type` a daemon's log reports done (`cosigner start` writes one
 * JSON line per event; "job done" comes after the outcome is stored and the platform took it).
 */
function jobsDone(log: string, type: string): Set<string> {
  const algorithms = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as { message?: unknown; type?: unknown; algorithm?: unknown };
      if (
        event.message === 'job done' &&
        event.type === type &&
        typeof event.algorithm === 'string'
      )
        algorithms.add(event.algorithm);
    } catch {
      // a line still being written
    }
  }
  return algorithms;
}

function check(r: { status: number | null; stderr: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (${String(r.status)}): ${r.stderr}`);
}

/** How an API co-signer's daemon is started. */
export interface ApiDaemonOptions {
  /**
   * `cosigner start --approve-pairings-without-handler`: deal later signers' reshares for an API
   * key without a Callback Handler (reshare review H1). Off by default, as in production.
   */
  readonly approvePairingsWithoutHandler?: boolean;
}

export interface SigningStackOptions {
  /** `cosigner start --concurrency` of every daemon; each mode's default when absent. */
  readonly concurrency?: number;
}

export async function startSigningStack(
  prefix: string,
  options: SigningStackOptions = {},
): Promise<SigningStack> {
  const cwd = mkdtempSync(join(tmpdir(), prefix));
  const daemons: { home: string; child: ChildProcess; log: () => string }[] = [];
  const logs = () => daemons.map((d) => d.log()).join('\n---\n');
  const startDaemon = (home: string, cloud: boolean, api: ApiDaemonOptions = {}): void => {
    const child = spawn(
      process.execPath,
      [
        COSIGNER,
        'start',
        '--home',
        home,
        ...(cloud ? ['--cloud'] : []),
        ...(api.approvePairingsWithoutHandler === true
          ? ['--approve-pairings-without-handler']
          : []),
        ...(options.concurrency === undefined
          ? []
          : ['--concurrency', String(options.concurrency)]),
      ],
      { cwd, env },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    daemons.push({ home, child, log: () => out });
  };

  // First run creates the workspace; stopped so the operator can mint cloud tokens (PGlite is
  // locked while the platform runs).
  await (await startDev(cwd)).stop();
  const tokens = [1, 2].map((slot) => {
    const r = runCli(
      [
        'cloud-cosigner',
        'token',
        '--slot',
        String(slot),
        '--data-dir',
        '.countersign/db',
        '--json',
      ],
      cwd,
    );
    check(r, 'cloud-cosigner token');
    return (JSON.parse(r.stdout) as { pairingToken: string }).pairingToken;
  });

  let dev: DevPlatform = await startDev(cwd);
  const stop = async (): Promise<number[]> => {
    const codes: number[] = [];
    for (const d of daemons) {
      if (d.child.exitCode !== null) {
        codes.push(d.child.exitCode);
        continue;
      }
      d.child.kill('SIGTERM');
      codes.push((await exitOf(d.child)) ?? -1);
    }
    await dev.stop();
    return codes;
  };
  /**
   * A new SIGNER API user paired to a new API co-signer in `home`: the Owner approves the pairing
   * (platform stopped: PGlite admits one process), then the platform starts again where the
   * co-signers expect it and the co-signer collects its token. Returns the API user's id.
   */
  const pairSigner = async (name: string, home: string): Promise<string> => {
    check(runCli(['csr', '--name', name, '--org', 'Acme', '--out', name], cwd), 'csr');
    check(
      runCli(
        ['api-user', 'create', '--name', name, '--role', 'SIGNER', '--csr', `${name}/api_user.csr`],
        cwd,
      ),
      'api-user create',
    );
    const users = JSON.parse(runCli(['api', 'GET', '/v1/management/api_users'], cwd).stdout) as {
      users: { id: string; name: string }[];
    };
    const signerId = users.users.find((u) => u.name === name)!.id;
    const issued = runCli(
      ['api', 'POST', `/v1/countersign/api_users/${signerId}/pairing_token`],
      cwd,
    );
    check(issued, 'pairing token');
    const pairingToken = (JSON.parse(issued.stdout) as { pairingToken: string }).pairingToken;
    const apiSetup = cosigner(
      [
        'setup',
        '--home',
        home,
        '--kms',
        'local',
        '--name',
        name,
        '--pairing-token',
        pairingToken,
        '--platform-url',
        dev.platformUrl,
        '--no-wait',
        '--json',
      ],
      cwd,
    );
    check(apiSetup, 'api co-signer setup');
    const { requestId } = (JSON.parse(apiSetup.stdout) as { pairing: { requestId: string } })
      .pairing;
    const port = dev.port;
    await dev.stop();
    await decideAsDevOwner(cwd, requestId);
    dev = await startDev(cwd, port);
    const approved = cosigner(['pair', '--home', home, '--timeout', '60'], cwd);
    check(approved, 'pair approved');
    if (!/^Paired\./.test(approved.stdout)) throw new Error(`not paired: ${approved.stdout}`);
    return signerId;
  };
  try {
    const { platformUrl } = dev;
    for (const [i, token] of tokens.entries()) {
      const home = `cloud-${i + 1}`;
      check(
        cosigner(['setup', '--home', home, '--kms', 'local', '--name', home, '--cloud'], cwd),
        'cloud setup',
      );
      check(
        cosigner(
          ['pair', '--home', home, '--pairing-token', token, '--platform-url', platformUrl],
          cwd,
        ),
        'cloud pair',
      );
    }
    const signerId = await pairSigner('signer', 'api-cosigner');
    for (const home of PARTY_HOMES) startDaemon(home, home !== 'api-cosigner');

    // Every party holds both share sets. The stores are read once every daemon's log reports
    // both KEYGEN jobs done (or every 10 s in case a log line was missed): reading them every
    // second meant a `cosigner status` process per party — node start and the passphrase's
    // scrypt each time — competing with the DKG for the CPU.
    let shareSets: ShareSetStatus[][] = [];
    const deadline = Date.now() + 240_000;
    let nextRead = Date.now() + 10_000;
    for (;;) {
      const logged = PARTY_HOMES.every(
        (home) => jobsDone(daemons.find((d) => d.home === home)!.log(), 'KEYGEN').size === 2,
      );
      if (logged || Date.now() >= nextRead) {
        shareSets = PARTY_HOMES.map((h) => shareSetsOf(h, cwd));
        if (shareSets.every((s) => s.length === 2)) break;
        nextRead = Date.now() + 10_000;
      }
      if (Date.now() > deadline) throw new Error(`KEYGEN did not finish:\n${logs()}`);
      await new Promise((r) => setTimeout(r, logged ? 1000 : 200));
    }
    const state = JSON.parse(readFileSync(join(cwd, '.countersign/dev/state.json'), 'utf8')) as {
      apiKey: string;
      privateKeyPath: string;
    };
    return {
      cwd,
      platformUrl,
      devApiKey: state.apiKey,
      devPrivateKeyPem: readFileSync(resolve(cwd, state.privateKeyPath), 'utf8'),
      signerId,
      shareSets,
      logs,
      pairSigner,
      startDaemon: (home, api) => startDaemon(home, false, api),
      stopDaemon: async (home) => {
        const codes: number[] = [];
        for (const d of daemons.filter((x) => x.home === home && x.child.exitCode === null)) {
          d.child.kill('SIGTERM');
          codes.push((await exitOf(d.child)) ?? -1);
        }
        return codes;
      },
      stop,
      remove: () => rmSync(cwd, { recursive: true, force: true }),
    };
  } catch (error) {
    await stop();
    rmSync(cwd, { recursive: true, force: true });
    throw error;
  }
}
