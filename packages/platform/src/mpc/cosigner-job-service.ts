/**
 * Jobs leased to co-signers (ARCHITECTURE §5, §8). A job is offered by long poll and leased to
 * the asking co-signer under a fresh lease id until an expiry; a party working on the job's
 * session renews the lease with each relay call. A lease that expires (co-signer died) makes the
 * job available again, up to MAX_ATTEMPTS. Only the current lease id reports the result, so a
 * co-signer that lost its lease cannot overwrite the outcome, and no job finishes twice:
 * every state change is one conditional UPDATE in a transaction.
 */
import { randomUUID } from 'node:crypto';
import type { JobResultRequest, JobType, LeasedJob } from '@countersign/protocol';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { SANDBOX_COSIGNER_TYPE } from '../cosigners/sandbox-pairing.js';
import { effectiveStatus, HELD_UNTIL, publishedSession } from './mpc-session-service.js';
import { leaseNotHeld, resultRefused, sessionClosed } from './relay-errors.js';
import { releaseKey, sessionKey, workKey, type RelayNotifier } from './relay-notifier.js';

export const MAX_ATTEMPTS = 3;

/**
 * A ready call (pooled EdDSA) releases the held parties only while their session has this long
 * left: they lease, compute and report in well under a second on a healthy platform.
 */
export const READY_MARGIN_MS = 30_000;

/** The results the parties of a session reported (JSON values), one per DONE job. */
export async function jobResults(
  trx: Transaction<Database>,
  sessionId: string,
): Promise<unknown[]> {
  const jobs = await trx
    .selectFrom('cosigner_jobs')
    .select('result')
    .where('session_id', '=', sessionId)
    .execute();
  return jobs.map(
    (j) => (typeof j.result === 'string' ? JSON.parse(j.result) : j.result) as unknown,
  );
}

export interface JobCompletion {
  sessionId: string;
  status: 'DONE' | 'FAILED';
}

/**
 * Called in the deciding transaction when a session ends: DONE once every job reported DONE,
 * FAILED or EXPIRED otherwise (KEYGEN records the root key, or retries with a fresh session).
 */
export type SessionEndHandler = (
  trx: Transaction<Database>,
  sessionId: string,
  status: 'DONE' | 'FAILED' | 'EXPIRED',
  failure?: PartyRefusal,
  /** The session's purpose (its jobs' type); undefined if unknown. */
  purpose?: string,
) => Promise<void>;

/** What settling a session and releasing its held jobs read of each of its jobs. */
interface SessionJob {
  id: string;
  type: string;
  status: string;
  available_at: Date;
}

/** A job that ended by its own report (or by running out of leases), for per-job bookkeeping. */
export interface EndedJob {
  jobId: string;
  type: JobType;
  sessionId: string;
  cosignerId: string;
  status: 'DONE' | 'FAILED';
  /** DONE: the reported result (validated by the route's schema). */
  result?: unknown;
  /** FAILED: why. */
  reason?: string;
  /** FAILED by the party's own report: the sub-status it named, if any. */
  subStatus?: string;
}

/** Called in the deciding transaction when one job ends, before its session may end. */
export type JobEndHandler = (trx: Transaction<Database>, job: EndedJob) => Promise<void>;

/**
 * Sessions whose parties do not depend on each other: a DESTROY session runs no MPC, each cloud
 * co-signer destroys its own share. One party's failure fails only its own job; the session
 * ends once no job is open (docs/mpc-relay.md "DESTROY").
 */
const INDEPENDENT_PURPOSES: readonly string[] = ['DESTROY'];

/** The result shape each job type reports (the route's schema admits any of them). */
function resultFits(type: JobType, result: object): boolean {
  if (type === 'SIGN') return 'signature' in result || 'signatureShare' in result;
  if (type === 'DESTROY') return 'destroyedShareSetId' in result;
  if (type === 'PRESIGN') return 'presignatureId' in result;
  return 'publicKey' in result;
}

/**
 * A party's reason not to sign (or deal) that a fresh session would not change: an API
 * co-signer's Callback Handler did not approve, or — RESHARE — no handler guards the pairing
 * (raw-signing review C1, reshare review H1; only taken from a non-cloud co-signer's job), or
 * SIGNATURE_MAY_EXIST from any party (review M1) — the sub-status it names, its reason, and the
 * co-signer that said it.
 */
export interface PartyRefusal {
  subStatus: string;
  detail: string;
  cosignerId: string;
}

/** A lease poll records expired sessions at most this often (per instance), milliseconds. */
const POLL_SWEEP_MS = 1_000;
/** Co-signers whose mode is kept in memory; past this they are forgotten and read again. */
const MAX_SERVING_REMEMBERED = 4096;

