/**
 * Transactions (ARCHITECTURE §4, §6): RAW signing requests, their messages and the SIGN sessions
 * that sign them. A SIGN session carries the platform-signed signing authorization next to its
 * roster; its jobs are of type SIGN.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN', 'SIGN'))`.execute(db);
  // base64 of `authorization ‖ signature` (countersign/signing-authorization/v1); SIGN only.
  await db.schema.alterTable('mpc_sessions').addColumn('signed_authorization', 'text').execute();

  await db.schema
    .createTable('transactions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('created_by', 'uuid', (c) => c.notNull().references('api_users.id'))
    .addColumn('operation', 'text', (c) => c.notNull().check(sql`operation in ('RAW')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('SUBMITTED', 'PENDING_SIGNATURE', 'COMPLETED', 'FAILED')`),
    )
    .addColumn('sub_status', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('asset_id', 'text')
    .addColumn('source_vault_account_id', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('external_tx_id', 'text')
    .addColumn('customer_ref_id', 'text')
    // The request as accepted (extraParameters), echoed on reads.
    .addColumn('extra_parameters', 'jsonb', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    // SHA-256 of the canonical request: the same key with another body is refused.
    .addColumn('request_hash', 'text', (c) => c.notNull())
    // The API user whose share set signs (the first available signer until policies land).
    .addColumn('signer_api_user_id', 'uuid', (c) => c.references('api_users.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create unique index transactions_idempotency_key
    on transactions (workspace_id, idempotency_key) where idempotency_key is not null`.execute(db);
  await sql`create unique index transactions_external_tx_id
    on transactions (workspace_id, external_tx_id) where external_tx_id is not null`.execute(db);

  await db.schema
    .createTable('transaction_messages')
    .addColumn('transaction_id', 'uuid', (c) => c.notNull().references('transactions.id'))
    .addColumn('message_index', 'integer', (c) => c.notNull())
    // Hex, as requested (lowercase).
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('derivation_path', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('PENDING', 'SIGNED', 'FAILED')`),
    )
    // The current SIGN session; a failed one is replaced by a fresh one (new sid).
    .addColumn('session_id', 'text', (c) => c.references('mpc_sessions.id'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // The verified result: {signature, publicKey, recoveryId?}.
    .addColumn('result', 'jsonb')
    .addPrimaryKeyConstraint('transaction_messages_pk', ['transaction_id', 'message_index'])
    .execute();
  await db.schema
    .createIndex('transaction_messages_session')
    .on('transaction_messages')
    .column('session_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('transaction_messages').execute();
  await db.schema.dropTable('transactions').execute();
  await db.schema.alterTable('mpc_sessions').dropColumn('signed_authorization').execute();
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN'))`.execute(db);
}
