// End-to-end RAW signing latency (issue #5): every party a separate process on loopback — the
// platform (`countersign dev`, PGlite), two Cloud Co-signers and the API co-signer (`cosigner
// start`), built from dist/ — with transactions created and read through the REST API, as a
// client sees them: from the POST to the first GET that answers COMPLETED (and, sequentially,
// to the time the platform recorded COMPLETED, which the status poll's interval does not add
// to). ECDSA (DKLs23) and
// EdDSA (FROST), sequential and with IN_FLIGHT at once. Sequential signings each start once the
// platform's pool is done refilling (an otherwise idle system), so they spend pooled entries
// (ECDSA presignatures, EdDSA nonce sets); the concurrent run drains the pool and signs inline
// as well.
// The report counts how many signings were pooled (the platform's /metrics), and for the
// sequential runs the CPU time each process spent per signing, from the POST to COMPLETED (Linux
// /proc; the client is this process), the platform's requests by route (how many, and the
// mean time to answer one, from the platform's /metrics) and its database statements (how many,
// and the mean time of one, from the same /metrics): on the 2-core machines every process
// shares the same two cores, so a party's latency includes waiting for the others' work.
// Baseline, measured in the same run: the same protocols with the three parties in this one
// process and no relay, so the difference is the relay, the processes and the REST API.
// The client is not a party: in a deployment it runs on its own machine, but here it shares the
// two cores with the four processes measured, and each of its requests costs an RSA-4096
// signature (about 4.5 ms of CPU), taken from the parties at every status poll. Once the stack
// runs, this process therefore lowers its own CPU priority (nice E2E_RAW_CLIENT_NICE, 19 by
// default; 0 measures with the client competing as an equal): the parties get the cores first,
// while the client's own steps (signing the POST and each GET) still count in the latency.
// Prints one JSON document.
//
// A paced run signs one at a time too, each PACE_MS after the previous one completed, without
// waiting for the pool: as a client signing now and then sees it, with the pool's top-up after
// each signing (an ECDSA presignature takes longer than the pace) running beside the next.
//
// Run: npm run build && npm run bench -- e2e-raw
// Longer runs: E2E_RAW_SEQUENTIAL (per algorithm, default 8), E2E_RAW_PACED (per algorithm,
// default 8), E2E_RAW_PACE_MS (default 300), E2E_RAW_CONCURRENT (per algorithm, default 16),
// E2E_RAW_IN_FLIGHT (default 16), E2E_RAW_POLL_MS (REST status poll interval, default 5).
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, loadavg, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  combineSignatureShares,
  createSignatureShare,
  dkg,
  dkls23Dkg,
  InMemoryPresignatureStore,
  NonDurablePresignSessionRegistry,
  publicShareSet,
  sign,
} from '@countersign/mpc';
import {
  devClient,
  presignaturePool,
  startSigningStack,
} from '../packages/cli/testing/signing-stack.js';
import { presignAll, run, sid } from './mpc-harness.js';

const SEQUENTIAL = integerEnv('E2E_RAW_SEQUENTIAL', 8);
const PACED = integerEnv('E2E_RAW_PACED', 8);
const PACE_MS = integerEnv('E2E_RAW_PACE_MS', 300, 0);
const CONCURRENT = integerEnv('E2E_RAW_CONCURRENT', 16);
const IN_FLIGHT = integerEnv('E2E_RAW_IN_FLIGHT', 16);
const POLL_MS = integerEnv('E2E_RAW_POLL_MS', 5);
/** A nice value for this process (0 = as the parties, 19 = lowest CPU priority). */
const CLIENT_NICE = integerEnv('E2E_RAW_CLIENT_NICE', 19, 0, 19);
/** Issue #5 targets for the p50 of a sequential RAW transaction, milliseconds. */
const TARGET_P50_MS = { ecdsa: 150, eddsa: 50 } as const;

type Algorithm = keyof typeof TARGET_P50_MS;
const KEY_ALGORITHM = { ecdsa: 'ECDSA_SECP256K1', eddsa: 'EDDSA_ED25519' } as const;

/** An integer from the environment, `fallback` when unset, refused outside min..max. */
function integerEnv(
  name: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new Error(`${name} must be an integer ${range}`);
  }
  return n;
}

