/**
 * EdDSA share sets pool FROST nonce sets the way ECDSA ones pool presignatures
 * (docs/decisions/0006). The platform aggregates the signature shares of a signing that spends
 * one, so it keeps the nonce set's public commitment list (hex, as every party reported it).
 * ECDSA rows have none.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('presignatures').addColumn('commitments', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('presignatures').dropColumn('commitments').execute();
}
