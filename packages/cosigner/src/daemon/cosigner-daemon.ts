/**
 * The co-signer daemon (`cosigner start`, ARCHITECTURE §5): long-polls the platform for work with
 * its access token, runs up to `concurrency` jobs at once and reports each outcome, until
 * stopped. API and cloud co-signers run the same code.
 *
 * Concurrency (raw-signing review H2): the Cloud Co-signers serve every workspace, so one job at
 * a time would make every workspace wait for the slowest session of any other. Each poll leases
 * one job; a poll is made only while a job slot is free, so no job is leased that cannot start.
 * DKLs23 presigning sessions are capped per share set (dkls23-notes.md "Requirements on the
 * caller": at most 8 in flight per share set and peer; in a 3-party share set every session
 * involves both peers, so the cap per share set is the cap per peer).
 *
 * One daemon per store (review L1): the daemon holds an exclusive lock on the store directory
 * for its whole life, so the presign cap and the ban table of this process are the only ones
 * for the store's share sets; a second `cosigner start` on the same home is refused.
 *
 * Stopping (SIGTERM) ends the polls and abandons running jobs at their next message wait without
 * reporting them: their leases expire and the platform re-offers them, so nothing accepted is
 * lost and nothing is reported twice. The daemon returns once every job has let go.
 * @module
 */
import { join } from 'node:path';
import type { LeasedJob } from '@countersign/protocol';
import { CosignerError, isCosignerError } from '../errors.js';
import { loadStoredIdentity } from '../identity/stored-identity.js';
import { DAEMON_LOCK_FILE } from './daemon-lock.js';
import { tryFileLock } from '../platform/file-lock.js';
import { PlatformCredentials } from '../platform/platform-credentials.js';
import { pinnedPlatformKey } from '../platform/platform-key.js';
import {
  META_POOL_DISCARDED_AT,
  META_POOL_DISCARD_REPORTED,
  type CosignerStore,
} from '../store/cosigner-store.js';
import { runDestroyJob } from './destroy-job.js';
import type { JobContext } from './job-context.js';
import { runKeygenJob } from './keygen-job.js';
import { runPresignJob } from './presign-job.js';
import { runReshareJob } from './reshare-job.js';
import { assertSandboxJob } from './sandbox-job.js';
import { SignRefusedByCallback } from './sign-callback.js';
import { runSignJob } from './sign-job.js';
import { runJobLoop } from './job-loop.js';
import { KeyedSlots } from './slots.js';

/** Long-poll length for work, seconds. */
const WORK_WAIT_SECONDS = 25;
/** Pause after a failed poll (platform down), milliseconds. */
const RETRY_DELAY_MS = 2_000;
/** How long a stopping daemon waits for the platform to take its offline announcement. */
const OFFLINE_TIMEOUT_MS = 3_000;
/**
 * Polls open at once while slots are free. Two keep a burst of jobs leasing without a gap (one
 * poll answers while the next is already asked); more would only multiply idle long polls, each
 * of which the platform re-checks every second.
 */
const POLLS_IN_FLIGHT = 2;
/** DKLs23 presigning sessions in flight per share set (mpc dkls23-notes.md, review F1). */
export const PRESIGNS_PER_SHARE_SET = 8;

/**
 * Jobs run at once unless `--concurrency` says otherwise. An API co-signer serves its own
 * workspace; a Cloud Co-signer serves every workspace and mostly waits on the other parties'
 * messages, so it runs more.
 */
export const DEFAULT_CONCURRENCY = { api: 8, cloud: 32 } as const;
/** The most `--concurrency` accepts. */
export const MAX_CONCURRENCY = 256;

export interface DaemonLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface DaemonOptions {
  readonly store: CosignerStore;
  readonly signal: AbortSignal;
  readonly log: DaemonLog;
  /** `api` (default) asks Callback Handlers before signing; `cloud` has none. */
  readonly mode?: 'api' | 'cloud';
  /** Jobs run at once, 1..MAX_CONCURRENCY; DEFAULT_CONCURRENCY[mode] when absent. */
  readonly concurrency?: number;
  /** Run as the communal test co-signer of sandbox workspaces (API mode only; sandbox-job.ts). */
  readonly sandbox?: boolean;
  /** See JobContext: deal later signers' reshares without a Callback Handler (default false). */
  readonly approvePairingsWithoutHandler?: boolean;
  /**
   * Tell the platform on a clean stop (`POST /cosigner/v1/offline`; default true). `countersign
   * dev` runs its co-signers beside the platform in one process, which stops with them.
   */
  readonly announceStop?: boolean;
}

