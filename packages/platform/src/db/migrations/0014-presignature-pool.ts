/**
 * The ECDSA presignature pool (ARCHITECTURE §3): a PRESIGN session makes one presignature among
 * a share set's parties ahead of time; a SIGN session's authorization may then name it instead of
 * presigning first. The platform keeps no presignature material — only which PRESIGN sessions
 * made one (READY), are making one (MAKING), were named by a SIGN session (TAKEN, never named
 * again) or came to nothing (DISCARDED). A job is offered from its `available_at`: a PRESIGN
 * job a little after the signing that asked for it, so the two do not share the CPU.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cosigner_jobs').addColumn('available_at', 'timestamptz').execute();
  await sql`update cosigner_jobs set available_at = created_at`.execute(db);
  await sql`alter table cosigner_jobs alter column available_at set not null`.execute(db);
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN', 'RESHARE', 'PRESIGN', 'SIGN', 'DESTROY'))`.execute(db);
  await db.schema
    .createTable('presignatures')
    .addColumn('session_id', 'text', (c) => c.primaryKey().references('mpc_sessions.id'))
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('share_set_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('MAKING', 'READY', 'TAKEN', 'DISCARDED')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    // TAKEN: the SIGN session whose authorization named it.
    .addColumn('taken_by_session_id', 'text', (c) => c.references('mpc_sessions.id'))
    .addCheckConstraint(
      'presignatures_taken_by_sign',
      sql`(status = 'TAKEN') = (taken_by_session_id is not null)`,
    )
    .execute();
  await db.schema
    .createIndex('presignatures_pool')
    .on('presignatures')
    .columns(['share_set_id', 'status', 'created_at'])
    .execute();
  // A failed SIGN session's presignature; the metrics' count by state.
  await db.schema
    .createIndex('presignatures_taken_by')
    .on('presignatures')
    .column('taken_by_session_id')
    .execute();
  await db.schema
    .createIndex('presignatures_status')
    .on('presignatures')
    .column('status')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('presignatures').execute();
  await db.schema.alterTable('cosigner_jobs').dropColumn('available_at').execute();
  await sql`delete from cosigner_jobs where type = 'PRESIGN'`.execute(db);
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN', 'RESHARE', 'SIGN', 'DESTROY'))`.execute(db);
}
