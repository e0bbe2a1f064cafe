/**
 * MPC relay (ARCHITECTURE §5): jobs leased to co-signers, MPC sessions with
 * their signed rosters, relayed messages, and the root keys KEYGEN makes.
 * Cloud co-signers belong to the operator: no workspace, a slot (1 or 2).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Cloud co-signers belong to no workspace; API co-signers always to one.
  await sql`alter table cosigners alter column workspace_id drop not null`.execute(db);
  await db.schema
    .alterTable('cosigners')
    .addColumn('cloud_slot', 'integer', (c) => c.unique().check(sql`cloud_slot in (1, 2)`))
    .execute();
  await sql`
    alter table cosigners add constraint cosigners_cloud_shape check (
      (mode = 'CLOUD' and workspace_id is null and cloud_slot is not null)
      or (mode = 'API' and workspace_id is not null and cloud_slot is null))`.execute(db);

  // Single-use tokens the operator mints to register a cloud co-signer (hash only).
  await db.schema
    .createTable('cloud_pairing_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('cloud_slot', 'integer', (c) => c.notNull().check(sql`cloud_slot in (1, 2)`))
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('used_by_cosigner_id', 'uuid')
    .execute();

  await db.schema
    .createTable('mpc_sessions')
    // 32 random bytes, hex: also the MPC sid and the roster's sessionId.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('api_user_id', 'uuid', (c) => c.notNull().references('api_users.id'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('share_set_id', 'text', (c) => c.notNull())
    .addColumn('threshold', 'integer', (c) => c.notNull())
    .addColumn('signed_roster', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('OPEN', 'DONE', 'FAILED', 'EXPIRED')`),
    )
    .addColumn('failure_reason', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mpc_sessions_open_expiry')
    .on('mpc_sessions')
    .columns(['status', 'expires_at'])
    .execute();

  await db.schema
    .createTable('mpc_session_parties')
    .addColumn('session_id', 'text', (c) => c.notNull().references('mpc_sessions.id'))
    .addColumn('party_index', 'integer', (c) => c.notNull())
    .addColumn('cosigner_id', 'uuid', (c) => c.notNull().references('cosigners.id'))
    .addPrimaryKeyConstraint('mpc_session_parties_pk', ['session_id', 'party_index'])
    .addUniqueConstraint('mpc_session_parties_one_seat', ['session_id', 'cosigner_id'])
    .execute();

  await db.schema
    .createTable('mpc_messages')
    .addColumn('seq', 'bigserial', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('mpc_sessions.id'))
    .addColumn('from_index', 'integer', (c) => c.notNull())
    // null: broadcast
    .addColumn('to_index', 'integer')
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('payload', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mpc_messages_session_seq')
    .on('mpc_messages')
    .columns(['session_id', 'seq'])
    .execute();

  await db.schema
    .createTable('cosigner_jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('cosigner_id', 'uuid', (c) => c.notNull().references('cosigners.id'))
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('KEYGEN')`))
    .addColumn('session_id', 'text', (c) => c.notNull().references('mpc_sessions.id'))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('PENDING', 'LEASED', 'DONE', 'FAILED')`),
    )
    .addColumn('lease_id', 'uuid')
    .addColumn('lease_expires_at', 'timestamptz')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('result', 'jsonb')
    .addColumn('failure_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('cosigner_jobs_one_per_party', ['session_id', 'cosigner_id'])
    .execute();
  await db.schema
    .createIndex('cosigner_jobs_cosigner_status')
    .on('cosigner_jobs')
    .columns(['cosigner_id', 'status', 'created_at'])
    .execute();

  // One root key per workspace and algorithm (ARCHITECTURE §3), fixed at DKG.
  await db.schema
    .createTable('root_keys')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('chain_code', 'text')
    .addColumn('session_id', 'text', (c) => c.notNull().references('mpc_sessions.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('root_keys_pk', ['workspace_id', 'algorithm'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'root_keys',
    'cosigner_jobs',
    'mpc_messages',
    'mpc_session_parties',
    'mpc_sessions',
    'cloud_pairing_tokens',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  await sql`alter table cosigners drop constraint cosigners_cloud_shape`.execute(db);
  await db.schema.alterTable('cosigners').dropColumn('cloud_slot').execute();
}