/** Runs until `signal` aborts; throws at once if another daemon holds the store. */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const { store, mode = 'api' } = options;
  if (options.sandbox === true && mode !== 'api')
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'the communal test co-signer is an API co-signer, not a Cloud Co-signer',
    });
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY[mode];
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `concurrency must be an integer from 1 to ${MAX_CONCURRENCY}`,
    });
  const lock = tryFileLock(join(store.dir, DAEMON_LOCK_FILE));
  if (lock === undefined) throw new CosignerError('ERR_COSIGNER_STORE_IN_USE');
  try {
    await runLocked(options, mode, concurrency);
  } finally {
    lock.release();
  }
}

async function runLocked(
  {
    store,
    signal,
    log,
    sandbox = false,
    approvePairingsWithoutHandler = false,
    announceStop = true,
  }: DaemonOptions,
  mode: 'api' | 'cloud',
  concurrency: number,
): Promise<void> {
  // Aborted by the caller's signal, or by the loop when the platform refuses the credentials.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) stop.abort();
  const credentials = new PlatformCredentials(store);
  const identity = loadStoredIdentity(store);
  const ctx: JobContext = {
    client: credentials.client,
    accessToken: () => credentials.accessToken(),
    store,
    identity,
    platformKey: pinnedPlatformKey(store),
    signal: stop.signal,
    mode,
    sandbox,
    // The communal test co-signer is the operator's own, in test-only workspaces: there is no
    // customer whose guard a platform could bypass, so it deals later signers' reshares as if
    // opted in (reshare review H1 concerns customers' co-signers).
    approvePairingsWithoutHandler: approvePairingsWithoutHandler || sandbox,
    presignSlots: new KeyedSlots(PRESIGNS_PER_SHARE_SET),
  };

  log.info('polling for work', {
    platform: credentials.client.baseUrl,
    cosignerId: credentials.cosignerId,
    concurrency,
    ...(mode === 'api' && { approvePairingsWithoutHandler: ctx.approvePairingsWithoutHandler }),
  });
  try {
    await releasePredecessorLeases(ctx, log);
    await reportLostPool(ctx, log);
    await runJobLoop<LeasedJob>({
      concurrency,
      pollsInFlight: POLLS_IN_FLIGHT,
      stop,
      poll: async (pollSignal) =>
        ctx.client.work(await ctx.accessToken(), WORK_WAIT_SECONDS, pollSignal, mode === 'cloud'),
      run: (job) => runJob(ctx, job, log),
      pollFailed: async (error) => {
        // Credentials the platform refuses (unknown, expired, reused, revoked) never come back:
        // stop for the operator to pair again rather than hammer the platform (docs/pairing.md).
        if (isCredentialRefusal(error)) throw error;
        log.warn('work poll failed', { error: describe(error) });
        await delay(RETRY_DELAY_MS, stop.signal);
      },
    });
    if (announceStop) await announceOffline(ctx, log);
  } finally {
    signal.removeEventListener('abort', onAbort);
    identity.dispose();
  }
  log.info('stopped');
}

/**
 * This daemon holds the store exclusively, so any job still leased to this co-signer was leased
 * by a predecessor that died or was stopped mid-job: hand those back now rather than leave them
 * until their leases expire (60 s). Best effort — the platform may be down; expiry still applies.
 */
async function releasePredecessorLeases(ctx: JobContext, log: DaemonLog): Promise<void> {
  try {
    const released = await ctx.client.releaseLeases(await ctx.accessToken());
    if (released > 0) log.info("handed back a previous run's leases", { released });
  } catch (error) {
    if (isCredentialRefusal(error)) throw error;
    log.warn('could not hand back earlier leases; they will expire', { error: describe(error) });
  }
}

/**
 * What a job's result says that may be logged: named fields only (the derived public key, a
 * pooled entry's id, the destroyed share set's id), never whatever else a result carries — a
 * pooled EdDSA signing's result is its signature share (pooled EdDSA review M1).
 */
function publicPartOf(outcome: object): Record<string, unknown> {
  const allowed = ['publicKey', 'presignatureId', 'destroyedShareSetId'] as const;
  const shown: Record<string, unknown> = {};
  for (const key of allowed)
    if (key in outcome) shown[key] = (outcome as Record<string, unknown>)[key];
  return shown;
}

/**
 * A restored store has no pool (restore-store.ts discards it) while the platform may still hold
 * entries made with it READY: each would fail the signing that names it — an EdDSA one after the
 * other parties may have released their shares (docs/decisions/0006). Told once, before the
 * first poll for work; the store remembers it was told.
 */
