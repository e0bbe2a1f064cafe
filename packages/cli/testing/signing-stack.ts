/**
 * The whole signing stack as real processes on loopback, for end-to-end tests and benchmarks:
 * `countersign dev` (the platform on PGlite), two Cloud Co-signers registered with cloud pairing
 * tokens and one API co-signer paired to a Signer, each a `cosigner start` process with its own
 * store. Resolves once every party holds both root keys' share sets (KEYGEN through the relay).
 *
 * Under vitest (vitest.global-setup.ts names a directory in COUNTERSIGN_TEST_STACK_SNAPSHOT) the
 * first test file that starts a stack builds it that way once, stops it and keeps its directory
 * as a snapshot; every other file starts a copy of it — the same root keys, its own platform
 * database and stores, the co-signers moved to their new platform's port — instead of spending
 * ~45 s of the 2-core machines' CPU on the same setup and KEYGEN again. The KEYGEN test asks for
 * a fresh stack.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { movePlatform, openLocalKms, openStore } from '@countersign/cosigner';
import { CountersignClient, createPemRequestSigner } from '@countersign/sdk';
import {
  COSIGNER_BIN as COSIGNER,
  decideAsDevOwner,
  exitOf,
  lowCostKeyFile,
  runCli,
  startDev,
  type DevPlatform,
} from './processes.js';
import { SNAPSHOT_ENV } from './stack-snapshot-env.js';

const env = { ...process.env, COSIGNER_PASSPHRASE: 'signing stack passphrase' };
export const PARTY_HOMES = ['cloud-1', 'cloud-2', 'api-cosigner'] as const;

export interface ShareSetStatus {
  id: string;
  apiKeyId: string;
  algorithm: string;
  publicKey?: string;
  chainCode?: string;
  /** The party indices pinned with it (pool review M2); null: not pinned. */
  pinnedParties?: number[] | null;
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
  /** The running processes: the platform (`platform`) and each daemon, by its home; their ids. */
  processes(): { name: string; pid: number }[];
  /** The algorithms of the jobs of `type` the daemons of `home` logged done. */
  jobsDone(home: string, type: string): Set<string>;
  /** The JSON log events of the daemons of `home` so far, oldest first. */
  events(home: string): Record<string, unknown>[];
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

/**
 * The platform's pooled entries by state, read from its Prometheus metrics: those of `algorithm`
 * (ECDSA presignatures or EdDSA nonce sets), or of both added up.
 */
export async function presignaturePool(
  stack: SigningStack,
  algorithm?: 'ECDSA_SECP256K1' | 'EDDSA_ED25519',
): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.platformUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, of, status, n] of text.matchAll(
    /^countersign_presignatures\{algorithm="(\w+)",status="(\w+)"\} (\d+)$/gm,
  ))
    if (algorithm === undefined || of === algorithm)
      counts[status!] = (counts[status!] ?? 0) + Number(n);
  return counts;
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

/**
 * The share sets `cosigner status --json` printed, less each one's pool level: the platform's
 * background PRESIGN jobs change it at any moment, so two readings of the same share set differ.
 */
export function statusShareSets(statusJson: string): ShareSetStatus[] {
  const status = JSON.parse(statusJson) as {
    shareSets: (ShareSetStatus & { availablePresignatures?: number })[];
  };
  return status.shareSets.map(({ availablePresignatures, ...set }) => {
    void availablePresignatures;
    return set;
  });
}

export function shareSetsOf(home: string, cwd: string): ShareSetStatus[] {
  const r = cosigner(['status', '--home', home, '--json'], cwd);
  if (r.status !== 0) return [];
  return statusShareSets(r.stdout);
}

/** A daemon's log event (`cosigner start` writes one JSON line per event). */
type LogEvent = {
  message?: unknown;
  type?: unknown;
  algorithm?: unknown;
  [field: string]: unknown;
};

/** The events of a daemon's log that `match` (a line still being written is skipped). */
function logEvents(log: string, match: (event: LogEvent) => boolean): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as LogEvent;
      if (match(event)) events.push(event);
    } catch {
      // a line still being written
    }
  }
  return events;
}

/** Whether a daemon's log reports an event that `match`es. */
function logged(log: string, match: (event: LogEvent) => boolean): boolean {
  return logEvents(log, match).length > 0;
}

/**
 * The algorithms of the jobs of `type` a daemon's log reports done ("job done" comes after the
 * outcome is stored and the platform took it).
 */
