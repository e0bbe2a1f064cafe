/**
 * Pairing after the security review (docs/reviews/2026-11-27-pairing-security-review.md):
 *
 * - `cosigner_pairing_polls` (H1): every pairing through a pairing token waits for the Owner's
 *   approval; the co-signer waits with a poll token (stored as its SHA-256) and, for a new
 *   co-signer, receives its first refresh token from that poll once approved — at most once.
 * - `cosigner_recovery_nonces` (H2): a co-signer that lost its refresh token gets a new token
 *   family by a request signed with its identity key; each request's nonce is accepted once.
 * - `pairing_tokens.failed_at` (L2): a failed exchange is audited once per pairing token, so a
 *   leaked, used token cannot flood the workspace's audit log.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cosigner_pairing_polls')
    .addColumn('pairing_id', 'uuid', (c) => c.primaryKey().references('cosigner_api_keys.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    // True when approval registers the co-signer: the poll then hands out its first refresh token.
    .addColumn('starts_family', 'boolean', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    // Set when the poll reported the decision (and the refresh token): the poll token is spent.
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('cosigner_recovery_nonces')
    .addColumn('cosigner_id', 'uuid', (c) => c.notNull().references('cosigners.id'))
    .addColumn('nonce', 'text', (c) => c.notNull())
    // Kept until the signed request expires; a replay within that time hits the primary key.
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('cosigner_recovery_nonces_pk', ['cosigner_id', 'nonce'])
    .execute();

  await db.schema.alterTable('pairing_tokens').addColumn('failed_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('pairing_tokens').dropColumn('failed_at').execute();
  await db.schema.dropTable('cosigner_recovery_nonces').execute();
  await db.schema.dropTable('cosigner_pairing_polls').execute();
}
