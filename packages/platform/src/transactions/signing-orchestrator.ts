/**
 * SIGN orchestration (ARCHITECTURE §4, §8): each message of a transaction is signed in its own
 * MPC session by the three parties of the signer's share set — cloud-1, cloud-2 and the signer's
 * co-signer — under a signing authorization the platform signs with its authorization key
 * (`countersign/signing-authorization/v2`). Until the policy engine lands, the signer is the
 * workspace's first available signer (share-sets.ts): each signer has its own share set of the
 * same root key, the first by KEYGEN, later ones by RESHARE.
 *
 * However a session ends, a party's DONE result whose signature verifies under the public key
 * the platform derives itself from the root key and the path signs the message: a signature
 * that exists is never thrown away because another party failed or disagreed (raw-signing
 * review M1; the failure or disagreement is audited as `transaction.signing_anomaly`). Without
 * one, a session that fails or expires is replaced by a fresh one (new sid, fresh nonces —
 * never a resumed one), at most MAX_SIGN_ATTEMPTS per message — except when a party refuses
 * because it already released a signature share for the message (SIGNATURE_MAY_EXIST): every
 * fresh session would be refused the same way, and a signature may exist, so the transaction
 * ends FAILED/SIGNATURE_MAY_EXIST at once (docs/transactions.md: do not re-sign on it).
 *
 * An ECDSA message's first session names a pooled presignature when the signer's pool has one
 * (presignature-pool.ts), so the parties run only the online round; a fresh session after a
 * failure presigns in the session instead — the pooled one may be what failed (a party that no
 * longer holds it).
 */
import { derivePublicKey } from '@countersign/mpc/derivation';
import { encodeSigningAuthorization, type KeyAlgorithm } from '@countersign/protocol';
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { jobResults, type PartyRefusal } from '../mpc/cosigner-job-service.js';
import type { MpcSessionService, SessionParty } from '../mpc/mpc-session-service.js';
import { POOLED_ALGORITHM, type PresignaturePool } from '../mpc/presignature-pool.js';
import { liveShareSets } from '../mpc/share-sets.js';
import { signatureVerifies } from './signature-check.js';

export const MAX_SIGN_ATTEMPTS = 3;

/** Why a transaction failed (its `subStatus`). */
export type SigningFailure = 'SIGNER_NOT_FOUND' | 'SIGNING_ERROR' | 'INVALID_SIGNATURE';

/**
 * Callback sub-statuses after which a fresh session may be answered otherwise (the handler was
 * busy or re-configured, the co-signer stopped, the session ran out while the handler answered
 * RETRY): retried like any failed session. Every other callback sub-status is the handler's
 * decision (or a handler that cannot be trusted to answer) and ends the transaction at once.
 */
const RETRIED_CALLBACK_FAILURES = new Set([
  'CALLBACK_HANDLER_BUSY',
  'CALLBACK_CONFIG_CHANGED',
  'CALLBACK_ABORTED',
  'CALLBACK_SESSION_DEADLINE',
]);

interface SignerShareSet {
  shareSetId: string;
  apiUserId: string;
  parties: SessionParty[];
}

interface StoredResult {
  signature: string;
  publicKey: string;
  recoveryId?: number;
}

export class SigningOrchestrator {
  constructor(
    private readonly sessions: MpcSessionService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    private readonly pool: PresignaturePool,
  ) {}

  /**
   * Starts signing a SUBMITTED transaction inside `trx`: one SIGN session per message, status
   * PENDING_SIGNATURE. Returns the co-signers to wake once `trx` commits (none if it failed).
   */
  async start(trx: Transaction<Database>, transactionId: string): Promise<string[]> {
    const tx = await trx
      .selectFrom('transactions')
      .select(['workspace_id', 'algorithm'])
      .where('id', '=', transactionId)
      .executeTakeFirstOrThrow();
    const signer = await this.signerShareSet(trx, tx.workspace_id, tx.algorithm as KeyAlgorithm);
    if (!signer) {
      await this.fail(trx, transactionId, 'SIGNER_NOT_FOUND', 'no paired signer holds a key');
      return [];
    }
    await trx
      .updateTable('transactions')
      .set({
        status: 'PENDING_SIGNATURE',
        signer_api_user_id: signer.apiUserId,
        updated_at: this.clock(),
      })
      .where('id', '=', transactionId)
      .execute();
    const messages = await trx
      .selectFrom('transaction_messages')
      .select('message_index')
      .where('transaction_id', '=', transactionId)
      .orderBy('message_index')
      .execute();
    for (const m of messages) await this.startMessage(trx, transactionId, m.message_index, signer);
    // One name per job: each wakes one of the co-signer's polls (MpcSessionService.announce).
    if (tx.algorithm === POOLED_ALGORITHM)
      await this.pool.topUp(trx, { workspaceId: tx.workspace_id, ...signer });
    return messages.flatMap(() => signer.parties.map((p) => p.cosignerId));
  }

