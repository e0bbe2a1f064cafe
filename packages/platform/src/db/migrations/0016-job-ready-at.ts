/**
 * When the signer's co-signer's ready call (`POST /cosigner/v1/jobs/{id}/ready`) released the
 * Cloud Co-signers' held jobs, on its SIGN job: kept so that after a failed pooled EdDSA signing
 * an operator can tell whether that call or the signer's report released them (ready-call review
 * I2). Null for every job whose ready call released no one, or that made none.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cosigner_jobs').addColumn('ready_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cosigner_jobs').dropColumn('ready_at').execute();
}
