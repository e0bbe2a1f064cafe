/**
 * When the signer's co-signer said it will sign (`POST /cosigner/v1/jobs/{id}/ready`), on its
 * SIGN job: the first such call, kept so that after a failed pooled EdDSA signing an operator can
 * tell whether the Cloud Co-signers were released by that call or by the signer's report
 * (ready-call review I2). Null for every job that never said it.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cosigner_jobs').addColumn('ready_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cosigner_jobs').dropColumn('ready_at').execute();
}