function jobsDone(log: string, type: string): Set<string> {
  return new Set(
    logEvents(log, (e) => e.message === 'job done' && e.type === type)
      .map((e) => e.algorithm)
      .filter((a): a is string => typeof a === 'string'),
  );
}

/**
 * Waits until `read` of the stores answers (not undefined). The stores are read once `logged`
 * says the jobs are done, or every 10 s in case a log line was missed: reading them every second
 * meant a `cosigner status` process per party — node start and the passphrase's scrypt each
 * time — competing with the protocol for the CPU.
 */
export async function untilStoresHold<T>(
  logged: () => boolean,
  read: () => T | undefined,
  timeoutMs: number,
  failure: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let nextRead = Date.now() + 10_000;
  for (;;) {
    const done = logged();
    if (done || Date.now() >= nextRead) {
      const held = read();
      if (held !== undefined) return held;
      nextRead = Date.now() + 10_000;
    }
    if (Date.now() > deadline) throw new Error(failure());
    await new Promise((r) => setTimeout(r, done ? 1000 : 200));
  }
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
  /** Set up and run KEYGEN even where a snapshot is available (the KEYGEN test). */
  readonly fresh?: boolean;
}

/** What a snapshot's stack was, besides its files. */
interface Snapshot {
  readonly dir: string;
  readonly signerId: string;
  readonly shareSets: ShareSetStatus[][];
}

export async function startSigningStack(
  prefix: string,
  options: SigningStackOptions = {},
): Promise<SigningStack> {
  const root = options.fresh === true ? undefined : process.env[SNAPSHOT_ENV];
  const cwd = mkdtempSync(join(tmpdir(), prefix));
  if (root === undefined) return launchStack(cwd, options, undefined);
  let snapshot: Snapshot;
  try {
    snapshot = await snapshotIn(root);
    cpSync(snapshot.dir, cwd, { recursive: true });
  } catch (error) {
    rmSync(cwd, { recursive: true, force: true });
    throw error;
  }
  return launchStack(cwd, options, snapshot);
}

/**
 * The run's snapshot in `root`: built by the first caller (which takes `root/building`), waited
 * for by the others, across the test workers. A failed build fails every waiting file with its
 * error rather than leaving them to time out.
 */
