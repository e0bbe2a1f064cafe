/**
 * RESHARE orchestration (ARCHITECTURE §3 "Next signer"): every signer paired after the first gets
 * its own share set of each root key — cloud-1, cloud-2 and one existing signer's co-signer
 * re-deal the root key to {cloud-1, cloud-2, the new signer's co-signer}. The public key and
 * chain code do not change and the old share sets stay valid. The platform creates the sessions
 * with a signed roster and a signed reshare authorization (who deals which share set to whom, and
 * the Owner's approval of the pairing, which the existing signer's co-signer checks with its
 * Callback Handler) and records the new share set only if every party's report fits its role
 * (reshare-results.ts, reshare review L1) — anything else is refused and audited as
 * `mpc.reshare_key_mismatch`, naming the party.
 *
 * Idempotent like KEYGEN: `ensureForWorkspace` starts a session only for a paired signer without
 * a share set and without an open (or completed) RESHARE session, so the Owner's approval, the
 * end of a KEYGEN and a failed attempt can all call it. A failed or expired attempt is retried
 * with a fresh session (fresh sid and randomness), preferring an available existing signer not
 * tried yet, at most MAX_RESHARE_ATTEMPTS times per pairing and algorithm. Not retried:
 *
 * - a dealer's refusal (review M1: its Callback Handler's REJECT or IGNORE, or PAIRING_NOT_GUARDED)
 *   ends the pairing's attempts for both algorithms — the customer's guard is a veto, not a
 *   question to route around by asking another signer — audited `mpc.reshare_refused`;
 * - a receiver's report that does not fit blocks the pairing (a party holding the new key changed
 *   it: someone must look). Only the leaving dealer's wrong report is retried, with another dealer.
 */
