/**
 * A transaction the signer's Callback Handler refused (raw-signing review C1): status REJECTED,
 * sub-status REJECTED_BY_CALLBACK, and the handler's reason in `sub_status_detail` (also set for
 * the other callback sub-statuses). The status check of 0006 is replaced to admit REJECTED.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('transactions').dropConstraint('transactions_status_check').execute();
  await db.schema
    .alterTable('transactions')
    .addCheckConstraint(
      'transactions_status_check',
      sql`status in ('SUBMITTED', 'PENDING_SIGNATURE', 'COMPLETED', 'FAILED', 'REJECTED')`,
    )
    .execute();
  await db.schema
    .alterTable('transactions')
    .addColumn('sub_status_detail', 'text', (c) => c.check(sql`length(sub_status_detail) <= 1024`))
    .execute();
}
