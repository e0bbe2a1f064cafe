/**
 * Share set destruction (ARCHITECTURE §3 "Unpair"): when a pairing ends, the platform records on
 * each of its share sets when it asked the cloud co-signers to destroy their shares
 * (`destruction_requested_at`, in the transaction that ends the pairing) and when cloud-1 and
 * cloud-2 each confirmed it. A DESTROY job (no MPC, no message) carries the order; a share set
 * whose destruction was asked is never live again, whatever happens to its pairing later.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN', 'RESHARE', 'SIGN', 'DESTROY'))`.execute(db);
  await db.schema
    .alterTable('share_sets')
    .addColumn('destruction_requested_at', 'timestamptz')
    .addColumn('cloud_1_destroyed_at', 'timestamptz')
    .addColumn('cloud_2_destroyed_at', 'timestamptz')
    .execute();
  // A confirmation without a request would be a bug; the check keeps it out of the record.
  await sql`alter table share_sets add constraint share_sets_destroyed_after_request check (
    destruction_requested_at is not null
    or (cloud_1_destroyed_at is null and cloud_2_destroyed_at is null))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table share_sets drop constraint share_sets_destroyed_after_request`.execute(db);
  await db.schema
    .alterTable('share_sets')
    .dropColumn('destruction_requested_at')
    .dropColumn('cloud_1_destroyed_at')
    .dropColumn('cloud_2_destroyed_at')
    .execute();
  await sql`delete from cosigner_jobs where type = 'DESTROY'`.execute(db);
  await sql`alter table cosigner_jobs drop constraint cosigner_jobs_type_check`.execute(db);
  await sql`alter table cosigner_jobs add constraint cosigner_jobs_type_check
    check (type in ('KEYGEN', 'RESHARE', 'SIGN'))`.execute(db);
}