  /** The job service's session-end handler: ignores sessions that sign no message. */
  async sessionEnded(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
    refusal?: PartyRefusal,
  ): Promise<void> {
    const message = await trx
      .selectFrom('transaction_messages as m')
      .innerJoin('transactions as t', 't.id', 'm.transaction_id')
      .select([
        'm.transaction_id',
        'm.message_index',
        'm.content',
        'm.attempts',
        't.algorithm',
        't.workspace_id',
        't.status as transaction_status',
      ])
      .where('m.session_id', '=', sessionId)
      .where('m.status', '=', 'PENDING')
      .forUpdate()
      .executeTakeFirst();
    if (!message || message.transaction_status !== 'PENDING_SIGNATURE') return;
    const { transaction_id: transactionId, message_index: index } = message;
    const algorithm = message.algorithm as KeyAlgorithm;
    const results = (await jobResults(trx, sessionId)).filter((r) => r !== null);
    const expectedKey = await this.derivedKey(trx, message.workspace_id, algorithm, sessionId);
    const content = Buffer.from(message.content, 'hex');
    // Any one verifying result will do: a party cannot forge a signature under the derived key.
    const result = results.map(parseResult).find(
      (r) =>
        r !== undefined &&
        expectedKey !== undefined &&
        r.publicKey === expectedKey &&
        signatureVerifies(algorithm, content, {
          signature: Buffer.from(r.signature, 'hex'),
          publicKey: Buffer.from(r.publicKey, 'hex'),
          recoveryId: r.recoveryId,
        }),
    );
    if (result === undefined) {
      if (status === 'DONE') {
        await this.failMessage(trx, transactionId, index, 'INVALID_SIGNATURE');
        return;
      }
      // The handler's decision is final, and so is a released share (SIGNATURE_MAY_EXIST); the
      // last attempt ends with its sub-status too.
      const final = refusal !== undefined && !RETRIED_CALLBACK_FAILURES.has(refusal.subStatus);
      if (final || message.attempts >= MAX_SIGN_ATTEMPTS) {
        await this.failMessage(trx, transactionId, index, refusal ?? 'SIGNING_ERROR');
        return;
      }
      const signer = await this.signerShareSet(trx, message.workspace_id, algorithm);
      if (!signer) await this.failMessage(trx, transactionId, index, 'SIGNER_NOT_FOUND');
      else await this.startMessage(trx, transactionId, index, signer);
      return;
    }
    const unanimous =
      status === 'DONE' &&
      results.every((r) => {
        const parsed = parseResult(r);
        return (
          parsed !== undefined &&
          parsed.signature === result.signature &&
          parsed.publicKey === result.publicKey &&
          parsed.recoveryId === result.recoveryId
        );
      });
    if (!unanimous)
      await this.audit.appendIn(trx, {
        workspaceId: message.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: 'transaction.signing_anomaly',
        subject: transactionId,
        details: {
          messageIndex: index,
          sessionId,
          sessionStatus: status,
          ...(refusal === undefined ? {} : { subStatus: refusal.subStatus }),
          doneResults: results.length,
        },
      });
    await trx
      .updateTable('transaction_messages')
      .set({ status: 'SIGNED', result: JSON.stringify(result) })
      .where('transaction_id', '=', transactionId)
      .where('message_index', '=', index)
      .execute();
    const unsigned = await trx
      .selectFrom('transaction_messages')
      .select('message_index')
      .where('transaction_id', '=', transactionId)
      .where('status', '<>', 'SIGNED')
      .executeTakeFirst();
    if (unsigned) return;
    await trx
      .updateTable('transactions')
      .set({ status: 'COMPLETED', sub_status: 'COMPLETED', updated_at: this.clock() })
      .where('id', '=', transactionId)
      .execute();
    await this.audit.appendIn(trx, {
      workspaceId: message.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'transaction.completed',
      subject: transactionId,
    });
  }

  /** A fresh SIGN session (new sid) for one message, with its signed authorization. */
  private async startMessage(
    trx: Transaction<Database>,
    transactionId: string,
    messageIndex: number,
    signer: SignerShareSet,
  ): Promise<void> {
    const row = await trx
      .selectFrom('transaction_messages as m')
      .innerJoin('transactions as t', 't.id', 'm.transaction_id')
      .select(['m.content', 'm.derivation_path', 'm.attempts', 't.algorithm', 't.workspace_id'])
      .where('m.transaction_id', '=', transactionId)
      .where('m.message_index', '=', messageIndex)
      .executeTakeFirstOrThrow();
    const algorithm = row.algorithm as KeyAlgorithm;
    const derivationPath = parsePath(row.derivation_path);
    const pooled =
      algorithm === POOLED_ALGORITHM && row.attempts === 0
        ? await this.pool.reserve(trx, signer.shareSetId)
        : undefined;
    const sessionId = await this.sessions.create(trx, {
      workspaceId: row.workspace_id,
      apiUserId: signer.apiUserId,
      purpose: 'SIGN',
      algorithm,
      shareSetId: signer.shareSetId,
      threshold: signer.parties.length,
      parties: signer.parties,
      ttlMs: this.sessionTtlMs,
      authorization: (sid, expiresAt) =>
        encodeSigningAuthorization({
          sessionId: sid,
          shareSetId: signer.shareSetId,
          algorithm,
          transactionId,
          messageIndex,
          derivationPath,
          content: Buffer.from(row.content, 'hex'),
          expiresAt,
          ...(pooled === undefined ? {} : { presignSessionId: Buffer.from(pooled, 'hex') }),
        }),
    });
    if (pooled !== undefined) await this.pool.taken(trx, pooled, sessionId);
    await trx
      .updateTable('transaction_messages')
      .set((eb) => ({ session_id: sessionId, attempts: eb('attempts', '+', 1) }))
      .where('transaction_id', '=', transactionId)
      .where('message_index', '=', messageIndex)
      .execute();
  }

