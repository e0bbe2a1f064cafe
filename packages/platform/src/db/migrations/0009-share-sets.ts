/**
 * Share sets (ARCHITECTURE §3): every signer has its own share set of the workspace's root key —
 * the first by KEYGEN, each later one by RESHARE. `share_sets` records which API user's pairing
 * (API user and co-signer) a share set belongs to, the session that made it, the signer's party
 * index in it (cloud-1 and cloud-2 are 1 and 2) and its public part, which a later reshare's new
 * member needs. Existing KEYGEN share sets are carried over (their public part is unknown: they
 * cannot deal a reshare until they are made again). A RESHARE session names the existing signer
 * whose share set it re-deals (`dealer_api_user_id`), so a retry can fall back to another one.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN', 'RESHARE', 'SIGN'))`.execute(db);
  await db.schema
    .alterTable('mpc_sessions')
    .addColumn('dealer_api_user_id', 'uuid', (c) => c.references('api_users.id'))
    .execute();
  await db.schema
    .createTable('share_sets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('api_user_id', 'uuid', (c) => c.notNull().references('api_users.id'))
    .addColumn('cosigner_id', 'uuid', (c) => c.notNull().references('cosigners.id'))
    .addColumn('session_id', 'text', (c) => c.notNull().unique().references('mpc_sessions.id'))
    .addColumn('signer_index', 'integer', (c) => c.notNull().check(sql`signer_index > 2`))
    // Hex of the mpc package's encodePublicShareSet; null for share sets made before 0009.
    .addColumn('public_share_set', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('share_sets_workspace_algorithm')
    .on('share_sets')
    .columns(['workspace_id', 'algorithm'])
    .execute();
  await sql`
    insert into share_sets
      (id, workspace_id, algorithm, api_user_id, cosigner_id, session_id, signer_index,
       public_share_set, created_at)
    select s.share_set_id, r.workspace_id, r.algorithm, s.api_user_id, p.cosigner_id, s.id,
           p.party_index, null, r.created_at
    from root_keys r
    join mpc_sessions s on s.id = r.session_id
    join mpc_session_parties p on p.session_id = s.id and p.party_index = 3`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('share_sets').execute();
  await db.schema.alterTable('mpc_sessions').dropColumn('dealer_api_user_id').execute();
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN', 'SIGN'))`.execute(db);
}
