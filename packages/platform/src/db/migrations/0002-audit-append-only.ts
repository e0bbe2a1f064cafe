/**
 * The audit log refuses UPDATE, DELETE and TRUNCATE at the database level,
 * so rewriting history takes a deliberate schema change by the table's owner
 * rather than one stray statement (and `countersign audit verify` still
 * catches what such an owner does to past entries).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function countersign_audit_log_append_only() returns trigger
    language plpgsql as $$
    begin
      raise exception 'audit_log is append-only (% refused)', tg_op;
    end
    $$`.execute(db);
  await sql`
    create trigger audit_log_no_update_delete
    before update or delete on audit_log
    for each row execute function countersign_audit_log_append_only()`.execute(db);
  await sql`
    create trigger audit_log_no_truncate
    before truncate on audit_log
    for each statement execute function countersign_audit_log_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger audit_log_no_truncate on audit_log`.execute(db);
  await sql`drop trigger audit_log_no_update_delete on audit_log`.execute(db);
  await sql`drop function countersign_audit_log_append_only()`.execute(db);
}