async function snapshotIn(root: string): Promise<Snapshot> {
  const ready = join(root, 'snapshot.json');
  const failed = join(root, 'failed.txt');
  let builder = true;
  const building = join(root, 'building');
  try {
    mkdirSync(building);
    writeFileSync(join(building, 'pid'), String(process.pid));
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    builder = false;
  }
  if (builder) {
    try {
      const dir = join(root, 'stack');
      mkdirSync(dir);
      const stack = await launchStack(dir, {}, undefined);
      const codes = await stack.stop();
      if (codes.some((c) => c !== 0)) throw new Error(`daemons exited ${codes.join(', ')}`);
      const snapshot: Snapshot = { dir, signerId: stack.signerId, shareSets: stack.shareSets };
      writeFileSync(`${ready}.tmp`, JSON.stringify(snapshot));
      renameSync(`${ready}.tmp`, ready);
    } catch (error) {
      writeFileSync(
        failed,
        error instanceof Error ? (error.stack ?? error.message) : String(error),
      );
      throw error;
    }
  }
  const deadline = Date.now() + 600_000;
  while (!existsSync(ready)) {
    if (!builder && !builderAlive(building)) {
      throw new Error('the test worker building the signing stack snapshot died');
    }
    if (existsSync(failed)) {
      throw new Error(
        `building the signing stack snapshot failed:\n${readFileSync(failed, 'utf8')}`,
      );
    }
    if (Date.now() > deadline) throw new Error('the signing stack snapshot was not built in 600 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  return JSON.parse(readFileSync(ready, 'utf8')) as Snapshot;
}

/** Whether the process that took `building` still runs (its pid is written right after). */
function builderAlive(building: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(building, 'pid'), 'utf8'));
  } catch {
    return true; // not written yet
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Points the copy of a snapshot's co-signer `home` at the platform now at `platformUrl`: its KMS
 * key file's path (`cosigner setup` writes it absolute) and its stored platform address.
 */
async function moveCopiedCosigner(
  cwd: string,
  snapshot: Snapshot,
  home: string,
  platformUrl: string,
): Promise<void> {
  const configFile = join(cwd, home, 'cosigner.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { kms: { keyFile: string } };
  const inSnapshot = relative(snapshot.dir, config.kms.keyFile);
  if (inSnapshot.startsWith('..')) throw new Error(`${home}: key file outside the snapshot`);
  config.kms.keyFile = join(cwd, inSnapshot);
  // The copy's own key file, or the store below would open with the snapshot's.
  if (!existsSync(config.kms.keyFile)) throw new Error(`${home}: no ${config.kms.keyFile}`);
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  const kms = await openLocalKms({
    keyFile: config.kms.keyFile,
    passphrase: env.COSIGNER_PASSPHRASE,
  });
  try {
    const store = await openStore({ dir: join(cwd, home, 'store'), kms });
    try {
      await movePlatform(store, platformUrl);
    } finally {
      store.close();
    }
  } finally {
    await kms.close?.();
  }
}

/** Creates the dev workspace (`countersign dev`, stopped again) and mints both cloud tokens. */
async function cloudTokensOfNewWorkspace(cwd: string): Promise<string[]> {
  // First run creates the workspace; stopped so the operator can mint cloud tokens (PGlite is
  // locked while the platform runs).
  await (await startDev(cwd)).stop();
  return [1, 2].map((slot) => {
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
}

/** A stack in `cwd`: set up from nothing, or started from a copy of `snapshot`. */
async function launchStack(
  cwd: string,
  options: SigningStackOptions,
  snapshot: Snapshot | undefined,
): Promise<SigningStack> {
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

  const tokens = snapshot === undefined ? await cloudTokensOfNewWorkspace(cwd) : [];
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
    await lowCostKeyFile(join(cwd, home), env.COSIGNER_PASSPHRASE);
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
  /** Registers the clouds, pairs the Signer, starts the daemons and waits for both root keys. */
  const setUpAndKeygen = async (): Promise<{ signerId: string; shareSets: ShareSetStatus[][] }> => {
    for (const [i, token] of tokens.entries()) {
      const home = `cloud-${i + 1}`;
      await lowCostKeyFile(join(cwd, home), env.COSIGNER_PASSPHRASE);
      check(
        cosigner(['setup', '--home', home, '--kms', 'local', '--name', home, '--cloud'], cwd),
        'cloud setup',
      );
      check(
        cosigner(
          ['pair', '--home', home, '--pairing-token', token, '--platform-url', dev.platformUrl],
          cwd,
        ),
        'cloud pair',
      );
    }
    const signerId = await pairSigner('signer', 'api-cosigner');
    for (const home of PARTY_HOMES) startDaemon(home, home !== 'api-cosigner');

    // Every party holds both share sets.
    const shareSets = await untilStoresHold(
      () =>
        PARTY_HOMES.every(
          (home) => jobsDone(daemons.find((d) => d.home === home)!.log(), 'KEYGEN').size === 2,
        ),
      () => {
        const held = PARTY_HOMES.map((h) => shareSetsOf(h, cwd));
        return held.every((sets) => sets.length === 2) ? held : undefined;
      },
      240_000,
      () => `KEYGEN did not finish:\n${logs()}`,
    );
    return { signerId, shareSets };
  };
  try {
    const { platformUrl } = dev;
    if (snapshot !== undefined) {
      for (const home of PARTY_HOMES) await moveCopiedCosigner(cwd, snapshot, home, platformUrl);
      for (const home of PARTY_HOMES) startDaemon(home, home !== 'api-cosigner');
      const deadline = Date.now() + 120_000;
      while (!daemons.every((d) => logged(d.log(), (e) => e.message === 'polling for work'))) {
        if (Date.now() > deadline) throw new Error(`the daemons did not start:\n${logs()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const { signerId, shareSets } = snapshot ?? (await setUpAndKeygen());
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
      processes: () => [
        { name: 'platform', pid: dev.pid },
        ...daemons
          .filter((d) => d.child.exitCode === null && d.child.pid !== undefined)
          .map((d) => ({ name: d.home, pid: d.child.pid! })),
      ],
      jobsDone: (home, type) =>
        new Set(
          daemons.filter((d) => d.home === home).flatMap((d) => [...jobsDone(d.log(), type)]),
        ),
      events: (home) =>
        daemons.filter((d) => d.home === home).flatMap((d) => logEvents(d.log(), () => true)),
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
