/**
 * Workspaces, console users, API users, approval requests, the audit log and
 * the request-nonce store. Migrations import nothing but Kysely: they must
 * keep working when application code changes.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('admin_quorum', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`admin_quorum >= 1`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('console_users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('console_users_email_unique', ['workspace_id', 'email'])
    .execute();

  await db.schema
    .createTable('approval_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('required_approvals', 'integer', (c) => c.notNull())
    .addColumn('created_by_kind', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('decided_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('approval_requests_workspace_status')
    .on('approval_requests')
    .columns(['workspace_id', 'status', 'created_at'])
    .execute();

  await db.schema
    .createTable('approval_votes')
    .addColumn('approval_request_id', 'uuid', (c) => c.notNull().references('approval_requests.id'))
    .addColumn('voter_kind', 'text', (c) => c.notNull())
    .addColumn('voter_id', 'uuid', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('approval_votes_pk', ['approval_request_id', 'voter_kind', 'voter_id'])
    .execute();

  await db.schema
    .createTable('api_users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addColumn('public_key_pem', 'text', (c) => c.notNull())
    .addColumn('csr_subject', 'text', (c) => c.notNull())
    .addColumn('csr_pem', 'text', (c) => c.notNull())
    .addColumn('ip_allowlist', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('cosigner_setup_type', 'text')
    .addColumn('cosigner_setup_is_first_user', 'boolean')
    .addColumn('approval_request_id', 'uuid', (c) => c.references('approval_requests.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('api_users_name_unique', ['workspace_id', 'name'])
    .execute();

  // Append-only: the application only inserts; each row's hash covers the
  // previous row's hash, so an edit or deletion breaks the chain visibly.
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', 'bigserial', (c) => c.primaryKey())
    .addColumn('id', 'uuid', (c) => c.notNull().unique())
    .addColumn('workspace_id', 'uuid')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_log_workspace_seq')
    .on('audit_log')
    .columns(['workspace_id', 'seq'])
    .execute();

  // One row per accepted request nonce until its JWT could no longer be valid.
  await db.schema
    .createTable('request_nonces')
    .addColumn('api_user_id', 'uuid', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('request_nonces_pk', ['api_user_id', 'nonce'])
    .execute();
  await db.schema
    .createIndex('request_nonces_expires_at')
    .on('request_nonces')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'request_nonces',
    'audit_log',
    'api_users',
    'approval_votes',
    'approval_requests',
    'console_users',
    'workspaces',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
