/**
 * The presignature pool (ARCHITECTURE §3): DKLs23 presigning is most of an ECDSA signature's
 * work and needs no message, so the parties of the signing share set make presignatures ahead of
 * time, each in its own PRESIGN session, and a SIGN session's authorization names one
 * (`presignSessionId`) so the parties only run the online round. EdDSA share sets pool FROST
 * nonce sets the same way (docs/decisions/0006): a signing that names one runs no relay round,
 * and the platform aggregates its shares with the commitment list kept here.
 *
 * The platform holds no presignature material, only each PRESIGN session's state (migration
 * 0014). A presignature is named by at most one SIGN session: the one whose creation marked it
 * TAKEN, in the same transaction, under a row lock. The parties spend theirs durably before any
 * share exists and never spend one twice (cosigner sign-job.ts), so a name that reached a party
 * twice would be refused there, not used.
 *
 * The pool is topped up, never beyond `size` made or in the making and at most
 * MAKING_AT_ONCE sessions at a time, when a signing starts (in a transaction of its own, once the
 * signing's has committed: {@link PresignaturePool.topUpSoon}), when a PRESIGN session finishes,
 * and when the share set's key is made (KEYGEN, RESHARE). A PRESIGN session that fails does not
 * start another: with a party down every attempt would fail; the next signing tops the pool up
 * again. PRESIGN sessions are ordinary jobs in the one order every party leases in (a priority
 * for signing would let parties lease different jobs and wait on each other — review M1); they
 * expire sooner than others, so one a party never joins holds the others' slots briefly.
 */
import { createHash } from 'node:crypto';
import { frostCommitmentPoints, isMpcError } from '@countersign/mpc/frost-aggregate';
import type { KeyAlgorithm } from '@countersign/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, PresignatureStatus } from '../db/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import {
  jobResults,
  PRESIGNATURE_MISSING,
  type CosignerJobService,
  type EndedJob,
} from './cosigner-job-service.js';
import type { MpcSessionService, SessionParty } from './mpc-session-service.js';
import { liveShareSets } from './share-sets.js';

/** Algorithms whose signing spends pooled work: DKLs23 presignatures, FROST nonce sets. */
export const POOLED_ALGORITHMS: readonly string[] = ['ECDSA_SECP256K1', 'EDDSA_ED25519'];
/**
 * PRESIGN sessions of one share set in the making at once: background work, kept below the
 * co-signers' per-share-set presigning slots so signing that cannot take from the pool still
 * finds one free.
 */
export const MAKING_AT_ONCE = 2;
/** A PRESIGN session's deadline (or the relay's, if shorter): three parties need well under 10 s. */
export const PRESIGN_TTL_MS = 120_000;
/**
 * PRESIGN jobs are offered this long after the signing that topped the pool up: that signing's
 * own online round (a few relay round trips) then has the CPU to itself.
 */
export const PRESIGN_DEFER_MS = 500;

/** A share set the pool serves: the signer's, with its parties. */
export interface PooledShareSet {
  readonly workspaceId: string;
  readonly algorithm: KeyAlgorithm;
  readonly apiUserId: string;
  readonly shareSetId: string;
  readonly parties: readonly SessionParty[];
}

/**
 * Marks a share set's presignatures in `states` DISCARDED: none of them will be named. Returns
 * how many.
 */
export async function discardPresignatures(
  trx: Transaction<Database>,
  shareSetId: string,
  states: readonly PresignatureStatus[],
  now: Date,
): Promise<number> {
  const dropped = await trx
    .updateTable('presignatures')
    .set({ status: 'DISCARDED', updated_at: now })
    .where('share_set_id', '=', shareSetId)
    .where('status', 'in', [...states])
    .executeTakeFirst();
  return Number(dropped.numUpdatedRows);
}

