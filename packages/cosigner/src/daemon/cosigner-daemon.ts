/**
 * The co-signer daemon (`cosigner start`, ARCHITECTURE §5): long-polls the platform for work with
 * its access token, runs each job and reports the outcome, until stopped. API and cloud
 * co-signers run the same code. Stopping (SIGTERM) ends the long poll and abandons a running job
 * at its next message wait without reporting it: its lease expires and the platform re-offers it,
 * so nothing accepted is lost and nothing is reported twice.
 * @module
 */
import type { LeasedJob } from '@countersign/protocol';
import { isCosignerError } from '../errors.js';
import { loadStoredIdentity } from '../identity/stored-identity.js';
import { PlatformCredentials } from '../platform/platform-credentials.js';
import { pinnedPlatformKey } from '../platform/platform-key.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import type { JobContext } from './job-context.js';
import { runKeygenJob } from './keygen-job.js';
import { SignRefusedByCallback } from './sign-callback.js';
import { runSignJob } from './sign-job.js';

/** Long-poll length for work, seconds. */
const WORK_WAIT_SECONDS = 25;
/** Pause after a failed poll (platform down), milliseconds. */
const RETRY_DELAY_MS = 2_000;

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
}

/** Runs until `signal` aborts. */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const { store, signal, log, mode = 'api' } = options;
  const credentials = new PlatformCredentials(store);
  const identity = loadStoredIdentity(store);
  const ctx: JobContext = {
    client: credentials.client,
    accessToken: () => credentials.accessToken(),
    store,
    identity,
    platformKey: pinnedPlatformKey(store),
    signal,
    mode,
  };
  log.info('polling for work', {
    platform: credentials.client.baseUrl,
    cosignerId: credentials.cosignerId,
  });
  try {
    while (!signal.aborted) {
      let job: LeasedJob | undefined;
      try {
        job = await ctx.client.work(await ctx.accessToken(), WORK_WAIT_SECONDS, signal);
      } catch (error) {
        if (signal.aborted) break;
        // Credentials the platform refuses (unknown, expired, reused, revoked) never come back:
        // stop for the operator to pair again rather than hammer the platform (docs/pairing.md).
        if (isCredentialRefusal(error)) throw error;
        log.warn('work poll failed', { error: describe(error) });
        await delay(RETRY_DELAY_MS, signal);
        continue;
      }
      if (job !== undefined) await runJob(ctx, job, log);
    }
  } finally {
    identity.dispose();
  }
  log.info('stopped');
}

async function runJob(ctx: JobContext, job: LeasedJob, log: DaemonLog): Promise<void> {
  const fields = {
    jobId: job.jobId,
    type: job.type,
    algorithm: job.algorithm,
    attempt: job.attempt,
  };
  log.info('job leased', fields);
  try {
    const outcome = job.type === 'SIGN' ? await runSignJob(ctx, job) : await runKeygenJob(ctx, job);
    await ctx.client.reportResult(await ctx.accessToken(), job.jobId, {
      leaseId: job.leaseId,
      status: 'DONE',
      result: outcome,
    });
    // Public values only: the (derived) public key, never a share.
    log.info('job done', { ...fields, publicKey: outcome.publicKey });
  } catch (error) {
    if (ctx.signal.aborted) {
      log.info('job abandoned at shutdown; its lease will expire', fields);
      return;
    }
    const reason =
      error instanceof SignRefusedByCallback
        ? (error.detail === '' ? error.subStatus : error.detail).slice(0, 500)
        : describe(error);
    log.warn('job failed', { ...fields, reason });
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
