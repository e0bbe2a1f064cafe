/**
 * Share set destruction (ARCHITECTURE §3 "Unpair → cloud-1 and cloud-2 destroy their shares of
 * that set; the remaining share is useless"). When a pairing ends — the Owner's COSIGNER_UNPAIR
 * decision or the co-signer's own unpair — the platform, in the transaction that ends it, marks
 * every share set of that pairing (both algorithms) for destruction and creates for each one
 * DESTROY session: the two cloud co-signers that hold its shares (seats 1 and 2, as in the
 * session that made it), one DESTROY job each, no MPC message, and a signed destroy authorization
 * (`countersign/destroy-authorization/v1`) naming the workspace, API key, co-signer, share set,
 * algorithm and reason.
 *
 * Why a session and not a queue of its own: the leased-job machinery (long poll, lease, lease
 * hand-back, the cloud's per-workspace cap, the result route) is what a cloud co-signer already
 * speaks, and a session is what carries a platform-signed authorization to its parties. The
 * session's parties are independent (cosigner-job-service.ts): one cloud's failure does not
 * cancel the other's destruction.
 *
 * A cloud that is down destroys when it is back: the session lasts DESTROY_TTL_MS, and one that
 * expires anyway is offered again at once with a fresh session and authorization, for as long as
 * a cloud has not confirmed. A cloud that refuses (bad signature, a share set of another API key)
 * fails its job: audited `mpc.share_set_destruction_failed`, an alert for the operator, not
 * retried. Each confirmation is recorded on the share set (`cloud_1_destroyed_at`,
 * `cloud_2_destroyed_at`) and audited `mpc.share_set_destroyed` — ids only, nothing secret.
 */
import {
  decodeSignedDestroyAuthorization,
  encodeDestroyAuthorization,
  type DestroyReason,
  type KeyAlgorithm,
} from '@countersign/protocol';
import type { Selectable, Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database, ShareSetsTable } from '../db/schema.js';
import type { EndedJob } from './cosigner-job-service.js';
import type { MpcSessionService } from './mpc-session-service.js';
import { discardPresignatures } from './presignature-pool.js';
import { CLOUD_1, CLOUD_2 } from './share-sets.js';

/**
 * A DESTROY session's deadline (and its authorization's expiry): long, so a cloud co-signer down
 * for maintenance still finds its job; an expired one is offered again anyway, so this only
 * bounds how long one signed authorization stays usable.
 */
export const DESTROY_TTL_MS = 7 * 24 * 60 * 60_000;

/** The pairing that ended: an API user and the co-signer it was paired to. */
export interface EndedPairing {
  workspaceId: string;
  apiUserId: string;
  cosignerId: string;
}

/** What a DESTROY session is made from: the share set's pairing and the session that made it. */
const SHARE_SET_COLUMNS = [
  'id',
  'workspace_id',
  'algorithm',
  'api_user_id',
  'cosigner_id',
  'session_id',
] as const;
type ShareSetToDestroy = Pick<Selectable<ShareSetsTable>, (typeof SHARE_SET_COLUMNS)[number]>;

export class ShareSetDestruction {
  constructor(
    private readonly sessions: MpcSessionService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * In the transaction that ends `pairing`: asks both cloud co-signers to destroy their shares of
   * each of its share sets not asked before (so a repeated unpair asks nothing twice). Returns
   * the co-signers to wake once the transaction has committed.
   */
  async pairingEnded(
    trx: Transaction<Database>,
    pairing: EndedPairing,
    reason: DestroyReason,
  ): Promise<string[]> {
    const shareSets = await trx
      .selectFrom('share_sets')
      .select(SHARE_SET_COLUMNS)
      .where('workspace_id', '=', pairing.workspaceId)
      .where('api_user_id', '=', pairing.apiUserId)
      .where('cosigner_id', '=', pairing.cosignerId)
      .where('destruction_requested_at', 'is', null)
      .orderBy('created_at')
      .forUpdate()
      .execute();
    const wake = new Set<string>();
    for (const shareSet of shareSets) {
      for (const id of await this.request(trx, shareSet, reason)) wake.add(id);
    }
    return [...wake];
  }

  /**
   * The purposes of the sessions whose end {@link sessionEnded} acts on: it is asked about no
   * other (services.ts).
   */
  readonly endedPurposes: readonly string[] = ['KEYGEN', 'RESHARE', 'DESTROY'];

  /**
   * The job service's session-end handler: a KEYGEN or RESHARE that finished after its pairing
   * ended made a share set nobody may use — destroyed at once; an expired DESTROY session is
   * offered again while a cloud has not confirmed.
   */
  async sessionEnded(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
  ): Promise<void> {
    const session = await trx
      .selectFrom('mpc_sessions')
      .select(['purpose', 'share_set_id', 'signed_authorization'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if (session.purpose === 'DESTROY' && status === 'EXPIRED') {
      const shareSet = await this.unconfirmed(trx, session.share_set_id);
      if (shareSet !== undefined)
        await this.offer(trx, shareSet, reasonOf(session.signed_authorization));
      return;
    }
    if ((session.purpose === 'KEYGEN' || session.purpose === 'RESHARE') && status === 'DONE') {
      const made = await trx
        .selectFrom('share_sets')
        .select(SHARE_SET_COLUMNS)
        .where('session_id', '=', sessionId)
        .where('destruction_requested_at', 'is', null)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('cosigner_api_keys as k')
                .select('k.id')
                .whereRef('k.api_user_id', '=', 'share_sets.api_user_id')
                .whereRef('k.cosigner_id', '=', 'share_sets.cosigner_id')
                .where('k.status', '=', 'PAIRED'),
            ),
          ),
        )
        .executeTakeFirst();
      if (made !== undefined) await this.request(trx, made, 'MADE_AFTER_UNPAIR');
    }
  }