const round = (x: number): number => Number(x.toFixed(1));

/** Nearest-rank percentiles of `samples` (milliseconds). */
function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number =>
    round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    n: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: at(100),
    mean: round(mean),
  };
}

/**
 * CPU time of process `pid` so far, ms: the sum over its threads (the main thread, libuv's pool,
 * V8's helpers) of /proc's nanosecond run time. Undefined where /proc does not say.
 */
function cpuMsOf(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return undefined;
  }
}

/** Per-process CPU time accumulated over measured intervals (the client is this process). */
class CpuAccount {
  private readonly totals = new Map<string, number>();
  private intervals = 0;

  /** Starts an interval over `processes`; the returned function ends it. */
  begin(processes: { name: string; pid: number }[]): () => void {
    const client = process.cpuUsage();
    const before = processes.map((p) => ({ ...p, ms: cpuMsOf(p.pid) }));
    return () => {
      const spent = process.cpuUsage(client);
      this.add('client', (spent.user + spent.system) / 1000);
      for (const p of before) {
        const after = cpuMsOf(p.pid);
        if (p.ms !== undefined && after !== undefined) this.add(p.name, after - p.ms);
      }
      this.intervals += 1;
    };
  }

  /** Mean CPU ms per interval, by process. */
  perInterval(): Record<string, number> {
    return Object.fromEntries(
      [...this.totals].map(([name, ms]) => [name, round(ms / Math.max(1, this.intervals))]),
    );
  }

  private add(name: string, ms: number): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + ms);
  }
}

/** Request time and count so far, by `METHOD route`. */
type RequestTotals = Map<string, { ms: number; count: number }>;

/**
 * Long polls: their time is mostly waiting for work or a message (and a poll that ends in an
 * interval may have begun before it), so only their count is reported.
 */
const LONG_POLLS = new Set([
  'GET /cosigner/v1/work',
  'GET /cosigner/v1/jobs/:jobId/release',
  'GET /cosigner/v1/sessions/:sessionId/messages',
]);

/**
 * The platform's own request-duration histogram (its /metrics, as Prometheus reads it), summed
 * over statuses by `METHOD route`: what each kind of request cost the platform, from its arrival
 * to its answer.
 */
