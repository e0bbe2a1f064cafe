/**
 * Replay protection: a request nonce is accepted once per API user. Rows live
 * in the database (so every platform instance sees them) until the JWT that
 * carried them could no longer be valid, then a periodic sweep drops them.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export class NonceStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** True the first time; false for a replay. */
  async consume(apiUserId: string, nonce: string, keepUntil: Date): Promise<boolean> {
    const inserted = await this.db
      .insertInto('request_nonces')
      .values({ api_user_id: apiUserId, nonce, expires_at: keepUntil })
      .onConflict((oc) => oc.columns(['api_user_id', 'nonce']).doNothing())
      .returning('nonce')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async sweep(now: Date = new Date()): Promise<number> {
    const r = await this.db
      .deleteFrom('request_nonces')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