  /** The job service's job-end handler: records and audits each cloud's answer to a DESTROY. */
  async jobEnded(trx: Transaction<Database>, job: EndedJob): Promise<void> {
    if (job.type !== 'DESTROY') return;
    const seat = await trx
      .selectFrom('mpc_sessions as s')
      .innerJoin('mpc_session_parties as p', 'p.session_id', 's.id')
      .select(['s.workspace_id', 's.share_set_id', 's.algorithm', 's.api_user_id'])
      .select('p.party_index')
      .where('s.id', '=', job.sessionId)
      .where('p.cosigner_id', '=', job.cosignerId)
      .executeTakeFirstOrThrow();
    const details = {
      shareSetId: seat.share_set_id,
      algorithm: seat.algorithm,
      apiUserId: seat.api_user_id,
      cloud: seat.party_index,
      cosignerId: job.cosignerId,
    };
    if (job.status === 'FAILED') {
      await this.audit.appendIn(trx, {
        workspaceId: seat.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: 'mpc.share_set_destruction_failed',
        subject: seat.share_set_id,
        details: { ...details, reason: job.reason ?? 'unknown' },
      });
      return;
    }
    const column = seat.party_index === CLOUD_1 ? 'cloud_1_destroyed_at' : 'cloud_2_destroyed_at';
    // The first confirmation stands: a re-offered session asks a cloud that confirmed again.
    const recorded = await trx
      .updateTable('share_sets')
      .set({ [column]: this.clock() })
      .where('id', '=', seat.share_set_id)
      .where(column, 'is', null)
      .executeTakeFirst();
    if (recorded.numUpdatedRows !== 1n) return;
    const result = job.result as { heldUntilNow?: unknown } | undefined;
    await this.audit.appendIn(trx, {
      workspaceId: seat.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'mpc.share_set_destroyed',
      subject: seat.share_set_id,
      details: { ...details, heldUntilNow: result?.heldUntilNow === true },
    });
  }

  /**
   * Marks the share set for destruction (and its pooled presignatures, which nothing will name
   * now, discarded), offers it to the clouds, audits the request.
   */
  private async request(
    trx: Transaction<Database>,
    shareSet: ShareSetToDestroy,
    reason: DestroyReason,
  ): Promise<string[]> {
    await trx
      .updateTable('share_sets')
      .set({ destruction_requested_at: this.clock() })
      .where('id', '=', shareSet.id)
      .execute();
    await discardPresignatures(trx, shareSet.id, ['MAKING', 'READY'], this.clock());
    const clouds = await this.offer(trx, shareSet, reason);
    await this.audit.appendIn(trx, {
      workspaceId: shareSet.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'mpc.share_set_destruction_requested',
      subject: shareSet.id,
      details: {
        algorithm: shareSet.algorithm,
        apiUserId: shareSet.api_user_id,
        cosignerId: shareSet.cosigner_id,
        reason,
      },
    });
    return clouds;
  }

  /**
   * One DESTROY session for the share set's two cloud co-signers (the ones seated 1 and 2 in the
   * session that made it: they hold its shares). Returns them.
   */
  private async offer(
    trx: Transaction<Database>,
    shareSet: ShareSetToDestroy,
    reason: DestroyReason,
  ): Promise<string[]> {
    const holders = await trx
      .selectFrom('mpc_session_parties')
      .select(['party_index as index', 'cosigner_id as cosignerId'])
      .where('session_id', '=', shareSet.session_id)
      .where('party_index', 'in', [CLOUD_1, CLOUD_2])
      .orderBy('party_index')
      .execute();
    await this.sessions.create(trx, {
      workspaceId: shareSet.workspace_id,
      apiUserId: shareSet.api_user_id,
      purpose: 'DESTROY',
      algorithm: shareSet.algorithm,
      shareSetId: shareSet.id,
      // The parties act alone; the job's threshold is the roster's size, as co-signers check.
      threshold: holders.length,
      parties: holders,
      ttlMs: DESTROY_TTL_MS,
      authorization: (sessionId, expiresAt) =>
        encodeDestroyAuthorization({
          sessionId,
          workspaceId: shareSet.workspace_id,
          apiKeyId: shareSet.api_user_id,
          cosignerId: shareSet.cosigner_id,
          shareSetId: shareSet.id,
          algorithm: shareSet.algorithm as KeyAlgorithm,
          reason,
          expiresAt,
        }),
    });
    return holders.map((h) => h.cosignerId);
  }

  /** The share set, if a cloud has not confirmed its destruction yet. */
  private async unconfirmed(
    trx: Transaction<Database>,
    shareSetId: string,
  ): Promise<ShareSetToDestroy | undefined> {
    return trx
      .selectFrom('share_sets')
      .select(SHARE_SET_COLUMNS)
      .where('id', '=', shareSetId)
      .where((eb) =>
        eb.or([eb('cloud_1_destroyed_at', 'is', null), eb('cloud_2_destroyed_at', 'is', null)]),
      )
      .executeTakeFirst();
  }
}

/** The reason an earlier DESTROY session gave: the platform's own signed bytes. */
function reasonOf(signedAuthorization: string | null): DestroyReason {
  if (signedAuthorization === null) throw new Error('DESTROY session without its authorization');
  return decodeSignedDestroyAuthorization(Buffer.from(signedAuthorization, 'base64')).authorization
    .reason;
}