  /**
   * The share set that signs: the first available signer's (share-sets.ts — the first signer's
   * by KEYGEN or a later one's by RESHARE, each the same root key), else the first live one.
   */
  private async signerShareSet(
    trx: Transaction<Database>,
    workspaceId: string,
    algorithm: KeyAlgorithm,
  ): Promise<SignerShareSet | undefined> {
    const [first] = await liveShareSets(trx, workspaceId, algorithm, this.clock(), {
      honourStops: true,
    });
    return (
      first && { shareSetId: first.shareSetId, apiUserId: first.apiUserId, parties: first.parties }
    );
  }

  /**
   * The public key the session's message must verify under, derived here from the workspace's
   * root key and the path the authorization named (the same public derivation the parties
   * apply, `@countersign/mpc/derivation`), hex.
   */
  private async derivedKey(
    trx: Transaction<Database>,
    workspaceId: string,
    algorithm: KeyAlgorithm,
    sessionId: string,
  ): Promise<string | undefined> {
    const root = await trx
      .selectFrom('root_keys')
      .select(['public_key', 'chain_code'])
      .where('workspace_id', '=', workspaceId)
      .where('algorithm', '=', algorithm)
      .executeTakeFirst();
    const message = await trx
      .selectFrom('transaction_messages')
      .select('derivation_path')
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if (!root || root.chain_code === null) return undefined;
    try {
      const { publicKey } = derivePublicKey(
        {
          curve: algorithm === 'EDDSA_ED25519' ? 'ed25519' : 'secp256k1',
          publicKey: Buffer.from(root.public_key, 'hex'),
          chainCode: Buffer.from(root.chain_code, 'hex'),
        },
        parsePath(message.derivation_path),
      );
      return Buffer.from(publicKey).toString('hex');
    } catch {
      // A root that cannot be derived from (not a point, invalid child) signs nothing.
      return undefined;
    }
  }

  /**
   * The message and its transaction end FAILED with `why`; for a refusal of the signer's Callback
   * Handler (review C1) with its sub-status and reason instead — REJECTED for
   * REJECTED_BY_CALLBACK.
   */
  private async failMessage(
    trx: Transaction<Database>,
    transactionId: string,
    messageIndex: number,
    why: SigningFailure | PartyRefusal,
  ): Promise<void> {
    await trx
      .updateTable('transaction_messages')
      .set({ status: 'FAILED' })
      .where('transaction_id', '=', transactionId)
      .where('message_index', '=', messageIndex)
      .execute();
    await this.fail(trx, transactionId, why, `message ${messageIndex}`);
  }

  /** The transaction ends FAILED (or REJECTED); sessions of its other messages finish unheeded. */
  private async fail(
    trx: Transaction<Database>,
    transactionId: string,
    why: SigningFailure | PartyRefusal,
    detail: string,
  ): Promise<void> {
    const refusal = typeof why === 'string' ? undefined : why;
    const subStatus = refusal?.subStatus ?? (why as SigningFailure);
    const rejected = subStatus === 'REJECTED_BY_CALLBACK';
    const changed = await trx
      .updateTable('transactions')
      .set({
        status: rejected ? 'REJECTED' : 'FAILED',
        sub_status: subStatus,
        sub_status_detail: refusal === undefined ? null : refusal.detail.slice(0, 1024),
        updated_at: this.clock(),
      })
      .where('id', '=', transactionId)
      .where('status', 'in', ['SUBMITTED', 'PENDING_SIGNATURE'])
      .returning('workspace_id')
      .executeTakeFirst();
    if (!changed) return;
    await this.audit.appendIn(trx, {
      workspaceId: changed.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: rejected ? 'transaction.rejected' : 'transaction.failed',
      subject: transactionId,
      details: { subStatus, detail },
    });
  }
}

function parsePath(value: unknown): number[] {
  const v = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(v) || !v.every((i) => Number.isInteger(i)))
    throw new Error('stored derivation path is not a list of integers');
  return v as number[];
}

function parseResult(value: unknown): StoredResult | undefined {
  const v = value as Partial<StoredResult> | null;
  if (v === null || typeof v !== 'object') return undefined;
  if (typeof v.signature !== 'string' || typeof v.publicKey !== 'string') return undefined;
  return {
    signature: v.signature,
    publicKey: v.publicKey,
    ...(typeof v.recoveryId === 'number' ? { recoveryId: v.recoveryId } : {}),
  };
}
