/**
 * A co-signer's clean stop (`POST /cosigner/v1/offline`): until it polls for work again it is
 * not available, whatever its `last_seen_at` says — so signing and reshares go to another
 * signer at once instead of after the availability window (mpc/share-sets.ts).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cosigners').addColumn('offline_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cosigners').dropColumn('offline_at').execute();
}
