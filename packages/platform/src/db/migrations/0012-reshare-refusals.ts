/**
 * A dealer's refusal of a later signer's pairing (reshare review M1): the existing signer's API
 * co-signer refused to deal — its Callback Handler answered REJECT or IGNORE, or no handler
 * guards the pairing and its operator did not opt in (PAIRING_NOT_GUARDED). Such a RESHARE
 * session ends the pairing's reshare attempts; it records the sub-status and the co-signer's
 * reason, which the Owner sees on the pairing's approval request.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('mpc_sessions')
    .addColumn('refusal_sub_status', 'text')
    .addColumn('refusal_reason', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('mpc_sessions')
    .dropColumn('refusal_sub_status')
    .dropColumn('refusal_reason')
    .execute();
}
