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
 * A message's first session names a pooled entry when the signer's pool has one
 * (presignature-pool.ts): ECDSA, a presignature, so the parties run only the online round;
 * EdDSA, a FROST nonce set, so no relay round runs at all — each party reports its signature
 * share and the platform aggregates them (docs/decisions/0006). The Cloud Co-signers' jobs of
 * such an EdDSA session are held until the signer's co-signer says it will sign or has reported
 * its share: a signer that is down, refused by its Callback Handler or told to retry then holds
 * up the signing instead of leaving the clouds' shares out. A fresh
 * session after a failure presigns (ECDSA) or runs both FROST rounds (EdDSA) in the session —
 * the pooled entry may be what failed (a party that no longer holds it).
 */
import { derivePublicKey } from '@countersign/mpc/derivation';
import { isMpcError, MpcError } from '@countersign/mpc/frost-aggregate';
import { encodeSigningAuthorization, type KeyAlgorithm } from '@countersign/protocol';
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { jobResults, SIGNATURE_MAY_EXIST, type PartyRefusal } from '../mpc/cosigner-job-service.js';
import type { MpcSessionService, SessionParty } from '../mpc/mpc-session-service.js';
import { POOLED_ALGORITHMS, type PresignaturePool } from '../mpc/presignature-pool.js';
import { liveShareSets } from '../mpc/share-sets.js';
import type { PreparedAggregations } from './prepared-aggregations.js';
import { signatureVerifies } from './signature-check.js';
import { parseStoredPath } from './stored-path.js';

export const MAX_SIGN_ATTEMPTS = 3;

/** Why a transaction failed (its `subStatus`). */
export type SigningFailure =
  | 'SIGNER_NOT_FOUND'
  | 'SIGNING_ERROR'
  | 'INVALID_SIGNATURE'
  | typeof SIGNATURE_MAY_EXIST;

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

/** A SUBMITTED transaction as its creator just wrote it: what starting to sign it needs. */
export interface SubmittedTransaction {
  readonly id: string;
  readonly workspaceId: string;
  readonly algorithm: KeyAlgorithm;
  /** Its messages as written, by index. */
  readonly messages: readonly MessageToSign[];
}

/** A message as stored: what a session that signs it is authorized for. */
interface MessageToSign {
  /** Hex. */
  readonly content: string;
  /** The derivation path as stored (a JSON list of integers, or the list itself). */
  readonly derivationPath: unknown;
  /** Sessions started for it so far. */
  readonly attempts: number;
}