import { randomUUID } from 'node:crypto';
import { encodeReshareAuthorization, type KeyAlgorithm } from '@countersign/protocol';
import { sql, type Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import type { PartyRefusal } from './cosigner-job-service.js';
import { KEYGEN_ALGORITHMS } from './keygen-orchestrator.js';
import type { MpcSessionService, SessionParty } from './mpc-session-service.js';
import { judgeReshareReports, partyReports } from './reshare-results.js';
import {
  CLOUD_1,
  CLOUD_2,
  liveShareSets,
  nextSignerIndex,
  recordShareSet,
  type LiveShareSet,
} from './share-sets.js';

export const MAX_RESHARE_ATTEMPTS = 5;
/** A session whose receivers reported another key or share set: no retry for that pairing. */
export const KEY_MISMATCH = 'parties reported another key or share set';
/** Only the leaving dealer's report was wrong: retried with another dealer, never that one. */
export const DEALER_REPORT_MISMATCH = "the dealer's report did not fit its role";
/**
 * The existing signer's co-signer refused the pairing (pairing-guard.ts on the co-signer): its
 * handler's REJECT or IGNORE, or no handler and no opt-in. Final for the pairing (review M1).
 * Callback failures that are not decisions (timeouts, unreachable, RETRY past the deadline) are
 * retried like any failure.
 */
export const DEALER_REFUSALS: ReadonlySet<string> = new Set([
  'REJECTED_BY_CALLBACK',
  'IGNORED_BY_CALLBACK',
  'PAIRING_NOT_GUARDED',
]);

/** A signer whose pairing the Owner approved. */
interface PairedSigner {
  api_user_id: string;
  cosigner_id: string;
  approval_request_id: string | null;
  updated_at: Date;
}

export class ReshareOrchestrator {
  constructor(
    private readonly sessions: MpcSessionService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
  ) {}

  /** Creates the missing RESHARE sessions of a workspace; returns the co-signers to wake. */
  async ensureForWorkspace(trx: Transaction<Database>, workspaceId: string): Promise<string[]> {
    // Serialises concurrent callers for one workspace (approval, a session's end).
    await sql`select pg_advisory_xact_lock(hashtext(${`reshare:${workspaceId}`}))`.execute(trx);
    const signers = await trx
      .selectFrom('cosigner_api_keys as k')
      .innerJoin('cosigners as c', 'c.id', 'k.cosigner_id')
      .select(['k.api_user_id', 'k.cosigner_id', 'k.approval_request_id', 'k.updated_at'])
      .where('k.workspace_id', '=', workspaceId)
      .where('k.status', '=', 'PAIRED')
      .where('c.archived', '=', false)
      .orderBy('k.seq')
      .execute();
    const wake = new Set<string>();
    for (const algorithm of KEYGEN_ALGORITHMS) {
      const root = await trx
        .selectFrom('root_keys')
        .select('algorithm')
        .where('workspace_id', '=', workspaceId)
        .where('algorithm', '=', algorithm)
        .executeTakeFirst();
      // No root key yet: KEYGEN makes the first share set; its end calls this again.
      if (!root) continue;
      const holders = await liveShareSets(trx, workspaceId, algorithm, this.clock(), {
        honourStops: false,
      });
      for (const signer of signers) {
        const has = holders.some(
          (h) => h.apiUserId === signer.api_user_id && h.cosignerId === signer.cosigner_id,
        );
        if (has) continue;
        const parties = await this.start(trx, workspaceId, algorithm, signer, holders);
        for (const id of parties) wake.add(id);
      }
    }
    return [...wake];
  }

  /** One RESHARE session for `signer`, unless one is open or done or attempts ran out. */
  private async start(
    trx: Transaction<Database>,
    workspaceId: string,
    algorithm: KeyAlgorithm,
    signer: PairedSigner,
    holders: readonly LiveShareSet[],
  ): Promise<string[]> {
    // Attempts of this pairing only (an earlier pairing of the same API user counts no more).
    const attempts = await trx
      .selectFrom('mpc_sessions')
      .select(['status', 'dealer_api_user_id', 'failure_reason', 'refusal_sub_status'])
      .where('workspace_id', '=', workspaceId)
      .where('purpose', '=', 'RESHARE')
      .where('algorithm', '=', algorithm)
      .where('api_user_id', '=', signer.api_user_id)
      .where('created_at', '>=', signer.updated_at)
      .execute();
    const blocking = (a: (typeof attempts)[number]): boolean =>
      a.status === 'OPEN' ||
      a.status === 'DONE' ||
      a.failure_reason === KEY_MISMATCH ||
      a.refusal_sub_status !== null;
    if (attempts.some(blocking)) return [];
    if (attempts.length >= MAX_RESHARE_ATTEMPTS || signer.approval_request_id === null) return [];
    // A refusal of this pairing in the other algorithm's session ends this one's attempts too.
    if (await refusedPairing(trx, workspaceId, signer)) return [];
    // A dealer whose report did not fit its role is not asked again for this pairing.
    const misreported = attempts
      .filter((a) => a.failure_reason === DEALER_REPORT_MISMATCH)
      .map((a) => a.dealer_api_user_id);
    const dealer = chooseDealer(
      holders.filter(
        (h) =>
          h.cosignerId !== signer.cosigner_id &&
          h.publicShareSet !== null &&
          !misreported.includes(h.apiUserId),
      ),
      attempts.map((a) => a.dealer_api_user_id),
    );
    // None yet (the only holder shares the new signer's co-signer, or predates 0009): no session.
    if (dealer === undefined) return [];
    const newIndex = await nextSignerIndex(trx, workspaceId, algorithm);
    const dealers = dealer.parties;
    const receivers = [
      ...dealer.parties.filter((p) => p.index === CLOUD_1 || p.index === CLOUD_2),
      { index: newIndex, cosignerId: signer.cosigner_id },
    ];
    const shareSetId = randomUUID();
    const approvalRequestId = signer.approval_request_id;
    const sessionId = await this.sessions.create(trx, {
      workspaceId,
      apiUserId: signer.api_user_id,
      purpose: 'RESHARE',
      algorithm,
      shareSetId,
      threshold: receivers.length,
      parties: [...dealers, receivers[receivers.length - 1]!],
      ttlMs: this.sessionTtlMs,
      dealerApiUserId: dealer.apiUserId,
      authorization: (sid, expiresAt) =>
        encodeReshareAuthorization({
          sessionId: sid,
          algorithm,
          oldShareSetId: dealer.shareSetId,
          newShareSetId: shareSetId,
          oldSignerId: dealer.apiUserId,
          newSignerId: signer.api_user_id,
          newCosignerId: signer.cosigner_id,
          approvalRequestId,
          dealers: dealers.map((p) => p.index),
          receivers: receivers.map((p) => p.index),
          threshold: receivers.length,
          oldShareSet: Buffer.from(dealer.publicShareSet!, 'hex'),
          expiresAt,
        }),
    });
    await this.audit.appendIn(trx, {
      workspaceId,
      actorKind: 'system',
      actorId: null,
      action: 'mpc.reshare_started',
      subject: sessionId,
      details: {
        algorithm,
        apiUserId: signer.api_user_id,
        dealerApiUserId: dealer.apiUserId,
        oldShareSetId: dealer.shareSetId,
        approvalRequestId,
        attempt: attempts.length + 1,
      },
    });
    return [...dealers.map((p) => p.cosignerId), signer.cosigner_id];
  }

  /**
   * The purposes of the sessions whose end {@link sessionEnded} acts on: it is asked about no
   * other (services.ts).
   */
  readonly endedPurposes: readonly string[] = ['KEYGEN', 'RESHARE'];

  /**
   * The job service's session-end handler: a finished KEYGEN lets waiting signers reshare; a
   * finished RESHARE records its share set; a RESHARE its dealer refused ends the pairing's
   * attempts; any other failed or expired one is retried.
   */
  async sessionEnded(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
    refusal?: PartyRefusal,
  ): Promise<void> {
    const session = await trx
      .selectFrom('mpc_sessions')
      .select(['workspace_id', 'purpose', 'status'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if (session.purpose === 'RESHARE' && status === 'DONE') {
      await this.completeSession(trx, sessionId);
      return;
    }
    if (
      session.purpose === 'RESHARE' &&
      refusal !== undefined &&
      DEALER_REFUSALS.has(refusal.subStatus)
    )
      await this.recordRefusal(trx, sessionId, refusal);
    // A KEYGEN that failed its agreement check is FAILED by now: nothing to reshare from.
    if (session.purpose === 'KEYGEN' && session.status !== 'DONE') return;
    if (session.purpose === 'KEYGEN' || session.purpose === 'RESHARE')
      await this.ensureForWorkspace(trx, session.workspace_id);
  }

  /**
   * Every party reported DONE: the new share set is recorded if every party's report fits its
   * role (reshare-results.ts). Otherwise the session fails and the parties that disagree are
   * audited by name (an alert): a receiver's wrong report blocks the pairing, a wrong report of
   * the leaving dealer alone is retried with another dealer.
   */
  async completeSession(trx: Transaction<Database>, sessionId: string): Promise<void> {
    const session = await trx
      .selectFrom('mpc_sessions')
      .select([
        'workspace_id',
        'algorithm',
        'api_user_id',
        'share_set_id',
        'dealer_api_user_id',
        'threshold',
      ])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    const root = await trx
      .selectFrom('root_keys')
      .select(['public_key', 'chain_code'])
      .where('workspace_id', '=', session.workspace_id)
      .where('algorithm', '=', session.algorithm)
      .executeTakeFirstOrThrow();
    const { newParty, receivers } = await reshareRoles(trx, sessionId);
    const verdict = judgeReshareReports(await partyReports(trx, sessionId), {
      algorithm: session.algorithm as KeyAlgorithm,
      root: { publicKey: root.public_key, chainCode: root.chain_code },
      receivers,
      threshold: session.threshold,
    });
    if (verdict.shareSet === undefined) {
      const dealerOnly =
        verdict.disagreeing.length > 0 &&
        verdict.disagreeing.every((d) => d.role === 'LEAVING_DEALER');
      await trx
        .updateTable('mpc_sessions')
        .set({
          status: 'FAILED',
          failure_reason: dealerOnly ? DEALER_REPORT_MISMATCH : KEY_MISMATCH,
        })
        .where('id', '=', sessionId)
        .execute();
      await this.audit.appendIn(trx, {
        workspaceId: session.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: 'mpc.reshare_key_mismatch',
        subject: sessionId,
        details: {
          algorithm: session.algorithm,
          apiUserId: session.api_user_id,
          dealerApiUserId: session.dealer_api_user_id,
          parties: verdict.disagreeing.map((d) => ({ ...d })),
          retried: dealerOnly,
        },
      });
      if (dealerOnly) await this.ensureForWorkspace(trx, session.workspace_id);
      return;
    }
    await recordShareSet(trx, {
      id: session.share_set_id,
      workspace_id: session.workspace_id,
      algorithm: session.algorithm,
      api_user_id: session.api_user_id,
      // The new signer took the highest index of the session (share-sets.ts nextSignerIndex).
      cosigner_id: newParty.cosignerId,
      session_id: sessionId,
      signer_index: newParty.index,
      public_share_set: verdict.shareSet,
      created_at: this.clock(),
    });
    await this.audit.appendIn(trx, {
      workspaceId: session.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'mpc.share_set_created',
      subject: sessionId,
      details: {
        algorithm: session.algorithm,
        apiUserId: session.api_user_id,
        shareSetId: session.share_set_id,
        dealerApiUserId: session.dealer_api_user_id,
      },
    });
  }

  /**
   * The dealer's co-signer refused the pairing (review M1): recorded on the session, which ends
   * the pairing's attempts (`start`), and audited `mpc.reshare_refused` naming the dealer and the
   * reason. A refusal from any other party of the session is an ordinary failure (retried): only
   * the existing signer's co-signer guards the pairing.
   */
  private async recordRefusal(
    trx: Transaction<Database>,
    sessionId: string,
    refusal: PartyRefusal,
  ): Promise<void> {
    const { dealer } = await reshareRoles(trx, sessionId);
    if (dealer?.cosignerId !== refusal.cosignerId) return;
    const reason = refusal.detail.slice(0, 500);
    const session = await trx
      .updateTable('mpc_sessions')
      .set({ refusal_sub_status: refusal.subStatus, refusal_reason: reason })
      .where('id', '=', sessionId)
      .returning(['workspace_id', 'algorithm', 'api_user_id', 'dealer_api_user_id'])
      .executeTakeFirstOrThrow();
    await this.audit.appendIn(trx, {
      workspaceId: session.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'mpc.reshare_refused',
      subject: sessionId,
      details: {
        algorithm: session.algorithm,
        apiUserId: session.api_user_id,
        dealerApiUserId: session.dealer_api_user_id,
        dealerCosignerId: refusal.cosignerId,
        subStatus: refusal.subStatus,
        reason,
      },
    });
  }
}

/**
 * The existing signer that deals: the one tried least often in this pairing's failed attempts —
 * so a retry falls back to another signer when there is one — and among those the first of
 * liveShareSets' order (available ones first).
 */
function chooseDealer(
  candidates: readonly LiveShareSet[],
  triedDealers: readonly (string | null)[],
): LiveShareSet | undefined {
  const tries = (c: LiveShareSet): number => triedDealers.filter((d) => d === c.apiUserId).length;
  let best: LiveShareSet | undefined;
  for (const c of candidates) if (best === undefined || tries(c) < tries(best)) best = c;
  return best;
}

/**
 * A RESHARE session's parties by role: cloud-1 and cloud-2 deal and receive, the existing
 * signer's co-signer deals and leaves, the new signer's co-signer (the highest index,
 * share-sets.ts nextSignerIndex) only receives.
 */
async function reshareRoles(
  trx: Transaction<Database>,
  sessionId: string,
): Promise<{ dealer: SessionParty | undefined; newParty: SessionParty; receivers: number[] }> {
  const parties = await trx
    .selectFrom('mpc_session_parties')
    .select(['party_index as index', 'cosigner_id as cosignerId'])
    .where('session_id', '=', sessionId)
    .orderBy('party_index')
    .execute();
  const newParty = parties[parties.length - 1]!;
  const dealer = parties.find(
    (p) => p.index !== CLOUD_1 && p.index !== CLOUD_2 && p.index !== newParty.index,
  );
  return { dealer, newParty, receivers: [CLOUD_1, CLOUD_2, newParty.index] };
}

/** Whether a RESHARE session of this pairing (either algorithm) was refused by its dealer. */
async function refusedPairing(
  trx: Transaction<Database>,
  workspaceId: string,
  signer: PairedSigner,
): Promise<boolean> {
  const refused = await trx
    .selectFrom('mpc_sessions')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('purpose', '=', 'RESHARE')
    .where('api_user_id', '=', signer.api_user_id)
    .where('created_at', '>=', signer.updated_at)
    .where('refusal_sub_status', 'is not', null)
    .executeTakeFirst();
  return refused !== undefined;
}
