/**
 * KEYGEN orchestration (ARCHITECTURE §3): a workspace's first paired signer gets one root key per
 * algorithm by DKG among {cloud-1, cloud-2, the signer's co-signer}, 3-of-3 — FROST for
 * EDDSA_ED25519, DKLs23 for ECDSA_SECP256K1. The platform only creates the sessions and jobs and
 * records the public keys the parties agree on; it never sees a share.
 *
 * Idempotent: `ensureForWorkspace` creates a session only for an algorithm with no root key and
 * no open KEYGEN session, so pairing, a cloud co-signer's registration and a failed attempt can
 * all call it. A failed or expired attempt is retried with a fresh session (fresh sid, fresh
 * randomness — never a resumed one), at most MAX_KEYGEN_ATTEMPTS times.
 */
import { randomUUID } from 'node:crypto';
import type { KeyAlgorithm, KeygenResult } from '@countersign/protocol';
import { sql, type Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { jobResults } from './cosigner-job-service.js';
import type { MpcSessionService } from './mpc-session-service.js';
import { CLOUD_1, CLOUD_2, FIRST_SIGNER, recordShareSet } from './share-sets.js';

export const KEYGEN_ALGORITHMS: readonly KeyAlgorithm[] = ['EDDSA_ED25519', 'ECDSA_SECP256K1'];
export const MAX_KEYGEN_ATTEMPTS = 5;

export class KeygenOrchestrator {
  constructor(
    private readonly sessions: MpcSessionService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
  ) {}

  /** Creates the missing KEYGEN sessions of a workspace; returns the co-signers to wake. */
  async ensureForWorkspace(trx: Transaction<Database>, workspaceId: string): Promise<string[]> {
    // Serialises concurrent callers for one workspace (pairing and a cloud registration).
    await sql`select pg_advisory_xact_lock(hashtext(${`keygen:${workspaceId}`}))`.execute(trx);
    const clouds = await trx
      .selectFrom('cosigners')
      .select(['id', 'cloud_slot'])
      .where('mode', '=', 'CLOUD')
      .where('archived', '=', false)
      .execute();
    const cloud1 = clouds.find((c) => c.cloud_slot === 1)?.id;
    const cloud2 = clouds.find((c) => c.cloud_slot === 2)?.id;
    if (cloud1 === undefined || cloud2 === undefined) return [];
    const signer = await trx
      .selectFrom('cosigner_api_keys as k')
      .innerJoin('cosigners as c', 'c.id', 'k.cosigner_id')
      .select(['k.api_user_id', 'k.cosigner_id'])
      .where('k.workspace_id', '=', workspaceId)
      .where('k.status', '=', 'PAIRED')
      .where('c.archived', '=', false)
      .orderBy('k.seq')
      .limit(1)
      .executeTakeFirst();
    if (!signer) return [];
    const parties = [
      { index: CLOUD_1, cosignerId: cloud1 },
      { index: CLOUD_2, cosignerId: cloud2 },
      { index: FIRST_SIGNER, cosignerId: signer.cosigner_id },
    ];
    const created: string[] = [];
    for (const algorithm of KEYGEN_ALGORITHMS) {
      const root = await trx
        .selectFrom('root_keys')
        .select('algorithm')
        .where('workspace_id', '=', workspaceId)
        .where('algorithm', '=', algorithm)
        .executeTakeFirst();
      if (root) continue;
      const attempts = await trx
        .selectFrom('mpc_sessions')
        .select(['status'])
        .where('workspace_id', '=', workspaceId)
        .where('purpose', '=', 'KEYGEN')
        .where('algorithm', '=', algorithm)
        .execute();
      if (attempts.some((a) => a.status === 'OPEN' || a.status === 'DONE')) continue;
      if (attempts.length >= MAX_KEYGEN_ATTEMPTS) continue;
      const sessionId = await this.sessions.create(trx, {
        workspaceId,
        apiUserId: signer.api_user_id,
        purpose: 'KEYGEN',
        algorithm,
        // One share set per attempt: a party that stored shares of a failed attempt keeps
        // them under another id, never mixed with the next attempt's.
        shareSetId: randomUUID(),
        threshold: parties.length,
        parties,
        ttlMs: this.sessionTtlMs,
      });
      await this.audit.appendIn(trx, {
        workspaceId,
        actorKind: 'system',
        actorId: null,
        action: 'mpc.keygen_started',
        subject: sessionId,
        details: { algorithm, apiUserId: signer.api_user_id, attempt: attempts.length + 1 },
      });
      created.push(sessionId);
    }
    return created.length === 0 ? [] : parties.map((p) => p.cosignerId);
  }

  /**
   * The purposes of the sessions whose end {@link sessionEnded} acts on: it is asked about no
   * other (services.ts).
   */
  readonly endedPurposes: readonly string[] = ['KEYGEN'];

  /** The job service's session-end handler. */
  async sessionEnded(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
  ): Promise<void> {
    if (status === 'DONE') {
      await this.completeSession(trx, sessionId);
      return;
    }
    const session = await trx
      .selectFrom('mpc_sessions')
      .select(['workspace_id', 'purpose'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if (session.purpose === 'KEYGEN') await this.ensureForWorkspace(trx, session.workspace_id);
  }

  /**
   * Every party reported DONE: the root key is recorded if all report the same public key and
   * chain code. Parties that disagree mean a broken or malicious party: the session fails.
   */
  async completeSession(trx: Transaction<Database>, sessionId: string): Promise<void> {
    const session = await trx
      .selectFrom('mpc_sessions')
      .select(['workspace_id', 'purpose', 'algorithm', 'api_user_id', 'share_set_id'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if (session.purpose !== 'KEYGEN') return;
    const results = (await jobResults(trx, sessionId)).map(parseKeygenResult);
    const first = results[0];
    const agree =
      first !== undefined &&
      results.every(
        (r) =>
          r !== undefined &&
          r.publicKey === first.publicKey &&
          r.chainCode === first.chainCode &&
          r.shareSet === first.shareSet,
      );
    if (!agree) {
      await trx
        .updateTable('mpc_sessions')
        .set({ status: 'FAILED', failure_reason: 'parties reported different public keys' })
        .where('id', '=', sessionId)
        .execute();
      await this.audit.appendIn(trx, {
        workspaceId: session.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: 'mpc.keygen_disagreement',
        subject: sessionId,
        details: { algorithm: session.algorithm },
      });
      return;
    }
    await trx
      .insertInto('root_keys')
      .values({
        workspace_id: session.workspace_id,
        algorithm: session.algorithm,
        public_key: first.publicKey,
        chain_code: first.chainCode ?? null,
        session_id: sessionId,
        created_at: this.clock(),
      })
      .onConflict((oc) => oc.columns(['workspace_id', 'algorithm']).doNothing())
      .execute();
    const signer = await trx
      .selectFrom('mpc_session_parties')
      .select('cosigner_id')
      .where('session_id', '=', sessionId)
      .where('party_index', '=', FIRST_SIGNER)
      .executeTakeFirstOrThrow();
    await recordShareSet(trx, {
      id: session.share_set_id,
      workspace_id: session.workspace_id,
      algorithm: session.algorithm,
      api_user_id: session.api_user_id,
      cosigner_id: signer.cosigner_id,
      session_id: sessionId,
      signer_index: FIRST_SIGNER,
      public_share_set: first.shareSet ?? null,
      created_at: this.clock(),
    });
    await this.audit.appendIn(trx, {
      workspaceId: session.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'mpc.root_key_created',
      subject: sessionId,
      details: { algorithm: session.algorithm, publicKey: first.publicKey },
    });
  }
}

/** A KEYGEN or RESHARE job's reported result (validated by the route's schema), or undefined. */
export function parseKeygenResult(value: unknown): KeygenResult | undefined {
  const v = value as Partial<KeygenResult> | null;
  if (v === null || typeof v !== 'object' || typeof v.publicKey !== 'string') return undefined;
  return {
    publicKey: v.publicKey,
    ...(typeof v.chainCode === 'string' ? { chainCode: v.chainCode } : {}),
    ...(typeof v.shareSet === 'string' ? { shareSet: v.shareSet } : {}),
  };
}