interface SignerShareSet {
  shareSetId: string;
  apiUserId: string;
  parties: SessionParty[];
  /** Those of the parties that are Cloud Co-signers. */
  cloudCosignerIds: string[];
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
    private readonly aggregations: PreparedAggregations,
  ) {}

  /**
   * Starts signing a SUBMITTED transaction, just written in `trx`: one SIGN session per message,
   * status PENDING_SIGNATURE — or FAILED, with no signer. Returns that status, the co-signers to
   * wake once `trx` commits (none if it failed), and for a pooled algorithm what to run then:
   * topping up the pool the signing took from ({@link PresignaturePool.topUpSoon}) and, for each
   * session that spends a FROST nonce set, preparing its aggregation (prepared-aggregations.ts).
   */
  async start(
    trx: Transaction<Database>,
    tx: SubmittedTransaction,
  ): Promise<{
    status: 'PENDING_SIGNATURE' | 'FAILED';
    wake: string[];
    afterCommit?: () => void;
  }> {
    const transactionId = tx.id;
    const signer = await this.signerShareSet(trx, tx.workspaceId, tx.algorithm);
    if (!signer) {
      await this.fail(trx, transactionId, 'SIGNER_NOT_FOUND', 'no paired signer holds a key');
      return { status: 'FAILED', wake: [] };
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
    // One name per job: each wakes one of the co-signer's polls (MpcSessionService.announce).
    const wake: string[] = [];
    const aggregated: string[] = [];
    for (const [index, message] of tx.messages.entries()) {
      const started = await this.startMessage(trx, tx, index, message, signer);
      wake.push(...started.wake);
      if (started.aggregated) aggregated.push(started.sessionId);
    }
    const { algorithm, workspaceId } = tx;
    if (!POOLED_ALGORITHMS.includes(algorithm)) return { status: 'PENDING_SIGNATURE', wake };
    return {
      status: 'PENDING_SIGNATURE',
      wake,
      afterCommit: () => {
        this.pool.topUpSoon(workspaceId, algorithm);
        for (const sessionId of aggregated) this.aggregations.prepareSoon(sessionId);
      },
    };
  }

  /**
   * The purposes of the sessions whose end {@link sessionEnded} acts on: it is asked about no
   * other (services.ts).
   */
  readonly endedPurposes: readonly string[] = ['SIGN'];

  /** The job service's session-end handler: ignores sessions that sign no message. */
  async sessionEnded(
    trx: Transaction<Database>,
    sessionId: string,
    status: 'DONE' | 'FAILED' | 'EXPIRED',
    refusal?: PartyRefusal,
  ): Promise<void> {
    try {
      await this.settle(trx, sessionId, status, refusal);
    } finally {
      // However it ended, the session's prepared aggregation is of no further use.
      this.aggregations.forget(sessionId);
    }
  }

  /** {@link sessionEnded}'s work: the message signed, retried or failed. */
  private async settle(
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
        'm.derivation_path',
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
    const content = Buffer.from(message.content, 'hex');
    const path = message.derivation_path;
    // A session that spent a pooled FROST nonce set: its parties reported shares, aggregated here.
    const commitments =
      status === 'DONE' && algorithm === 'EDDSA_ED25519'
        ? await this.pool.commitments(trx, sessionId)
        : undefined;
    let results: unknown[];
    if (commitments === undefined)
      results = (await jobResults(trx, sessionId)).filter((r) => r !== null);
    else {
      const aggregated = await this.aggregated(trx, sessionId, transactionId, {
        workspaceId: message.workspace_id,
        content: message.content,
        path,
        commitments,
      });
      if (aggregated === undefined) {
        // Every party released its share and they make no signature; a party may hold the one
        // it did not send. Every fresh session would be refused (SIGNATURE_MAY_EXIST) anyway.
        await this.failMessage(trx, transactionId, index, SIGNATURE_MAY_EXIST);
        return;
      }
      // Every signer's share went into it (aggregation takes one from each, or fails): the
      // aggregate is the session's one signature, and shares are no disagreement to audit.
      results = [aggregated];
    }
    const expectedKey = await this.derivedKey(trx, message.workspace_id, algorithm, path);
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
      else
        await this.startMessage(
          trx,
          { id: transactionId, workspaceId: message.workspace_id, algorithm },
          index,
          { content: message.content, derivationPath: path, attempts: message.attempts },
          signer,
        );
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
    // COMPLETED once its last message is signed.
    const completed = await trx
      .updateTable('transactions')
      .set({ status: 'COMPLETED', sub_status: 'COMPLETED', updated_at: this.clock() })
      .where('id', '=', transactionId)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('transaction_messages')
              .select('message_index')
              .where('transaction_id', '=', transactionId)
              .where('status', '<>', 'SIGNED'),
          ),
        ),
      )
      .executeTakeFirst();
    if (completed.numUpdatedRows === 0n) return;
    await this.audit.appendIn(trx, {
      workspaceId: message.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'transaction.completed',
      subject: transactionId,
    });
  }

  /**
   * The signature a pooled EdDSA session's shares (each party's `{signatureShare}`) aggregate to
   * under the commitment list of the nonce set it spent — a result no party reported itself, then
   * verified like any other. Undefined when they make no valid signature (a party's share is
   * wrong, or the commitments are not the parties'): audited, with the party at fault.
   */
  private async aggregated(
    trx: Transaction<Database>,
    sessionId: string,
    transactionId: string,
    signing: {
      workspaceId: string;
      /** The message, hex, as stored. */
      content: string;
      /** The message's derivation path, as stored. */
      path: unknown;
      /** The spent nonce set's commitment list, hex. */
      commitments: string;
    },
  ): Promise<StoredResult | undefined> {
    const jobs = await trx
      .selectFrom('cosigner_jobs as j')
      .innerJoin('mpc_session_parties as p', (join) =>
        join
          .onRef('p.session_id', '=', 'j.session_id')
          .onRef('p.cosigner_id', '=', 'j.cosigner_id'),
      )
      .select(['p.party_index', 'j.result'])
      .where('j.session_id', '=', sessionId)
      .execute();
    const shares = new Map<number, Uint8Array>();
    for (const j of jobs) {
      const share = (j.result as { signatureShare?: unknown } | null)?.signatureShare;
      if (typeof share === 'string') shares.set(j.party_index, Buffer.from(share, 'hex'));
    }
    const session = await trx
      .selectFrom('mpc_sessions as s')
      .innerJoin('share_sets as ss', 'ss.id', 's.share_set_id')
      .select('ss.public_share_set')
      .where('s.id', '=', sessionId)
      .executeTakeFirstOrThrow();
    try {
      if (session.public_share_set === null)
        throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'no public share set recorded' });
      const { signature, publicKey } = this.aggregations
        .take(sessionId, {
          publicShareSet: session.public_share_set,
          commitments: signing.commitments,
          content: signing.content,
          path: signing.path,
        })
        .aggregator.aggregate(shares);
      return {
        signature: Buffer.from(signature).toString('hex'),
        publicKey: Buffer.from(publicKey).toString('hex'),
      };
    } catch (error) {
      if (!isMpcError(error)) throw error;
      await this.audit.appendIn(trx, {
        workspaceId: signing.workspaceId,
        actorKind: 'system',
        actorId: null,
        action: 'transaction.signing_anomaly',
        subject: transactionId,
        details: {
          sessionId,
          aggregation: error.code,
          ...(error.culprit === undefined ? {} : { partyIndex: error.culprit }),
        },
      });
      return undefined;
    }
  }

  /**
   * A fresh SIGN session (new sid) for one message, with its signed authorization. Returns the
   * session, the co-signers to wake once the transaction commits (not those whose jobs are held),
   * and whether the platform aggregates its shares (it spends a pooled FROST nonce set).
   */
  private async startMessage(
    trx: Transaction<Database>,
    tx: Pick<SubmittedTransaction, 'id' | 'workspaceId' | 'algorithm'>,
    messageIndex: number,
    message: MessageToSign,
    signer: SignerShareSet,
  ): Promise<{ sessionId: string; wake: string[]; aggregated: boolean }> {
    const { id: transactionId, algorithm } = tx;
    const derivationPath = parseStoredPath(message.derivationPath);
    const pooled =
      POOLED_ALGORITHMS.includes(algorithm) && message.attempts === 0
        ? await this.pool.reserve(trx, signer.shareSetId)
        : undefined;
    const held = pooled !== undefined && algorithm === 'EDDSA_ED25519' ? heldBack(signer) : [];
    const sessionId = await this.sessions.create(trx, {
      workspaceId: tx.workspaceId,
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
          content: Buffer.from(message.content, 'hex'),
          expiresAt,
          ...(pooled === undefined ? {} : { presignSessionId: Buffer.from(pooled, 'hex') }),
        }),
      heldParties: held,
    });
    if (pooled !== undefined) await this.pool.taken(trx, pooled, sessionId);
    await trx
      .updateTable('transaction_messages')
      .set((eb) => ({ session_id: sessionId, attempts: eb('attempts', '+', 1) }))
      .where('transaction_id', '=', transactionId)
      .where('message_index', '=', messageIndex)
      .execute();
    return {
      sessionId,
      wake: signer.parties.map((p) => p.cosignerId).filter((id) => !held.includes(id)),
      aggregated: pooled !== undefined && algorithm === 'EDDSA_ED25519',
    };
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
      first && {
        shareSetId: first.shareSetId,
        apiUserId: first.apiUserId,
        parties: first.parties,
        cloudCosignerIds: first.cloudCosignerIds,
      }
    );
  }

  /**
   * The public key the session's message must verify under, derived here from the workspace's
   * root key and the message's derivation path as stored (the path the authorization named; the
   * same public derivation the parties apply, `@countersign/mpc/derivation`), hex.
   */
  private async derivedKey(
    trx: Transaction<Database>,
    workspaceId: string,
    algorithm: KeyAlgorithm,
    path: unknown,
  ): Promise<string | undefined> {
    const root = await trx
      .selectFrom('root_keys')
      .select(['public_key', 'chain_code'])
      .where('workspace_id', '=', workspaceId)
      .where('algorithm', '=', algorithm)
      .executeTakeFirst();
    if (!root || root.chain_code === null) return undefined;
    try {
      const { publicKey } = derivePublicKey(
        {
          curve: algorithm === 'EDDSA_ED25519' ? 'ed25519' : 'secp256k1',
          publicKey: Buffer.from(root.public_key, 'hex'),
          chainCode: Buffer.from(root.chain_code, 'hex'),
        },
        parseStoredPath(path),
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

/** The signer's parties that are Cloud Co-signers: they release their shares last. */
function heldBack(signer: SignerShareSet): string[] {
  // Someone must go first: a share set of clouds only (none today) holds nobody back.
  return signer.cloudCosignerIds.length === signer.parties.length
    ? []
    : [...signer.cloudCosignerIds];
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
