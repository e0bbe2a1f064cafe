/**
 * RESHARE orchestration (ARCHITECTURE §3 "Next signer"): every signer paired after the first gets
 * its own share set of each root key — cloud-1, cloud-2 and one existing signer's co-signer
 * re-deal the root key to {cloud-1, cloud-2, the new signer's co-signer}. The public key and
 * chain code do not change and the old share sets stay valid. The platform creates the sessions
 * with a signed roster and a signed reshare authorization (who deals which share set to whom, and
 * the Owner's approval of the pairing, which the existing signer's co-signer checks with its
 * Callback Handler) and records the new share set only if every party reports the root key
 * unchanged — anything else is refused and audited as `mpc.reshare_key_mismatch`.
 *
 * Idempotent like KEYGEN: `ensureForWorkspace` starts a session only for a paired signer without
 * a share set and without an open (or completed) RESHARE session, so the Owner's approval, the
 * end of a KEYGEN and a failed attempt can all call it. A failed or expired attempt is retried
 * with a fresh session (fresh sid and randomness), preferring an available existing signer not
 * tried yet, at most MAX_RESHARE_ATTEMPTS times per pairing and algorithm.
 */
import { randomUUID } from 'node:crypto';
import { encodeReshareAuthorization, type KeyAlgorithm } from '@countersign/protocol';
import { sql, type Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { jobResults } from './cosigner-job-service.js';
import { KEYGEN_ALGORITHMS, parseKeygenResult } from './keygen-orchestrator.js';
import type { MpcSessionService } from './mpc-session-service.js';
import {
  CLOUD_1,
  CLOUD_2,
  liveShareSets,
  nextSignerIndex,
  recordShareSet,
  type LiveShareSet,
} from './share-sets.js';

export const MAX_RESHARE_ATTEMPTS = 5;
/** A session whose parties changed the key: no automatic retry for that pairing. */
const KEY_MISMATCH = 'parties reported another key or share set';

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
      const holders = await liveShareSets(trx, workspaceId, algorithm, this.clock());
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
      .select(['status', 'dealer_api_user_id', 'failure_reason'])
      .where('workspace_id', '=', workspaceId)
      .where('purpose', '=', 'RESHARE')
      .where('algorithm', '=', algorithm)
      .where('api_user_id', '=', signer.api_user_id)
      .where('created_at', '>=', signer.updated_at)
      .execute();
    const blocking = (a: (typeof attempts)[number]): boolean =>
      a.status === 'OPEN' || a.status === 'DONE' || a.failure_reason === KEY_MISMATCH;
    if (attempts.some(blocking)) return [];
    if (attempts.length >= MAX_RESHARE_ATTEMPTS || signer.approval_request_id === null) return [];
    const dealer = chooseDealer(
      holders.filter((h) => h.cosignerId !== signer.cosigner_id && h.publicShareSet !== null),
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
   * The job service's session-end handler: a finished KEYGEN lets waiting signers reshare; a
   * finished RESHARE records its share set; a failed or expired one is retried.
   */
  async sessionEnded(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
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
    // A KEYGEN that failed its agreement check is FAILED by now: nothing to reshare from.
    if (session.purpose === 'KEYGEN' && session.status !== 'DONE') return;
    if (session.purpose === 'KEYGEN' || session.purpose === 'RESHARE')
      await this.ensureForWorkspace(trx, session.workspace_id);
  }

  /**
   * Every party reported DONE: the new share set is recorded if every party reports the root
   * key's public key and chain code, and the receivers one public share set. Anything else means
   * a broken or malicious party: the session fails and the mismatch is audited (an alert, not
   * retried: a party that changes the key must be looked at).
   */
  async completeSession(trx: Transaction<Database>, sessionId: string): Promise<void> {
    const session = await trx
      .selectFrom('mpc_sessions')
      .select(['workspace_id', 'algorithm', 'api_user_id', 'share_set_id', 'dealer_api_user_id'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    const root = await trx
      .selectFrom('root_keys')
      .select(['public_key', 'chain_code'])
      .where('workspace_id', '=', session.workspace_id)
      .where('algorithm', '=', session.algorithm)
      .executeTakeFirstOrThrow();
    const results = (await jobResults(trx, sessionId)).map(parseKeygenResult);
    const sameKey = results.every(
      (r) => r !== undefined && r.publicKey === root.public_key && r.chainCode === root.chain_code,
    );
    const shareSets = [...new Set(results.map((r) => r?.shareSet).filter((s) => s !== undefined))];
    // The dealer that leaves reports no share set; every receiver reports the same one.
    const receiversAgree =
      shareSets.length === 1 && results.filter((r) => r?.shareSet !== undefined).length === 3;
    const newParty = await trx
      .selectFrom('mpc_session_parties')
      .select(['party_index', 'cosigner_id'])
      .where('session_id', '=', sessionId)
      .orderBy('party_index', 'desc')
      .executeTakeFirstOrThrow();
    if (!sameKey || !receiversAgree) {
      await trx
        .updateTable('mpc_sessions')
        .set({ status: 'FAILED', failure_reason: KEY_MISMATCH })
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
          sameKey,
          receiversAgree,
        },
      });
      return;
    }
    await recordShareSet(trx, {
      id: session.share_set_id,
      workspace_id: session.workspace_id,
      algorithm: session.algorithm,
      api_user_id: session.api_user_id,
      // The new signer took the highest index of the session (share-sets.ts nextSignerIndex).
      cosigner_id: newParty.cosigner_id,
      session_id: sessionId,
      signer_index: newParty.party_index,
      public_share_set: shareSets[0]!,
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