async function platformRequests(platformUrl: string): Promise<RequestTotals> {
  const text = await (await fetch(`${platformUrl}/metrics`)).text();
  const totals: RequestTotals = new Map();
  for (const [, kind, labels, value] of text.matchAll(
    /^countersign_http_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm,
  )) {
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(labels!)?.[1];
    const key = `${label('method')} ${label('route')}`;
    const entry = totals.get(key) ?? { ms: 0, count: 0 };
    if (kind === 'sum') entry.ms += Number(value) * 1000;
    else entry.count += Number(value);
    totals.set(key, entry);
  }
  // The database statements it ran (not BEGIN/COMMIT), as one more kind.
  const counter = (name: string) =>
    Number(new RegExp(`^countersign_db_${name}_total (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  totals.set(STATEMENTS, {
    ms: counter('statement_seconds') * 1000,
    count: counter('statements'),
  });
  return totals;
}

/** The key of the platform's database statements among the request kinds. */
const STATEMENTS = 'database statements';

/**
 * The platform's requests over measured intervals: how many of each kind a signing makes, and
 * the mean time the platform took to answer one (but long polls'). Its /metrics is read outside
 * the timed part of each signing.
 */
class RequestAccount {
  private readonly totals: RequestTotals = new Map();
  private intervals = 0;

  constructor(private readonly platformUrl: string) {}

  /** Starts an interval; the returned function ends it. */
  async begin(): Promise<() => Promise<void>> {
    const before = await platformRequests(this.platformUrl);
    return async () => {
      for (const [key, after] of await platformRequests(this.platformUrl)) {
        const was = before.get(key) ?? { ms: 0, count: 0 };
        // The read of /metrics that began the interval is counted once answered: not a signing's.
        if (after.count === was.count || key === 'GET /metrics') continue;
        const entry = this.totals.get(key) ?? { ms: 0, count: 0 };
        entry.ms += after.ms - was.ms;
        // Of the statements, one is a read of /metrics' own (its pool gauge's), not a signing's.
        entry.count += after.count - was.count - (key === STATEMENTS ? 1 : 0);
        this.totals.set(key, entry);
      }
      this.intervals += 1;
    };
  }

  /** The database statements per interval, and the mean ms of one. */
  statementsPerInterval(): { perSigning: number; meanMs: number } {
    const { ms, count } = this.totals.get(STATEMENTS) ?? { ms: 0, count: 0 };
    return {
      perSigning: round(count / Math.max(1, this.intervals)),
      meanMs: Number((ms / Math.max(1, count)).toFixed(3)),
    };
  }

  /** By request kind, most time first: per interval, and the mean ms of one (not long polls'). */
  perInterval(): Record<string, { perSigning: number; meanMs?: number }> {
    const weight = ([key, { ms }]: [string, { ms: number }]) => (LONG_POLLS.has(key) ? -1 : ms);
    return Object.fromEntries(
      [...this.totals]
        .filter(([key]) => key !== STATEMENTS)
        .sort((a, b) => weight(b) - weight(a))
        .map(([key, { ms, count }]) => [
          key,
          {
            perSigning: round(count / Math.max(1, this.intervals)),
            ...(LONG_POLLS.has(key) ? {} : { meanMs: round(ms / count) }),
          },
        ]),
    );
  }
}

// ---- baseline: the three parties in this process, no relay -------------------------------

const parties = [1, 2, 3];
const digest = new Uint8Array(32).fill(0x42);

async function baselineEcdsa(iterations: number): Promise<number[]> {
  const id = sid();
  const shares = run(
    new Map(parties.map((me) => [me, dkls23Dkg({ sid: id, parties, me, threshold: 3 })])),
  ).results;
  const shareSet = publicShareSet(shares.get(1)!);
  const registries = new Map(parties.map((me) => [me, new NonDurablePresignSessionRegistry()]));
  const spent = new Map(parties.map((me) => [me, new InMemoryPresignatureStore()]));
  const once = async (): Promise<void> => {
    const presignatures = (await presignAll(shares, registries)).results;
    const outs = [];
    for (const me of parties)
      outs.push(
        await createSignatureShare({
          presignature: presignatures.get(me)!,
          shareSet,
          messageHash: digest,
          path: 'm/44/60/0/0/0',
          store: spent.get(me)!,
        }),
      );
    combineSignatureShares(
      outs[0]!.context,
      outs.map((o) => o.share),
    );
  };
  return timeEach(iterations, once);
}

async function baselineEddsa(iterations: number): Promise<number[]> {
  const id = sid();
  const shares = run(
    new Map(
      parties.map((me) => [me, dkg({ curve: 'ed25519', sid: id, parties, me, threshold: 3 })]),
    ),
  ).results;
  return timeEach(iterations, () => {
    const signing = sid();
    run(
      new Map(
        parties.map((me) => [
          me,
          sign({
            sid: signing,
            keyShare: shares.get(me)!,
            signers: parties,
            message: digest,
            path: 'm/44/0/0/0/0',
          }),
        ]),
      ),
    );
  });
}

/** Wall time of each call, after one warm-up call. */
async function timeEach(iterations: number, f: () => unknown): Promise<number[]> {
  await f();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  return times;
}

// ---- end to end: every party a process ----------------------------------------------------

const loadBefore = loadavg();
const baseline = {
  ecdsa: summary(await baselineEcdsa(SEQUENTIAL)),
  eddsa: summary(await baselineEddsa(SEQUENTIAL)),
};

const startedAt = performance.now();
const stack = await startSigningStack('countersign-bench-', { concurrency: IN_FLIGHT });
const stackStartMs = round(performance.now() - startedAt);
let report: unknown;
try {
  const client = devClient(stack);
  let counter = 0;
  /**
   * One RAW transaction: ms from the POST to the first GET that answers COMPLETED, and to the
   * time the platform recorded it COMPLETED (its `lastUpdated`; the same machine's clock, ms).
   * Its CPU time goes to `cpu`, its platform requests to `requests`, if given (sequential
   * signings only: concurrent ones overlap).
   */
  const signOnce = async (
    algorithm: Algorithm,
    cpu?: CpuAccount,
    requests?: RequestAccount,
  ): Promise<{ ms: number; recordedMs: number }> => {
    const n = ++counter;
    const content = Buffer.alloc(32, 0)
      .fill(n % 256, 0, 4)
      .toString('hex');
    const endRequests = await requests?.begin();
    const end = cpu?.begin(stack.processes());
    const start = performance.now();
    const wallStart = Date.now();
    const created = await client.createTransaction({
      operation: 'RAW',
      ...(algorithm === 'ecdsa' ? { assetId: 'ETH' } : {}),
      source: { type: 'VAULT_ACCOUNT', id: '0' },
      externalTxId: `bench-${process.pid}-${n}`,
      extraParameters: {
        rawMessageData: {
          ...(algorithm === 'eddsa' ? { algorithm: 'MPC_EDDSA_ED25519' } : {}),
          messages: [{ content, bip44addressIndex: n }],
        },
      },
    });
    for (;;) {
      const tx = await client.getTransaction(created.id);
      if (tx.status === 'COMPLETED') {
        const ms = performance.now() - start;
        end?.();
        await endRequests?.();
        return { ms, recordedMs: Number(tx.lastUpdated) - wallStart };
      }
      if (tx.status === 'FAILED' || tx.status === 'REJECTED')
        throw new Error(`transaction ${created.id} ended ${tx.status}:\n${stack.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  /** The pool of both algorithms, or of `algorithm`'s entries. */
  const pool = (algorithm?: 'ECDSA_SECP256K1' | 'EDDSA_ED25519') =>
    presignaturePool(stack, algorithm);
  /** Waits until no presignature is being made (the pool is full, or cannot fill). */
  const poolSettled = async (): Promise<void> => {
    const deadline = Date.now() + 120_000;
    while (((await pool())['MAKING'] ?? 0) > 0) {
      if (Date.now() > deadline) throw new Error(`the presignature pool never settled`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const sequential = async (algorithm: Algorithm) => {
    await signOnce(algorithm); // warm-up: first use of the share set in each process
    const times: number[] = [];
    const recorded: number[] = [];
    const cpu = new CpuAccount();
    const requests = new RequestAccount(stack.platformUrl);
    for (let i = 0; i < SEQUENTIAL; i++) {
      // An idle system: no presigning left from the signings before (EdDSA runs after the
      // concurrent ECDSA run drained the pool).
      await poolSettled();
      const { ms, recordedMs } = await signOnce(algorithm, cpu, requests);
      times.push(ms);
      recorded.push(recordedMs);
    }
    return {
      ...summary(times),
      recordedCompleted: summary(recorded),
      cpuMsPerSigning: cpu.perInterval(),
      platformRequestsPerSigning: requests.perInterval(),
      platformStatementsPerSigning: requests.statementsPerInterval(),
    };
  };
  /** One at a time, PACE_MS apart, the pool's top-up left running (see the header). */
  const paced = async (algorithm: Algorithm) => {
    const times: number[] = [];
    for (let i = 0; i < PACED; i++) {
      await new Promise((resolve) => setTimeout(resolve, PACE_MS));
      times.push((await signOnce(algorithm)).ms);
    }
    return summary(times);
  };
  const concurrent = async (algorithm: Algorithm) => {
    const times: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < CONCURRENT) {
          next += 1;
          times.push((await signOnce(algorithm)).ms);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return { ...summary(times), signaturesPerSecond: round(times.length / seconds) };
  };
  // The same sequential run with the client at the parties' priority first (the method before
  // E2E_RAW_CLIENT_NICE; a priority once lowered cannot be raised again without privileges).
  const atNice0: Partial<Record<Algorithm, Awaited<ReturnType<typeof sequential>>>> = {};
  if (CLIENT_NICE > 0)
    for (const algorithm of ['ecdsa', 'eddsa'] as const)
      atNice0[algorithm] = await sequential(algorithm);
  // After the parties started (they keep the priority they were started with): see the header.
  setPriority(CLIENT_NICE);
  const clientNice = getPriority();
  const results: Record<Algorithm, unknown> = { ecdsa: undefined, eddsa: undefined };
  for (const algorithm of ['ecdsa', 'eddsa'] as const) {
    const taken0 = (await pool(KEY_ALGORITHM[algorithm]))['TAKEN'] ?? 0;
    const seq = await sequential(algorithm);
    const taken1 = (await pool(KEY_ALGORITHM[algorithm]))['TAKEN'] ?? 0;
    const pacedRun = await paced(algorithm);
    await poolSettled();
    const taken2 = (await pool(KEY_ALGORITHM[algorithm]))['TAKEN'] ?? 0;
    const conc = await concurrent(algorithm);
    const taken3 = (await pool(KEY_ALGORITHM[algorithm]))['TAKEN'] ?? 0;
    results[algorithm] = {
      targetP50Ms: TARGET_P50_MS[algorithm],
      meetsTarget: seq.p50 <= TARGET_P50_MS[algorithm],
      ...(atNice0[algorithm] === undefined
        ? {}
        : {
            clientAtNice0: {
              meetsTarget: atNice0[algorithm].p50 <= TARGET_P50_MS[algorithm],
              p50: atNice0[algorithm].p50,
              p95: atNice0[algorithm].p95,
              recordedCompletedP50: atNice0[algorithm].recordedCompleted.p50,
              clientCpuMsPerSigning: atNice0[algorithm].cpuMsPerSigning['client'],
            },
          }),
      sequential: {
        ...seq,
        signaturesPerSecond: round(1000 / seq.mean),
        pooled: taken1 - taken0,
      },
      [`paced${PACE_MS}ms`]: { ...pacedRun, pooled: taken2 - taken1 },
      [`inFlight${IN_FLIGHT}`]: {
        ...conc,
        pooled: taken3 - taken2,
      },
      baselineInProcess: baseline[algorithm],
      overheadP50Ms: round(seq.p50 - baseline[algorithm].p50),
    };
  }
  report = {
    bench: 'e2e-raw',
    node: process.version,
    note:
      'latency = POST /v1/transactions to the first GET answering COMPLETED (REST status polled ' +
      `every ${POLL_MS} ms), measured by a client that is not part of the system: on the 2-core ` +
      `machine it runs at nice ${clientNice} once the parties run (parameters.clientNice, ` +
      'E2E_RAW_CLIENT_NICE), so that its polls (an RSA-4096 signature each, about 4.5 ms of CPU) ' +
      'do not compete with the four processes measured, as on its own machine in a deployment; ' +
      'its POST and every poll still count in the latency; clientAtNice0 = the same sequential ' +
      "run, earlier in this run, with the client at the parties' priority (the method before " +
      'this setting); every party a process on loopback, platform on PGlite; baseline = ' +
      'the same protocol with the three parties in this process, no relay (ECDSA: presign + ' +
      'online round + combine; EdDSA: FROST sign); sequential signings start with the ' +
      'pool settled; paced = one at a time, each the given ms after the previous completed, ' +
      "the pool's top-up left running; pooled = signings (incl. the warm-up) that spent a " +
      'pooled entry (ECDSA: a ' +
      'presignature, EdDSA: a FROST nonce set); cpuMsPerSigning = CPU time of each process (client = this one, signing ' +
      'its requests with the RSA-4096 key of `countersign dev`, at the CPU priority of ' +
      '`clientNice`, so that its polling does not take the cores from the parties) from the ' +
      'POST to COMPLETED, ' +
      'mean over the sequential signings; platformRequestsPerSigning = the requests the ' +
      'platform answered in that time, by route (its /metrics request-duration histogram): ' +
      'how many per signing and the mean ms from arrival to answer (long polls: count only); ' +
      'platformStatementsPerSigning = the database statements it ran in that time (its ' +
      '/metrics countersign_db_statements_total, less the one each read of /metrics runs) and ' +
      'the mean ms of one; ' +
      'recordedCompleted = POST to the time the platform recorded the transaction COMPLETED ' +
      '(its lastUpdated, ms clock), which no status poll delays',
    parameters: {
      sequentialPerAlgorithm: SEQUENTIAL,
      concurrentPerAlgorithm: CONCURRENT,
      pacedPerAlgorithm: PACED,
      paceMs: PACE_MS,
      inFlight: IN_FLIGHT,
      cosignerConcurrency: IN_FLIGHT,
      pollMs: POLL_MS,
      clientNice,
    },
    loadAverage1m: {
      before: Number(loadBefore[0]?.toFixed(2)),
      after: Number(loadavg()[0]?.toFixed(2)),
    },
    stackStartMs,
    ...results,
  };
} finally {
  await stack.stop();
  stack.remove();
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
