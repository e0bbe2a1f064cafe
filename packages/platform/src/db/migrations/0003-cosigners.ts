/**
 * Co-signers, their paired API keys, pairing tokens and the co-signer token
 * families (rotating refresh tokens, short-lived access tokens), plus the
 * platform's own secrets. Tokens are stored only as SHA-256 hashes.
 *
 * Shaped for what follows pairing: a co-signer's identity keys feed the MPC
 * session rosters; `mode` tells API from cloud co-signers; a pairing row is
 * what a share set will reference.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Secrets the platform generates for itself (the pairing-token HMAC key),
  // shared by every instance on one database.
  await db.schema
    .createTable('platform_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('secret_hex', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('cosigners')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // Listing order only; never shown (it would count other tenants' co-signers).
    .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
    // The workspace whose pairing registered it; API users of other workspaces may pair later.
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('API', 'CLOUD')`))
    .addColumn('identity_ed25519', 'text', (c) => c.notNull().unique())
    .addColumn('identity_x25519', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('archived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_seen_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // One row per pairing of an API user to a co-signer; rows are kept after
  // rejection or unpairing, so history and approval requests stay linked.
  await db.schema
    .createTable('cosigner_api_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
    .addColumn('cosigner_id', 'uuid', (c) => c.notNull().references('cosigners.id'))
    .addColumn('api_user_id', 'uuid', (c) => c.notNull().references('api_users.id'))
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('WAITING_FOR_APPROVAL', 'PAIRED', 'REJECTED', 'UNPAIRED')`),
    )
    .addColumn('approval_request_id', 'uuid', (c) => c.references('approval_requests.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // An API user has one share set, so at most one live pairing; the database enforces it.
  await sql`
    create unique index cosigner_api_keys_one_live_pairing on cosigner_api_keys (api_user_id)
    where status in ('WAITING_FOR_APPROVAL', 'PAIRED')`.execute(db);
  await db.schema
    .createIndex('cosigner_api_keys_cosigner_seq')
    .on('cosigner_api_keys')
    .columns(['cosigner_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('cosigner_api_keys_workspace')
    .on('cosigner_api_keys')
    .columns(['workspace_id', 'cosigner_id'])
    .execute();

  await db.schema
    .createTable('pairing_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('api_user_id', 'uuid', (c) => c.notNull().references('api_users.id'))
    .addColumn('issued_by_kind', 'text', (c) => c.notNull())
    .addColumn('issued_by_id', 'uuid', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('used_by_cosigner_id', 'uuid')
    .execute();

  await db.schema
    .createTable('cosigner_token_families')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('cosigner_id', 'uuid', (c) => c.notNull().references('cosigners.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text')
    .execute();

  await db.schema
    .createTable('cosigner_refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'uuid', (c) => c.notNull().references('cosigner_token_families.id'))
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('rotated_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('cosigner_access_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'uuid', (c) => c.notNull().references('cosigner_token_families.id'))
    .addColumn('cosigner_id', 'uuid', (c) => c.notNull().references('cosigners.id'))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('cosigner_access_tokens_expires_at')
    .on('cosigner_access_tokens')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'cosigner_access_tokens',
    'cosigner_refresh_tokens',
    'cosigner_token_families',
    'pairing_tokens',
    'cosigner_api_keys',
    'cosigners',
    'platform_secrets',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