export class PresignaturePool {
  /** Top-ups started by {@link topUpSoon} and not yet ended. */
  private readonly running = new Set<Promise<void>>();
  /** Set by {@link stopTopUps}: the database is about to close. */
  private stopped = false;
  private topUpFailed: (error: unknown) => void = () => undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sessions: MpcSessionService,
    private readonly jobs: CosignerJobService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    /** Presignatures kept per share set, made or in the making; 0 turns the pool off. */
    private readonly size: number,
  ) {}

  /**
   * The oldest READY presignature of the share set, locked for this transaction (another
   * signing skips it): its PRESIGN session's id, or undefined when the pool is empty. Mark it
   * {@link taken} by the SIGN session that names it before the transaction commits.
   */
  async reserve(trx: Transaction<Database>, shareSetId: string): Promise<string | undefined> {
    if (this.size === 0) return undefined;
    const row = await trx
      .selectFrom('presignatures')
      .select('session_id')
      .where('share_set_id', '=', shareSetId)
      .where('status', '=', 'READY')
      .orderBy('created_at')
      .orderBy('session_id')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    return row?.session_id;
  }

  /** Records that `signSessionId` names the reserved presignature: never named again. */
  async taken(
    trx: Transaction<Database>,
    presignSessionId: string,
    signSessionId: string,
  ): Promise<void> {
    const changed = await trx
      .updateTable('presignatures')
      .set({ status: 'TAKEN', taken_by_session_id: signSessionId, updated_at: this.clock() })
      .where('session_id', '=', presignSessionId)
      .where('status', '=', 'READY')
      .executeTakeFirst();
    if (changed.numUpdatedRows !== 1n) throw new Error('a reserved presignature was not READY');
  }

  /**
   * Starts PRESIGN sessions for the share set until `size` are made or in the making (at most
   * MAKING_AT_ONCE in the making). Returns how many it started. Their jobs are offered, and the
   * parties woken, PRESIGN_DEFER_MS later.
   */
  async topUp(trx: Transaction<Database>, set: PooledShareSet): Promise<number> {
    if (this.size === 0) return 0;
    // One top-up of a share set at a time: two transactions counting at once would each add
    // sessions (PostgreSQL; PGlite runs one transaction at a time). Review L3.
    await trx
      .selectFrom('share_sets')
      .select('id')
      .where('id', '=', set.shareSetId)
      .forUpdate()
      .execute();
    const counts = await trx
      .selectFrom('presignatures')
      .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('share_set_id', '=', set.shareSetId)
      .where('status', 'in', ['MAKING', 'READY'])
      .groupBy('status')
      .execute();
    const count = (status: string) => Number(counts.find((c) => c.status === status)?.n ?? 0);
    const making = count('MAKING');
    const wanted = Math.min(this.size - making - count('READY'), MAKING_AT_ONCE - making);
    for (let i = 0; i < wanted; i++) {
      const sessionId = await this.sessions.create(trx, {
        workspaceId: set.workspaceId,
        apiUserId: set.apiUserId,
        purpose: 'PRESIGN',
        algorithm: set.algorithm,
        shareSetId: set.shareSetId,
        threshold: set.parties.length,
        parties: [...set.parties],
        ttlMs: Math.min(this.sessionTtlMs, PRESIGN_TTL_MS),
        offerAfterMs: PRESIGN_DEFER_MS,
      });
      const now = this.clock();
      await trx
        .insertInto('presignatures')
        .values({
          session_id: sessionId,
          workspace_id: set.workspaceId,
          share_set_id: set.shareSetId,
          status: 'MAKING',
          created_at: now,
          updated_at: now,
          taken_by_session_id: null,
        })
        .execute();
    }
    if (wanted > 0) {
      const cosignerIds = set.parties.map((p) => p.cosignerId);
      this.sessions.announceAfter(
        Array.from({ length: wanted }, () => cosignerIds).flat(),
        PRESIGN_DEFER_MS,
      );
    }
    return Math.max(wanted, 0);
  }

  /**
   * {@link topUpWorkspace} in a transaction of its own, begun once the caller's work so far has
   * run: for a signing, after its transaction committed and its co-signers were woken. The share
   * set is chosen then, as the one that signs at that moment: one whose destruction was asked in
   * between gets nothing (review 2026-11-29-topup-transport-bench L1). Its PRESIGN sessions
   * (a roster signed, rows written for each) then no longer lengthen the signing's transaction,
   * and the leases that signing's co-signers take are not queued behind them (PGlite runs one
   * transaction at a time). Best effort, as a top-up always is: one that fails or is lost to a
   * crash leaves the pool to the next signing or PRESIGN end; a failure is reported to the
   * handler of {@link onTopUpFailure}.
   */
  topUpSoon(workspaceId: string, algorithm: KeyAlgorithm): void {
    if (this.size === 0 || this.stopped) return;
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        if (this.stopped) return;
        return this.db.transaction().execute(async (trx) => {
          await this.topUpWorkspace(trx, workspaceId, algorithm);
        });
      })
      .catch((error: unknown) => {
        try {
          this.topUpFailed(error);
        } catch {
          // A reporter that fails must not make the top-up, or the app's close, fail.
        }
      })
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Where a failed {@link topUpSoon} is reported (the app logs it). */
  onTopUpFailure(report: (error: unknown) => void): void {
    this.topUpFailed = report;
  }

  /** Waits for every top-up {@link topUpSoon} started so far. */
  async topUpsSettled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** No top-up starts any more, and those running have ended: the database may close. */
  async stopTopUps(): Promise<void> {
    this.stopped = true;
    await this.topUpsSettled();
  }

  /**
   * Tops up the pool of the share set that signs `algorithm` for the workspace now, if one is
   * available.
   */
  async topUpWorkspace(
    trx: Transaction<Database>,
    workspaceId: string,
    algorithm: KeyAlgorithm,
  ): Promise<number> {
    if (this.size === 0) return 0;
    const [first] = await liveShareSets(trx, workspaceId, algorithm, this.clock(), {
      honourStops: true,
    });
    if (first === undefined || !first.available) return 0;
    return this.topUp(trx, { workspaceId, algorithm, ...first });
  }

  /** A pooled EdDSA nonce set's commitment list, hex (undefined for ECDSA or unknown). */
  async commitments(
    trx: Transaction<Database>,
    signSessionId: string,
  ): Promise<string | undefined> {
    const row = await trx
      .selectFrom('presignatures')
      .select('commitments')
      .where('taken_by_session_id', '=', signSessionId)
      .executeTakeFirst();
    return row?.commitments ?? undefined;
  }

  /**
   * The purposes of the sessions whose end {@link sessionEnded} acts on: it is asked about no
   * other (services.ts).
   */
  readonly endedPurposes: readonly string[] = ['KEYGEN', 'RESHARE', 'PRESIGN'];

  /**
   * The job service's session-end handler. PRESIGN: READY once every party pooled the same
   * presignature, else DISCARDED; a success keeps filling the pool. KEYGEN and RESHARE of an
   * ECDSA key: fills the new signer's pool.
   */
  async sessionEnded(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
  ): Promise<void> {
    const session = await trx
      .selectFrom('mpc_sessions')
      .select(['purpose', 'algorithm', 'workspace_id'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    const algorithm = session.algorithm as KeyAlgorithm;
    if (
      !POOLED_ALGORITHMS.includes(algorithm) ||
      (status !== 'DONE' && session.purpose !== 'PRESIGN')
    )
      return;
    if (session.purpose === 'PRESIGN') {
      let made = status === 'DONE' ? await this.agreedOutput(trx, sessionId, algorithm) : undefined;
      if (made?.commitments !== undefined && (await this.refused(trx, sessionId, made.commitments)))
        made = undefined;
      await trx
        .updateTable('presignatures')
        .set({
          status: made === undefined ? 'DISCARDED' : 'READY',
          commitments: made?.commitments ?? null,
          updated_at: this.clock(),
        })
        .where('session_id', '=', sessionId)
        .where('status', '=', 'MAKING')
        .execute();
      if (made !== undefined) await this.topUpWorkspace(trx, session.workspace_id, algorithm);
    } else if (session.purpose === 'KEYGEN' || session.purpose === 'RESHARE') {
      await this.topUpWorkspace(trx, session.workspace_id, algorithm);
    }
  }

  /**
   * The job service's job-end handler: a party that does not hold the presignature its SIGN
   * session named (PRESIGNATURE_MISSING: a restored backup, a trimmed pool) likely holds none of
   * that share set's pool, so the READY ones are dropped — else each would fail a first attempt
   * in turn. Any other failure leaves the pool alone (a Callback Handler's REJECT says nothing
   * about it). Audited: a party that lost its pool may have been restored.
   */
  async jobEnded(trx: Transaction<Database>, job: EndedJob): Promise<void> {
    if (job.type !== 'SIGN' || job.subStatus !== PRESIGNATURE_MISSING) return;
    const named = await trx
      .selectFrom('presignatures')
      .select(['share_set_id', 'workspace_id', 'session_id'])
      .where('taken_by_session_id', '=', job.sessionId)
      .executeTakeFirst();
    if (named === undefined) return;
    const discarded = await discardPresignatures(trx, named.share_set_id, ['READY'], this.clock());
    await this.audit.appendIn(trx, {
      workspaceId: named.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'mpc.presignatures_discarded',
      subject: named.share_set_id,
      details: {
        cosignerId: job.cosignerId,
        signSessionId: job.sessionId,
        presignSessionId: named.session_id,
        discarded,
      },
    });
  }

  /**
   * A co-signer no longer holds its pool (its store was restored from a backup, which discards
   * it): every entry made with it, ready or in the making, is DISCARDED — naming one would fail
   * its signing, and an EdDSA one after the other parties may have released their shares
   * (docs/decisions/0006). Audited per share set. Signings that named one already and that no
   * party has started fail too, so their messages get fresh sessions that spend no pooled entry
   * (pooled EdDSA review M3 b); a started one runs on, as it would have. Returns how many
   * entries were discarded.
   */
  async discardMadeWith(cosignerId: string): Promise<number> {
    const total = await this.db.transaction().execute(async (trx) => {
      const affected = await trx
        .selectFrom('presignatures as x')
        .innerJoin('mpc_session_parties as p', 'p.session_id', 'x.session_id')
        .select(['x.share_set_id', 'x.workspace_id'])
        .distinct()
        .where('p.cosigner_id', '=', cosignerId)
        .where('x.status', 'in', ['READY', 'MAKING'])
        .execute();
      let total = 0;
      for (const { share_set_id: shareSetId, workspace_id: workspaceId } of affected) {
        const discarded = await discardPresignatures(
          trx,
          shareSetId,
          ['READY', 'MAKING'],
          this.clock(),
        );
        total += discarded;
        // The co-signer's own call discards them: it is the actor (pooled EdDSA review I1).
        await this.audit.appendIn(trx, {
          workspaceId,
          actorKind: 'cosigner',
          actorId: cosignerId,
          action: 'mpc.presignatures_discarded',
          subject: shareSetId,
          details: { cosignerId, reason: 'POOL_LOST', discarded },
        });
      }
      return total;
    });
    // Committed: no signing can name another entry made with it. Those that named one already,
    // each on its own: one whose end cannot be recorded, or whose jobs a party holds locked,
    // runs its course and keeps the co-signer from nothing (the daemon works only once this
    // call answers; lost-pool sessions review M1).
    const naming = await this.db
      .selectFrom('presignatures as x')
      .innerJoin('mpc_session_parties as p', 'p.session_id', 'x.session_id')
      .innerJoin('mpc_sessions as s', 's.id', 'x.taken_by_session_id')
      .select('s.id')
      .distinct()
      .where('p.cosigner_id', '=', cosignerId)
      .where('x.status', '=', 'TAKEN')
      .where('s.status', '=', 'OPEN')
      .execute();
    for (const { id } of naming)
      await this.db
        .transaction()
        .execute((trx) =>
          this.jobs.failUnstarted(
            trx,
            id,
            'the pooled entry it named was made with a co-signer that has lost its pool',
          ),
        )
        .catch(() => undefined);
    return total;
  }

  /** Presignatures of every workspace by state, for the operator's metrics. */
  async counts(
    db: Kysely<Database>,
  ): Promise<{ algorithm: string; status: PresignatureStatus; n: number }[]> {
    const rows = await db
      .selectFrom('presignatures as x')
      .innerJoin('share_sets as s', 's.id', 'x.share_set_id')
      .select(['s.algorithm', 'x.status', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy(['s.algorithm', 'x.status'])
      .execute();
    return rows.map((r) => ({ algorithm: r.algorithm, status: r.status, n: Number(r.n) }));
  }

  /**
   * Whether an agreed EdDSA entry must not be READY after all: its commitment list does not
   * decode, or one of its nonce commitment points was offered before for its share set — by any
   * party, in any entry, this one included (nonce-set review L6). A party whose random source
   * repeats both its nonces gives its key share away to whoever sees two of its signature
   * shares, the platform included. Records each point with the entry and party that offered it
   * (kept: a later repeat of any of them is as telling). A refusal is audited,
   * `mpc.nonce_commitments_refused`, naming every repeating slot and where its point was offered
   * first: the same party twice is a repeating random source; two parties mean one of them copied
   * the other's point, and the record cannot say which (session review L1).
   */
  private async refused(
    trx: Transaction<Database>,
    sessionId: string,
    commitments: string,
  ): Promise<boolean> {
    const entry = await trx
      .selectFrom('presignatures')
      .select(['share_set_id', 'workspace_id'])
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    const refuse = async (details: Record<string, unknown>): Promise<true> => {
      await this.audit.appendIn(trx, {
        workspaceId: entry.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: 'mpc.nonce_commitments_refused',
        subject: entry.share_set_id,
        details: { presignSessionId: sessionId, ...details },
      });
      return true;
    };
    let points: { partyIndex: number; point: string }[];
    try {
      points = frostCommitmentPoints(Buffer.from(commitments, 'hex')).flatMap((c) =>
        [c.hiding, c.binding].map((p) => ({
          partyIndex: c.index,
          point: Buffer.from(p).toString('hex'),
        })),
      );
    } catch (error) {
      if (!isMpcError(error)) throw error;
      return refuse({ reason: 'MALFORMED', code: error.code });
    }
    if (points.length === 0) return refuse({ reason: 'MALFORMED' });
    // The first offer of each point, in one order (two transactions inserting overlapping
    // points then lock rows alike, and cannot deadlock on PostgreSQL; session review I3).
    const firsts = new Map<string, number>();
    for (const p of points) if (!firsts.has(p.point)) firsts.set(p.point, p.partyIndex);
    const inserted = new Set(
      (
        await trx
          .insertInto('frost_commitment_points')
          .values(
            [...firsts]
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([point, partyIndex]) => ({
                share_set_id: entry.share_set_id,
                point,
                presign_session_id: sessionId,
                party_index: partyIndex,
              })),
          )
          .onConflict((oc) => oc.columns(['share_set_id', 'point']).doNothing())
          .returning('point')
          .execute()
      ).map((r) => r.point),
    );
    if (inserted.size === points.length) return false;
    // Every slot whose point is not new: offered by an earlier entry, or earlier in this list.
    const earlier = await trx
      .selectFrom('frost_commitment_points')
      .select(['point', 'presign_session_id', 'party_index'])
      .where('share_set_id', '=', entry.share_set_id)
      .where(
        'point',
        'in',
        points.map((p) => p.point),
      )
      .execute();
    const first = new Map(earlier.map((r) => [r.point, r]));
    const seen = new Set<string>();
    const repeats = points.flatMap((p) => {
      const repeat = !inserted.has(p.point) || seen.has(p.point);
      seen.add(p.point);
      const was = first.get(p.point);
      return repeat && was !== undefined
        ? [
            {
              partyIndex: p.partyIndex,
              firstSession: was.presign_session_id,
              firstPartyIndex: was.party_index,
            },
          ]
        : [];
    });
    return refuse({ reason: 'REPEATED', repeats });
  }

  /**
   * What every party pooled, if they agree: the same presignature id (ECDSA: derived from the
   * same sid and set); EdDSA: the same commitment list, whose SHA-256 is that id — else a party
   * pooled a nonce set under other commitments (it re-ran after a crash), and the set cannot
   * sign. Undefined when they do not agree.
   */
  private async agreedOutput(
    trx: Transaction<Database>,
    sessionId: string,
    algorithm: KeyAlgorithm,
  ): Promise<{ commitments?: string } | undefined> {
    const results = (await jobResults(trx, sessionId)).map(
      (r) => (r ?? {}) as { presignatureId?: unknown; commitments?: unknown },
    );
    const [first] = results;
    if (first === undefined || typeof first.presignatureId !== 'string') return undefined;
    const same = results.every(
      (r) => r.presignatureId === first.presignatureId && r.commitments === first.commitments,
    );
    if (!same) return undefined;
    // An EdDSA entry signs only with its list (the platform aggregates under it); ECDSA has none.
    if (algorithm !== 'EDDSA_ED25519') return first.commitments === undefined ? {} : undefined;
    if (typeof first.commitments !== 'string') return undefined;
    const id = createHash('sha256').update(Buffer.from(first.commitments, 'hex')).digest('hex');
    return id === first.presignatureId ? { commitments: first.commitments } : undefined;
  }
}
