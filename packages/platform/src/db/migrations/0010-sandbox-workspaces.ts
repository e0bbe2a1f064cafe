/**
 * Sandbox workspaces (issue #5, docs/sandbox.md): a workspace is created as a sandbox or not, and
 * that never changes — a trigger refuses any update of the flag, so no code path (nor a hand-made
 * UPDATE) can turn a production workspace into one whose signers the operator's communal test
 * co-signer serves. The communal co-signer is an API co-signer of no workspace, type SANDBOX: at
 * most one per platform. Its single-use operator token shares `cloud_pairing_tokens` with the
 * Cloud Co-signers' (a sandbox token has no slot).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('workspaces')
    .addColumn('sandbox', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await sql`
    create function countersign_workspace_sandbox_immutable() returns trigger
    language plpgsql as $$
    begin
      if new.sandbox is distinct from old.sandbox then
        raise exception 'a workspace''s sandbox flag is set at creation and never changes';
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger workspaces_sandbox_immutable before update of sandbox on workspaces
    for each row execute function countersign_workspace_sandbox_immutable()`.execute(db);

  await sql`alter table cosigners drop constraint cosigners_cloud_shape`.execute(db);
  await sql`
    alter table cosigners add constraint cosigners_cloud_shape check (
      (mode = 'CLOUD' and workspace_id is null and cloud_slot is not null)
      or (mode = 'API' and type <> 'SANDBOX' and workspace_id is not null and cloud_slot is null)
      or (mode = 'API' and type = 'SANDBOX' and workspace_id is null and cloud_slot is null))`.execute(
    db,
  );
  await sql`create unique index cosigners_one_sandbox on cosigners (type) where type = 'SANDBOX'`.execute(
    db,
  );

  await db.schema
    .alterTable('cloud_pairing_tokens')
    .addColumn('sandbox', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await sql`alter table cloud_pairing_tokens alter column cloud_slot drop not null`.execute(db);
  await sql`
    alter table cloud_pairing_tokens add constraint cloud_pairing_tokens_seat check (
      (sandbox and cloud_slot is null) or (not sandbox and cloud_slot is not null))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cloud_pairing_tokens drop constraint cloud_pairing_tokens_seat`.execute(db);
  await sql`delete from cloud_pairing_tokens where sandbox`.execute(db);
  await sql`alter table cloud_pairing_tokens alter column cloud_slot set not null`.execute(db);
  await db.schema.alterTable('cloud_pairing_tokens').dropColumn('sandbox').execute();
  await sql`drop index cosigners_one_sandbox`.execute(db);
  await sql`alter table cosigners drop constraint cosigners_cloud_shape`.execute(db);
  await sql`
    alter table cosigners add constraint cosigners_cloud_shape check (
      (mode = 'CLOUD' and workspace_id is null and cloud_slot is not null)
      or (mode = 'API' and workspace_id is not null and cloud_slot is null))`.execute(db);
  await sql`drop trigger workspaces_sandbox_immutable on workspaces`.execute(db);
  await sql`drop function countersign_workspace_sandbox_immutable()`.execute(db);
  await db.schema.alterTable('workspaces').dropColumn('sandbox').execute();
}
