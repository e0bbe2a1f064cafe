/**
 * Transactions (ARCHITECTURE §4, §6; docs/transactions.md): a RAW request is checked, stored with
 * its messages and handed to the signing orchestrator in one database transaction, before the
 * answer — so an accepted transaction survives any crash after it. Every request is authorized
 * for the workspace's first signer until the policy engine lands.
 *
 * `Idempotency-Key`: the same key with the same body answers the transaction it created; with
 * another body, 409. Keys are per workspace and serialised with an advisory lock.
 */
import { randomUUID } from 'node:crypto';
import type {
  CreateTransactionRequest,
  CreateTransactionResponse,
  KeyAlgorithm,
  SignedMessage,
  TransactionResponse,
} from '@countersign/protocol';
import { sql, type Kysely, type Selectable } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { AssetCatalog } from '../assets/asset-catalog.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import type { Database, TransactionMessagesTable, TransactionsTable } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { MpcSessionService } from '../mpc/mpc-session-service.js';
import { parseRawRequest, RAW_ALGORITHM } from './raw-request.js';
import type { SigningOrchestrator } from './signing-orchestrator.js';
import { externalTxIdTaken, idempotencyKeyReused } from './transaction-errors.js';

export class TransactionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly signing: SigningOrchestrator,
    private readonly sessions: MpcSessionService,
    private readonly assets: AssetCatalog,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async create(
    principal: Principal,
    body: CreateTransactionRequest,
    idempotencyKey: string | undefined,
  ): Promise<CreateTransactionResponse> {
    const request = parseRawRequest(body, this.assets);
    const workspaceId = principal.workspaceId;
    const { answer, wake, afterCommit } = await this.db.transaction().execute(async (trx) => {
      if (idempotencyKey !== undefined) {
        await sql`select pg_advisory_xact_lock(hashtext(${`tx-idem:${workspaceId}:${idempotencyKey}`}))`.execute(
          trx,
        );
        const earlier = await trx
          .selectFrom('transactions')
          .select(['id', 'status', 'request_hash'])
          .where('workspace_id', '=', workspaceId)
          .where('idempotency_key', '=', idempotencyKey)
          .executeTakeFirst();
        if (earlier) {
          if (earlier.request_hash !== request.requestHash) throw idempotencyKeyReused();
          return { answer: { id: earlier.id, status: earlier.status }, wake: [] };
        }
      }
      if (body.externalTxId !== undefined) {
        await sql`select pg_advisory_xact_lock(hashtext(${`tx-ext:${workspaceId}:${body.externalTxId}`}))`.execute(
          trx,
        );
        const taken = await trx
          .selectFrom('transactions')
          .select('id')
          .where('workspace_id', '=', workspaceId)
          .where('external_tx_id', '=', body.externalTxId)
          .executeTakeFirst();
        if (taken) throw externalTxIdTaken();
      }
      const id = randomUUID();
      const now = this.clock();
      await trx
        .insertInto('transactions')
        .values({
          id,
          workspace_id: workspaceId,
          created_by: principal.id,
          operation: 'RAW',
          status: 'SUBMITTED',
          sub_status: '',
          algorithm: request.algorithm,
          asset_id: request.assetId ?? null,
          source_vault_account_id: request.vaultAccountId,
          note: body.note ?? '',
          external_tx_id: body.externalTxId ?? null,
          customer_ref_id: body.customerRefId ?? null,
          extra_parameters: JSON.stringify(body.extraParameters),
          idempotency_key: idempotencyKey ?? null,
          request_hash: request.requestHash,
          signer_api_user_id: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      const messages = request.messages.map((m, i) => ({
        transaction_id: id,
        message_index: i,
        content: m.contentHex,
        derivation_path: JSON.stringify(m.derivationPath),
        status: 'PENDING' as const,
        session_id: null,
        result: null,
      }));
      await trx.insertInto('transaction_messages').values(messages).execute();
      await this.audit.appendIn(trx, {
        workspaceId,
        actorKind: principal.kind,
        actorId: principal.id,
        action: 'transaction.created',
        subject: id,
        details: {
          operation: 'RAW',
          algorithm: request.algorithm,
          messages: request.messages.length,
        },
      });
      const { status, wake, afterCommit } = await this.signing.start(trx, {
        id,
        workspaceId,
        algorithm: request.algorithm,
        messages: messages.map((m) => ({
          content: m.content,
          derivationPath: m.derivation_path,
          attempts: 0,
        })),
      });
      return { answer: { id, status }, wake, afterCommit };
    });
    this.sessions.announce(wake);
    afterCommit?.();
    return answer;
  }

  async get(workspaceId: string, id: string): Promise<TransactionResponse> {
    return this.find(workspaceId, 'id', id);
  }

  async getByExternalId(workspaceId: string, externalTxId: string): Promise<TransactionResponse> {
    return this.find(workspaceId, 'external_tx_id', externalTxId);
  }

  private async find(
    workspaceId: string,
    column: 'id' | 'external_tx_id',
    value: string,
  ): Promise<TransactionResponse> {
    // One statement, so the messages are those of the same snapshot: clients poll this.
    const row = await this.db
      .selectFrom('transactions as t')
      .selectAll('t')
      .select((eb) =>
        jsonArrayFrom(
          eb
            .selectFrom('transaction_messages as m')
            .select(['m.message_index', 'm.content', 'm.derivation_path', 'm.status', 'm.result'])
            .whereRef('m.transaction_id', '=', 't.id'),
        ).as('messages'),
      )
      .where('t.workspace_id', '=', workspaceId)
      .where(`t.${column}`, '=', value)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('Transaction');
    // json_agg keeps no order PostgreSQL promises: the messages are put in order here.
    return toResponse(
      row,
      row.messages.sort((a, b) => a.message_index - b.message_index),
    );
  }
}

function toResponse(
  row: Selectable<TransactionsTable>,
  messages: readonly StoredMessage[],
): TransactionResponse {
  const algorithm = row.algorithm as KeyAlgorithm;
  const signed = messages.filter((m) => m.status === 'SIGNED');
  return {
    id: row.id,
    ...(row.external_tx_id === null ? {} : { externalTxId: row.external_tx_id }),
    ...(row.customer_ref_id === null ? {} : { customerRefId: row.customer_ref_id }),
    status: row.status,
    subStatus: row.sub_status,
    ...(row.sub_status_detail === null ? {} : { subStatusDetail: row.sub_status_detail }),
    operation: 'RAW',
    note: row.note,
    ...(row.asset_id === null ? {} : { assetId: row.asset_id }),
    source: { type: 'VAULT_ACCOUNT', id: row.source_vault_account_id, name: '' },
    createdAt: row.created_at.getTime(),
    lastUpdated: row.updated_at.getTime(),
    createdBy: row.created_by,
    signedBy:
      row.status === 'COMPLETED' && row.signer_api_user_id !== null ? [row.signer_api_user_id] : [],
    extraParameters: jsonOf(row.extra_parameters) as TransactionResponse['extraParameters'],
    signedMessages: signed.map((m) => signedMessage(algorithm, m)),
  };
}

/** What a transaction's answer shows of each of its messages. */
type StoredMessage = Pick<
  Selectable<TransactionMessagesTable>,
  'message_index' | 'content' | 'derivation_path' | 'status' | 'result'
>;

function jsonOf(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** Fireblocks' `SignedMessage`: ECDSA `{r, s, v, fullSig}`, EdDSA `{fullSig}`, hex. */
function signedMessage(algorithm: KeyAlgorithm, m: StoredMessage): SignedMessage {
  const result = jsonOf(m.result) as { signature: string; publicKey: string; recoveryId?: number };
  const signature =
    algorithm === 'ECDSA_SECP256K1'
      ? {
          r: result.signature.slice(0, 64),
          s: result.signature.slice(64),
          v: result.recoveryId ?? 0,
          fullSig: result.signature,
        }
      : { fullSig: result.signature };
  return {
    content: m.content,
    algorithm: RAW_ALGORITHM[algorithm],
    derivationPath: jsonOf(m.derivation_path) as number[],
    signature,
    publicKey: result.publicKey,
  };
}