/** What a SIGN job's reported signature share becomes once its session has ended. */
export const ERASED_SHARE = { signatureShareErased: true } as const;

/** A party already released a signature share for the message (review M1). */
export const SIGNATURE_MAY_EXIST = 'SIGNATURE_MAY_EXIST';
/** A party does not hold the pooled presignature a SIGN session named. */
export const PRESIGNATURE_MISSING = 'PRESIGNATURE_MISSING';

export class CosignerJobService {
  private onSessionEnd: SessionEndHandler | undefined;
  private onJobEnd: JobEndHandler | undefined;
  /** When a poll last swept expired sessions here (clock ms); see {@link leaseNext}. */
  private lastPollSweep: number | undefined;
  /**
   * What each co-signer may be offered (see {@link servingOf}). A co-signer's mode and type are
   * written when it registers and never change, so they are read once per co-signer.
   */
  private readonly serving = new Map<
    string,
    { sharedByWorkspaces: boolean; sandboxOnly: boolean }
  >();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly notifier: RelayNotifier,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly leaseMs: number,
    /** Leased jobs of one workspace a Cloud Co-signer may hold at once (services.ts). */
    private readonly cloudLeasesPerWorkspace: number,
  ) {}

  /** Registers what happens when a session ends (one handler: the orchestrator). */
  whenSessionEnds(handler: SessionEndHandler): void {
    this.onSessionEnd = handler;
  }

  /** Registers what happens when one job ends by itself (share set destruction's record). */
  whenJobEnds(handler: JobEndHandler): void {
    this.onJobEnd = handler;
  }

  /**
   * Long poll: leases the caller's oldest available job, waiting up to `waitMs` for one. Nothing
   * is leased once `signal` aborts: a co-signer that hung up (stopped, restarted) would hold the
   * job, unseen, until its lease expired.
   */
  async next(
    cosignerId: string,
    waitMs: number,
    signal?: AbortSignal,
    /** Also lease held jobs whose signer leased its own (a Cloud Co-signer's poll). */
    acceptHeld = false,
  ): Promise<LeasedJob | undefined> {
    // A co-signer keeps several polls open. One that comes while another of its polls is asleep
    // here (a daemon replacing the poll that just leased a job) sleeps too: nothing is new to it
    // that a wake-up or the re-check would not bring that one, and its lease query would come
    // just when the signing that job belongs to needs the database.
    const key = workKey(cosignerId);
    const leased = await this.notifier.poll(
      key,
      waitMs,
      () => this.leaseNext(cosignerId, acceptHeld, signal),
      signal,
      this.notifier.waiting(key) > 0,
    );
    // A poll whose asker hung up leases nothing; if a new job's wake-up reached it, the
    // co-signer's next waiting poll gets it instead of waiting for its re-check. One that leased
    // a job while another was due passes the wake-up on: the one it was woken for may be that
    // other job, which comes later in the global order (a signing behind the pool's top-up).
    if ((leased === undefined && signal?.aborted === true) || leased?.more === true)
      this.notifier.notifyOne(key);
    for (const cosigner of leased?.wake ?? []) this.notifier.notifyOne(workKey(cosigner));
    return leased?.job;
  }

  /**
   * Hands back every unexpired lease of the co-signer: offered again at once, attempt + 1. Its
   * daemon calls this as it starts — it holds its store exclusively, so a lease it finds was
   * its dead predecessor's, which nobody works on (docs/mpc-relay.md, Leases).
   */
  async releaseLeases(cosignerId: string): Promise<number> {
    const now = this.clock();
    const released = await this.db
      .updateTable('cosigner_jobs')
      .set({ lease_expires_at: now, updated_at: now })
      .where('cosigner_id', '=', cosignerId)
      .where('status', '=', 'LEASED')
      .where('lease_expires_at', '>', now)
      .executeTakeFirst();
    const count = Number(released.numUpdatedRows);
    if (count > 0) this.notifier.notify(workKey(cosignerId));
    return count;
  }

  /**
   * The caller's oldest available job, leased, and the co-signers to wake once that commits: a
   * signer's lease makes its session's held jobs leasable by those that accept them.
   */
  private async leaseNext(
    cosignerId: string,
    acceptHeld: boolean,
    signal?: AbortSignal,
  ): Promise<{ job: LeasedJob; wake: string[]; more: boolean } | undefined> {
    // The periodic sweep (app.ts) records expired sessions; a poll does too, at most once a
    // POLL_SWEEP_MS, so a party sees its session's end promptly without every poll of a busy
    // platform paying for the query.
    const sweptAt = this.clock().getTime();
    if (
      this.lastPollSweep === undefined ||
      Math.abs(sweptAt - this.lastPollSweep) >= POLL_SWEEP_MS
    ) {
      this.lastPollSweep = sweptAt;
      // A session that cannot be ended fails no poll: the periodic sweep logs it (app.ts).
      await this.expireSessions().catch(() => undefined);
    }
    return this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      const { sharedByWorkspaces, sandboxOnly } = await this.servingOf(trx, cosignerId);
      // Only Cloud Co-signers' jobs are ever held; nobody else is offered one early, and a
      // cloud's own lease wakes no one for a held job.
      const cloud = sharedByWorkspaces && !sandboxOnly;
      const takesHeld = acceptHeld && cloud;
      for (;;) {
        const job = await trx
          .selectFrom('cosigner_jobs as j')
          .innerJoin('mpc_sessions as s', 's.id', 'j.session_id')
          .select([
            'j.id',
            'j.type',
            'j.attempts',
            's.id as session_id',
            's.workspace_id',
            's.api_user_id',
            's.algorithm',
            's.share_set_id',
            's.threshold',
            's.status as session_status',
            's.signed_roster',
            's.signed_authorization',
            's.expires_at',
            'j.available_at',
            // Another job of this co-signer due now (not locked, only looked at): whether another
            // poll should come for it. Held jobs are not counted: the signer's lease wakes for them.
            (eb) =>
              eb
                .exists(
                  eb
                    .selectFrom('cosigner_jobs as other')
                    .select('other.id')
                    .where('other.cosigner_id', '=', cosignerId)
                    .whereRef('other.id', '<>', 'j.id')
                    .where((o) =>
                      o.or([
                        o('other.status', '=', 'PENDING'),
                        o.and([
                          o('other.status', '=', 'LEASED'),
                          o('other.lease_expires_at', '<=', now),
                        ]),
                      ]),
                    )
                    .where('other.available_at', '<=', now),
                )
                .as('more'),
          ])
          .where('j.cosigner_id', '=', cosignerId)
          .where((eb) =>
            eb.or([
              eb('j.status', '=', 'PENDING'),
              eb.and([eb('j.status', '=', 'LEASED'), eb('j.lease_expires_at', '<=', now)]),
            ]),
          )
          .where((eb) => {
            const available = eb('j.available_at', '<=', now);
            if (!takesHeld) return available;
            // A held job is leased early, to be prepared (docs/mpc-relay.md "PRESIGN", EdDSA),
            // but only once its session's signer holds its own job: a signer that is down then
            // ties up none of this co-signer's slots. It is computed after its release.
            return eb.or([
              available,
              eb.and([
                eb('j.type', '=', 'SIGN'),
                eb('j.available_at', '>=', HELD_UNTIL),
                eb.exists(
                  eb
                    .selectFrom('cosigner_jobs as signer')
                    .select('signer.id')
                    .whereRef('signer.session_id', '=', 'j.session_id')
                    .where('signer.available_at', '<', HELD_UNTIL)
                    .where('signer.status', '=', 'LEASED')
                    .where('signer.lease_expires_at', '>', now),
                ),
              ]),
            ]);
          })
          .where('s.status', '=', 'OPEN')
          .where('s.expires_at', '>', now)
          // The communal test co-signer is offered sandbox workspaces' work only, whatever a
          // session names (docs/sandbox.md): the operator, who runs it and both Cloud
          // Co-signers, must never hold every share of a production workspace's key.
          .$if(sandboxOnly, (qb) =>
            qb.where((eb) =>
              eb.exists(
                eb
                  .selectFrom('workspaces as w')
                  .select('w.id')
                  .whereRef('w.id', '=', 's.workspace_id')
                  .where('w.sandbox', '=', true),
              ),
            ),
          )
          // A Cloud Co-signer (and the communal one) serves many workspaces: a workspace holding
          // its share of the co-signer's leases waits, the others go ahead (raw-signing review H2).
          .$if(sharedByWorkspaces, (qb) =>
            qb.where((eb) =>
              eb(
                eb
                  .selectFrom('cosigner_jobs as held')
                  .innerJoin('mpc_sessions as hs', 'hs.id', 'held.session_id')
                  .select(eb.fn.countAll().as('n'))
                  .whereRef('hs.workspace_id', '=', 's.workspace_id')
                  .where('held.cosigner_id', '=', cosignerId)
                  .where('held.status', '=', 'LEASED')
                  .where('held.lease_expires_at', '>', now),
                '<',
                this.cloudLeasesPerWorkspace,
              ),
            ),
          )
          // Every party takes its jobs in one global order (a daemon runs a bounded number of
          // jobs at once): sessions created in the same instant (a transaction's messages) must
          // not be taken in different orders by different parties, each waiting for the others.
          .orderBy('j.created_at')
          .orderBy('j.session_id')
          .limit(1)
          .forUpdate('j')
          .skipLocked()
          .executeTakeFirst();
        // Checked last, with the job in hand: a hang-up during this check still leases nothing.
        if (!job || signal?.aborted) return undefined;
        if (job.attempts >= MAX_ATTEMPTS) {
          // Failing it ends its session, whose lock a report takes before its job's (leasedJob):
          // with the job held here, wait for it and the two could deadlock. Held elsewhere, the
          // session is being settled: the job is failed on a later poll, if still due.
          const session = await trx
            .selectFrom('mpc_sessions')
            .select('id')
            .where('id', '=', job.session_id)
            .forUpdate()
            .skipLocked()
            .executeTakeFirst();
          if (session === undefined) return undefined;
          await this.failJob(trx, job.id, job.session_id, 'lease expired too many times');
          continue;
        }
        const leaseId = randomUUID();
        const leaseExpiresAt = new Date(now.getTime() + this.leaseMs);
        const leased = await trx
          .updateTable('cosigner_jobs')
          .set({
            status: 'LEASED',
            lease_id: leaseId,
            lease_expires_at: leaseExpiresAt,
            attempts: job.attempts + 1,
            updated_at: now,
          })
          .where('id', '=', job.id)
          .returning('attempts')
          .executeTakeFirstOrThrow();
        const held = job.available_at.getTime() >= HELD_UNTIL.getTime();
        const wake =
          job.type === 'SIGN' && !cloud ? await this.heldFor(trx, job.session_id, now) : [];
        const leasedJob: LeasedJob = {
          jobId: job.id,
          type: job.type,
          leaseId,
          leaseExpiresAt: leaseExpiresAt.getTime(),
          attempt: leased.attempts,
          sessionId: job.session_id,
          workspaceId: job.workspace_id,
          apiKeyId: job.api_user_id,
          algorithm: job.algorithm as LeasedJob['algorithm'],
          shareSetId: job.share_set_id,
          threshold: job.threshold,
          session: publishedSession(
            {
              id: job.session_id,
              status: job.session_status,
              signed_roster: job.signed_roster,
              signed_authorization: job.signed_authorization,
              expires_at: job.expires_at,
            },
            now,
          ),
          ...(held ? { held: true as const } : {}),
        };
        return { job: leasedJob, wake, more: Boolean(job.more) };
      }
    });
  }

  /**
   * The co-signers whose jobs of the session are held and that no one holds: not leased yet, or
   * leased by someone gone (a lease that ran out, or was handed back by a restarting daemon).
   */
  private async heldFor(
    trx: Transaction<Database>,
    sessionId: string,
    now: Date,
  ): Promise<string[]> {
    const rows = await trx
      .selectFrom('cosigner_jobs')
      .select('cosigner_id')
      .where('session_id', '=', sessionId)
      .where((eb) =>
        eb.or([
          eb('status', '=', 'PENDING'),
          eb.and([eb('status', '=', 'LEASED'), eb('lease_expires_at', '<=', now)]),
        ]),
      )
      .where('available_at', '>=', HELD_UNTIL)
      .execute();
    return rows.map((r) => r.cosigner_id);
  }

  /**
   * A cloud's DESTROY confirmation counts only for the share set its session names: a buggy or
   * confused cloud that confirms another one is refused, so the set is never recorded as
   * destroyed on its word (sandbox/destroy review L5); the lease then runs out and it is offered
   * again.
   */
  private async assertConfirmsItsShareSet(
    trx: Transaction<Database>,
    sessionId: string,
    result: object,
  ): Promise<void> {
    const session = await trx
      .selectFrom('mpc_sessions')
      .select('share_set_id')
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    const confirmed = (result as { destroyedShareSetId?: unknown }).destroyedShareSetId;
    if (confirmed !== session.share_set_id)
      throw resultRefused('this DESTROY job confirms another share set than its session names');
  }

  /**
   * Job `jobId`, locked, if `cosignerId` holds its lease `leaseId`: 404 when it is another
   * co-signer's, 409 when the lease moved on or the job is finished.
   */
  private async leasedJob(
    trx: Transaction<Database>,
    cosignerId: string,
    jobId: string,
    leaseId: string,
  ) {
    // Its session first, then the job: the order failSession takes them in. A report decides
    // from the other jobs' statuses whether its session ended; on PostgreSQL (READ COMMITTED)
    // two last reports at once each saw the other's job still LEASED and neither ended it
    // (hot-path statements review H1). Serialised per session, the second sees the first.
    const session = await trx
      .selectFrom('mpc_sessions')
      .select(['status', 'expires_at'])
      .where((eb) =>
        eb('id', '=', eb.selectFrom('cosigner_jobs').select('session_id').where('id', '=', jobId)),
      )
      .forUpdate()
      .executeTakeFirst();
    const job = await trx
      .selectFrom('cosigner_jobs')
      .select(['id', 'type', 'session_id', 'status', 'lease_id', 'cosigner_id', 'available_at'])
      .where('id', '=', jobId)
      .forUpdate()
      .executeTakeFirst();
    if (!job || job.cosigner_id !== cosignerId) throw new NotFoundError('Job');
    if (job.status !== 'LEASED' || job.lease_id !== leaseId) throw leaseNotHeld();
    // A job's session is never deleted: found with the job, locked above.
    return { ...job, session: session! };
  }

  /** Records the lease holder's outcome; 409 for anyone else or a finished job. */
  async report(cosignerId: string, jobId: string, body: JobResultRequest): Promise<JobCompletion> {
    const completion = await this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      const job = await this.leasedJob(trx, cosignerId, jobId, body.leaseId);
      if (body.status === 'DONE' && !resultFits(job.type, body.result))
        throw resultRefused(`this is not the result of a ${job.type} job`);
      // A share from a job leased early but never released is not taken: it would be out before
      // the signer could no longer fail (pooled EdDSA review H1). Failing is always allowed.
      if (body.status === 'DONE' && job.available_at.getTime() >= HELD_UNTIL.getTime())
        throw resultRefused('this job is held: it reports a result only once released');
      if (body.status === 'DONE' && job.type === 'DESTROY')
        await this.assertConfirmsItsShareSet(trx, job.session_id, body.result);
      if (body.status === 'FAILED') {
        // A released share is a fact about any party; a callback decision only the API
        // co-signer's (cloud co-signers have no handler).
        // A missing pooled presignature is neither: an ordinary failure (presignature-pool.ts).
        const refusal =
          body.subStatus !== undefined &&
          body.subStatus !== PRESIGNATURE_MISSING &&
          (body.subStatus === SIGNATURE_MAY_EXIST || (await this.isApiCosigner(trx, cosignerId)))
            ? { subStatus: body.subStatus, detail: body.reason, cosignerId }
            : undefined;
        await this.failJob(trx, job.id, job.session_id, body.reason, refusal, body.subStatus);
        return {
          sessionId: job.session_id,
          status: 'FAILED' as const,
          released: { wake: [] as string[], waiting: [] as string[] },
        };
      }
      await trx
        .updateTable('cosigner_jobs')
        .set({ status: 'DONE', result: JSON.stringify(body.result), updated_at: now })
        .where('id', '=', job.id)
        .execute();
      await this.onJobEnd?.(trx, {
        jobId: job.id,
        type: job.type,
        sessionId: job.session_id,
        cosignerId,
        status: 'DONE',
        result: body.result,
      });
      // One read of the session's jobs for both: a release changes when jobs are offered, never
      // their status.
      const jobs = await this.jobsOf(trx, job.session_id);
      // Only SIGN sessions hold parties back (signing-orchestrator.ts).
      const released =
        job.type === 'SIGN'
          ? await this.releaseHeldJobs(trx, job.session_id, jobs)
          : { wake: [], waiting: [] };
      await this.settleSession(trx, job.session_id, jobs);
      return { sessionId: job.session_id, status: 'DONE' as const, released };
    });
    this.notifier.notify(sessionKey(completion.sessionId));
    for (const jobId of completion.released.waiting) this.notifier.notify(releaseKey(jobId));
    for (const cosigner of completion.released.wake) this.notifier.notifyOne(workKey(cosigner));
    return { sessionId: completion.sessionId, status: completion.status };
  }

  /**
   * The lease holder of a SIGN job says nothing on its side keeps it from signing any more (its
   * Callback Handler approved, it holds the named nonce set): its session's held jobs may run
   * beside it. 409 for anyone but the lease holder, or a job no longer leased.
   */
  async ready(cosignerId: string, jobId: string, leaseId: string): Promise<number> {
    const released = await this.db.transaction().execute(async (trx) => {
      const job = await this.leasedJob(trx, cosignerId, jobId, leaseId);
      if (job.type !== 'SIGN') throw resultRefused('only a SIGN job holds other parties back');
      // Too late to release anyone: the session would end with their shares out and the signer's
      // still to come (ready-call review L2). Refused, the signer computes nothing; a fresh
      // session follows the expiry.
      const { session } = job;
      if (session.status !== 'OPEN') throw sessionClosed(session.status);
      const now = this.clock();
      if (session.expires_at.getTime() - now.getTime() < READY_MARGIN_MS)
        throw sessionClosed('ending');
      const jobs = await this.jobsOf(trx, job.session_id);
      const released = await this.releaseHeldJobs(trx, job.session_id, jobs, job.id);
      // On record only for the call that released someone (ready-call review I2): a later call,
      // or one from a job whose session holds no one back, says nothing about the release.
      if (released.count > 0)
        await trx
          .updateTable('cosigner_jobs')
          .set({ ready_at: now })
          .where('id', '=', job.id)
          .where('ready_at', 'is', null)
          .execute();
      return released;
    });
    for (const jobId of released.waiting) this.notifier.notify(releaseKey(jobId));
    for (const cosigner of released.wake) this.notifier.notifyOne(workKey(cosigner));
    return released.count;
  }

  /**
   * Long poll by the holder of a held job leased early (`next` with `acceptHeld`): true once the
   * job was released (its signer said it will sign, or reported its share), false after
   * `waitMs`. 404 for another co-signer's job; 409 once the session is not open or the job is
   * no longer leased under `leaseId`, so the holder stops. A lease that ran out but that no one
   * took over still counts, as it does for a report. The holder makes no relay call while it
   * waits, so this keeps its lease alive: renewed when it would not outlast the wait by a sixth
   * of a lease (so not on the first call of a fresh lease at the daemon's wait, the call on a
   * signing's path); the wait is cut to fit in a fresh lease.
   */
  async awaitRelease(
    cosignerId: string,
    jobId: string,
    leaseId: string,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const margin = this.leaseMs / 6;
    const wait = Math.min(waitMs, this.leaseMs - margin);
    let renewed = false;
    const check = async (): Promise<true | undefined> => {
      const row = await this.db
        .selectFrom('cosigner_jobs as j')
        .innerJoin('mpc_sessions as s', 's.id', 'j.session_id')
        .select([
          'j.cosigner_id',
          'j.status',
          'j.lease_id',
          'j.lease_expires_at',
          'j.available_at',
          's.status as session_status',
          's.expires_at',
        ])
        .where('j.id', '=', jobId)
        .executeTakeFirst();
      if (!row || row.cosigner_id !== cosignerId) throw new NotFoundError('Job');
      const now = this.clock();
      // The session's end first: it ends every job of it, and says more.
      const sessionStatus = effectiveStatus(row.session_status, row.expires_at, now);
      if (sessionStatus !== 'OPEN') throw sessionClosed(sessionStatus);
      if (row.status !== 'LEASED' || row.lease_id !== leaseId) throw leaseNotHeld();
      if (row.available_at.getTime() < HELD_UNTIL.getTime()) return true;
      const leaseLeftMs = (row.lease_expires_at?.getTime() ?? 0) - now.getTime();
      if (!renewed && leaseLeftMs < wait + margin) {
        renewed = true;
        await this.db
          .updateTable('cosigner_jobs')
          .set({ lease_expires_at: new Date(now.getTime() + this.leaseMs) })
          .where('id', '=', jobId)
          .where('lease_id', '=', leaseId)
          .where('status', '=', 'LEASED')
          .execute();
      }
      return undefined;
    };
    return (await this.notifier.poll(releaseKey(jobId), wait, check, signal)) ?? false;
  }

  /**
   * A session's held jobs (mpc-session-service.ts `heldParties`) become available once every
   * other job of it is DONE, or said it is ready (`readyJobId`) — not merely leased: the signer's
   * co-signer may still be refused by its Callback Handler, answered RETRY, or find its nonce set
   * missing, and a fresh session must then find no cloud share released (pooled EdDSA review
   * H1). Returns how many it released, the co-signers to wake after the commit, and the held
   * jobs leased early, whose holders wait for their release (awaitRelease).
   */
  private async releaseHeldJobs(
    trx: Transaction<Database>,
    sessionId: string,
    jobs: readonly SessionJob[],
    readyJobId?: string,
  ): Promise<{ count: number; wake: string[]; waiting: string[] }> {
    const held = (j: { available_at: Date }) => j.available_at.getTime() >= HELD_UNTIL.getTime();
    const goneAhead = (j: { id: string; status: string }) =>
      j.status === 'DONE' || j.id === readyJobId;
    if (!jobs.some(held) || jobs.some((j) => !held(j) && !goneAhead(j)))
      return { count: 0, wake: [], waiting: [] };
    const now = this.clock();
    // A held job leased early (a Cloud Co-signer preparing) is released as well: its holder
    // waits on `release:<job>` (awaitRelease), the others on their work polls.
    const rows = await trx
      .updateTable('cosigner_jobs')
      .set({ available_at: now, updated_at: now })
      .where('session_id', '=', sessionId)
      .where('status', 'in', ['PENDING', 'LEASED'])
      .where('available_at', '>=', HELD_UNTIL)
      .returning(['id', 'cosigner_id', 'status', 'lease_expires_at'])
      .execute();
    // A lease that ran out (or was handed back) has no one waiting on it: its job is leased
    // again by a work poll.
    const waiting = (r: (typeof rows)[number]) =>
      r.status === 'LEASED' && (r.lease_expires_at?.getTime() ?? 0) > now.getTime();
    return {
      count: rows.length,
      wake: rows.filter((r) => !waiting(r)).map((r) => r.cosigner_id),
      waiting: rows.filter(waiting).map((r) => r.id),
    };
  }

  /**
   * Fails a job and its session: the other parties see it and stop (a fresh session follows). In
   * a session of independent parties (DESTROY) only the job fails; the session ends with the last.
   */
  async failJob(
    trx: Transaction<Database>,
    jobId: string,
    sessionId: string,
    reason: string,
    refusal?: PartyRefusal,
    /** The sub-status the party's report named, for the job-end handler. */
    subStatus?: string,
  ): Promise<void> {
    const now = this.clock();
    const job = await trx
      .updateTable('cosigner_jobs')
      .set({ status: 'FAILED', failure_reason: reason, updated_at: now })
      .where('id', '=', jobId)
      .returning(['type', 'cosigner_id'])
      .executeTakeFirstOrThrow();
    await this.onJobEnd?.(trx, {
      jobId,
      type: job.type,
      sessionId,
      cosignerId: job.cosigner_id,
      status: 'FAILED',
      reason,
      ...(subStatus === undefined ? {} : { subStatus }),
    });
    const session = await trx
      .selectFrom('mpc_sessions')
      .select('purpose')
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if (INDEPENDENT_PURPOSES.includes(session.purpose)) await this.settleSession(trx, sessionId);
    else await this.failSession(trx, sessionId, 'FAILED', `a party failed: ${reason}`, refusal);
  }

  /**
   * Ends an open session once none of its jobs is open: DONE when every job is DONE, else FAILED
   * (only a session of independent parties gets here with a failed job: in the others a failed
   * job has failed the session already).
   */
  private async settleSession(
    trx: Transaction<Database>,
    sessionId: string,
    jobs?: readonly SessionJob[],
  ): Promise<void> {
    jobs ??= await this.jobsOf(trx, sessionId);
    if (jobs.some((j) => j.status === 'PENDING' || j.status === 'LEASED')) return;
    const status = jobs.every((j) => j.status === 'DONE') ? 'DONE' : 'FAILED';
    const ended = await trx
      .updateTable('mpc_sessions')
      .set({
        status,
        failure_reason: status === 'DONE' ? null : 'a party failed',
      })
      .where('id', '=', sessionId)
      .where('status', '=', 'OPEN')
      .executeTakeFirst();
    if (ended.numUpdatedRows === 1n) await this.ended(trx, sessionId, jobs[0]?.type, status);
  }

  /** The jobs of a session, as read in the caller's transaction. */
  private async jobsOf(trx: Transaction<Database>, sessionId: string): Promise<SessionJob[]> {
    return trx
      .selectFrom('cosigner_jobs')
      .select(['id', 'type', 'status', 'available_at'])
      .where('session_id', '=', sessionId)
      .execute();
  }

  /**
   * A session has ended: its handler runs, then — SIGN — the signature shares its parties
   * reported are erased (pooled EdDSA review L5). Until summed they are a capability, whoever
   * holds all of them can finish a signature; once the handler has settled the message (and
   * aggregated them, if they make one) nothing reads them again, and no job of an ended session
   * takes a report. The overwrite is logical (decision 0006: old row versions, WAL archives and
   * replicas keep the original write).
   */
  private async ended(
    trx: Transaction<Database>,
    sessionId: string,
    purpose: string | undefined,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
    refusal?: PartyRefusal,
  ): Promise<void> {
    await this.onSessionEnd?.(trx, sessionId, status, refusal, purpose);
    if (purpose !== 'SIGN') return;
    await trx
      .updateTable('cosigner_jobs')
      .set({ result: JSON.stringify(ERASED_SHARE) })
      .where('session_id', '=', sessionId)
      .where(sql<boolean>`result ? 'signatureShare'`)
      .execute();
  }

  /** Callback sub-statuses count only from an API co-signer: cloud co-signers have no handler. */
  private async isApiCosigner(trx: Transaction<Database>, cosignerId: string): Promise<boolean> {
    const row = await trx
      .selectFrom('cosigners')
      .select('mode')
      .where('id', '=', cosignerId)
      .executeTakeFirst();
    return row !== undefined && row.mode !== 'CLOUD';
  }

  /** Whether the co-signer serves many workspaces, and whether only sandbox ones. */
  private async servingOf(
    trx: Transaction<Database>,
    cosignerId: string,
  ): Promise<{ sharedByWorkspaces: boolean; sandboxOnly: boolean }> {
    const known = this.serving.get(cosignerId);
    if (known !== undefined) return known;
    const row = await trx
      .selectFrom('cosigners')
      .select(['mode', 'type'])
      .where('id', '=', cosignerId)
      .executeTakeFirst();
    const sandboxOnly = row?.type === SANDBOX_COSIGNER_TYPE;
    const serving = {
      sharedByWorkspaces: row === undefined || row.mode === 'CLOUD' || sandboxOnly,
      sandboxOnly,
    };
    // An unknown co-signer is asked about again (it may register later).
    if (row !== undefined) {
      if (this.serving.size >= MAX_SERVING_REMEMBERED) this.serving.clear();
      this.serving.set(cosignerId, serving);
    }
    return serving;
  }

  /**
   * Fails session `sessionId`, with `reason`, if it is OPEN and no party has started it — none of
   * its jobs LEASED or DONE (a lease, once taken, never returns a job to PENDING; an expired one
   * stays LEASED until re-leased), so no share of it can exist — as any failed session: its end
   * handler runs (a SIGN session's message gets a fresh session). The session and its jobs are
   * locked first, without waiting: one another transaction holds (a lease, a report) throws, as
   * started.
   */
  async failUnstarted(
    trx: Transaction<Database>,
    sessionId: string,
    reason: string,
  ): Promise<void> {
    // The session before its jobs, the order a report takes them in (leasedJob), and neither
    // waited for: a report in progress means a party started.
    await trx
      .selectFrom('mpc_sessions')
      .select('id')
      .where('id', '=', sessionId)
      .forUpdate()
      .noWait()
      .execute();
    const jobs = await trx
      .selectFrom('cosigner_jobs')
      .select('status')
      .where('session_id', '=', sessionId)
      .forUpdate()
      .noWait()
      .execute();
    if (jobs.some((j) => j.status === 'LEASED' || j.status === 'DONE')) return;
    await this.failSession(trx, sessionId, 'FAILED', reason);
  }

  private async failSession(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'FAILED' | 'EXPIRED',
    reason: string,
    refusal?: PartyRefusal,
  ): Promise<void> {
    const now = this.clock();
    const changed = await trx
      .updateTable('mpc_sessions')
      .set({ status, failure_reason: reason })
      .where('id', '=', sessionId)
      .where('status', '=', 'OPEN')
      .returning(['workspace_id', 'purpose', 'algorithm'])
      .executeTakeFirst();
    await trx
      .updateTable('cosigner_jobs')
      .set({ status: 'FAILED', failure_reason: reason, updated_at: now })
      .where('session_id', '=', sessionId)
      .where('status', 'in', ['PENDING', 'LEASED'])
      .execute();
    if (changed) {
      await this.ended(trx, sessionId, changed.purpose, status, refusal);
      await this.audit.appendIn(trx, {
        workspaceId: changed.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: status === 'EXPIRED' ? 'mpc.session_expired' : 'mpc.session_failed',
        subject: sessionId,
        details: { purpose: changed.purpose, algorithm: changed.algorithm, reason },
      });
    }
  }

  /**
   * Records sessions past their deadline as EXPIRED and fails their unfinished jobs, each session
   * in its own transaction. One that cannot be ended (its end handler throws) stays OPEN, to be
   * tried again by the next sweep, and holds up none of the others; the sweep then rejects,
   * naming it (session review I2). Returns how many expired.
   */
  async expireSessions(): Promise<number> {
    const now = this.clock();
    const due = await this.db
      .selectFrom('mpc_sessions')
      .select('id')
      .where('status', '=', 'OPEN')
      .where('expires_at', '<=', now)
      .limit(100)
      .execute();
    const failed: { id: string; error: unknown }[] = [];
    for (const { id } of due) {
      try {
        await this.db
          .transaction()
          .execute((trx) => this.failSession(trx, id, 'EXPIRED', 'session deadline passed'));
      } catch (error) {
        failed.push({ id, error });
        continue;
      }
      this.notifier.notify(sessionKey(id));
    }
    if (failed.length > 0)
      throw new AggregateError(
        failed.map((f) => f.error),
        `sessions past their deadline could not be ended: ${failed.map((f) => f.id).join(', ')}`,
      );
    return due.length;
  }
}