async function reportLostPool(ctx: JobContext, log: DaemonLog): Promise<void> {
  const lost = ctx.store.getMeta(META_POOL_DISCARDED_AT);
  if (lost === undefined || ctx.store.getMeta(META_POOL_DISCARD_REPORTED) === lost) return;
  // No work before the platform knows (review M3): retried until it answers or we stop.
  for (let wait = 1_000; !ctx.signal.aborted; wait = Math.min(wait * 2, 30_000)) {
    try {
      const discarded = await ctx.client.discardPool(await ctx.accessToken());
      ctx.store.setMeta(META_POOL_DISCARD_REPORTED, lost);
      log.info('told the platform this store holds no pool (restored)', { discarded });
      return;
    } catch (error) {
      if (isCredentialRefusal(error)) throw error;
      log.warn('could not tell the platform the pool is gone; trying again before any work', {
        error: describe(error),
        retryInMs: wait,
      });
      await delay(wait, ctx.signal);
    }
  }
}

/**
 * A clean stop, every job ended: the platform routes new signing to the workspace's other
 * signers at once instead of after this co-signer's last poll ages out of its availability
 * window (60 s). Best effort — the platform may be down, and the window still applies.
 */
async function announceOffline(ctx: JobContext, log: DaemonLog): Promise<void> {
  try {
    // Short: a stop must not hang on a slow platform (a supervisor's grace period is brief).
    await ctx.client.offline(await ctx.accessToken(), AbortSignal.timeout(OFFLINE_TIMEOUT_MS));
  } catch (error) {
    log.warn('could not tell the platform this co-signer stops', { error: describe(error) });
  }
}

async function runJob(ctx: JobContext, job: LeasedJob, log: DaemonLog): Promise<void> {
  const fields = {
    jobId: job.jobId,
    type: job.type,
    algorithm: job.algorithm,
    attempt: job.attempt,
    // Leased early, computed only once released (docs/mpc-relay.md "PRESIGN", EdDSA).
    ...(job.held === true && { held: true }),
  };
  log.info('job leased', fields);
  try {
    if (ctx.sandbox === true) await assertSandboxJob(ctx, job);
    const outcome =
      job.type === 'SIGN'
        ? await runSignJob(ctx, job)
        : job.type === 'RESHARE'
          ? await runReshareJob(ctx, job)
          : job.type === 'DESTROY'
            ? await runDestroyJob(ctx, job)
            : job.type === 'PRESIGN'
              ? await runPresignJob(ctx, job)
              : await runKeygenJob(ctx, job);
    await ctx.client.reportResult(await ctx.accessToken(), job.jobId, {
      leaseId: job.leaseId,
      status: 'DONE',
      result: outcome,
    });
    log.info('job done', { ...fields, ...publicPartOf(outcome) });
  } catch (error) {
    if (ctx.signal.aborted) {
      log.info('job abandoned at shutdown; its lease will expire', fields);
      return;
    }
    const reason =
      error instanceof SignRefusedByCallback
        ? (error.detail === '' ? error.subStatus : error.detail).slice(0, 500)
        : describe(error);
    // The refusal's sub-status tells the operator why (e.g. PAIRING_NOT_GUARDED: configure a
    // Callback Handler, or opt in), beside the handler's reason.
    const subStatus = error instanceof SignRefusedByCallback ? { subStatus: error.subStatus } : {};
    log.warn('job failed', { ...fields, reason, ...subStatus });
    try {
      await ctx.client.reportResult(await ctx.accessToken(), job.jobId, {
        leaseId: job.leaseId,
        status: 'FAILED',
        reason,
        // The Callback Handler's decision, or a released share: the platform ends the
        // transaction with it instead of retrying.
        ...(error instanceof SignRefusedByCallback ? { subStatus: error.subStatus } : {}),
        ...(isCosignerError(error, 'ERR_COSIGNER_SHARE_RELEASED')
          ? { subStatus: 'SIGNATURE_MAY_EXIST' }
          : {}),
        // A pooled presignature this store does not hold (restored, trimmed): the platform
        // drops the rest of that pool instead of naming them one failed session at a time.
        ...(job.type === 'SIGN' && isCosignerError(error, 'ERR_COSIGNER_NO_PRESIGNATURE')
          ? { subStatus: 'PRESIGNATURE_MISSING' }
          : {}),
      });
    } catch (reportError) {
      log.warn('could not report the failure; the lease will expire', {
        error: describe(reportError),
      });
    }
  }
}

/** Platform codes 1304–1309: refresh or access token refused. */
function isCredentialRefusal(error: unknown): boolean {
  return (
    isCosignerError(error, 'ERR_COSIGNER_PLATFORM_REFUSED') &&
    error.platformCode !== undefined &&
    error.platformCode >= 1304 &&
    error.platformCode <= 1309
  );
}

/** Error codes only: messages of our errors carry no secret, but codes are enough to act on. */
function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const text = typeof e.code === 'string' ? e.code : 'error';
  const detail = typeof e.message === 'string' ? `: ${e.message}` : '';
  return (text + detail).slice(0, 500);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
