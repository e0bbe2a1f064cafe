/**
 * Every FROST nonce commitment point an EdDSA share set's pool has been offered (hex, canonical
 * encoding): a PRESIGN entry any of whose points is here already is DISCARDED, never READY, so
 * a party whose random source repeats is caught before a signing names the set (RFC 9591 §7.3;
 * nonce-set review L6). Kept for the share set's lifetime, with the entry and the party that
 * offered it first: a repeat is what it looks for, and who offered it both times is what tells a
 * repeating random source (one party) from a copy (two parties, one of them misbehaving).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('frost_commitment_points')
    .addColumn('share_set_id', 'text', (c) => c.notNull())
    .addColumn('point', 'text', (c) => c.notNull())
    .addColumn('presign_session_id', 'text', (c) => c.notNull())
    .addColumn('party_index', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('frost_commitment_points_pkey', ['share_set_id', 'point'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('frost_commitment_points').execute();
}
