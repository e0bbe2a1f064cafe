/**
 * Replay protection: a request nonce is accepted once per API user. Rows live
 * in the database (so every platform instance sees them) until the JWT that
 * carried them could no longer be valid, then a periodic sweep drops them.
 * Concurrent requests share one INSERT (group commit); each is answered only
 * after its row is committed.
 */
import type { Kysely } from 'kysely';
import { Batcher } from '../db/batcher.js';
import type { Database } from '../db/schema.js';

interface NonceClaim {
  apiUserId: string;
  nonce: string;
  keepUntil: Date;
}

const keyOf = (c: { apiUserId: string; nonce: string }) => `${c.apiUserId} ${c.nonce}`;

export class NonceStore {
  private readonly inserts: Batcher<NonceClaim, true>;

  constructor(private readonly db: Kysely<Database>) {
    this.inserts = new Batcher<NonceClaim, true>(
      async (claims) => {
        const rows = await this.db
          .insertInto('request_nonces')
          .values(
            claims.map((c) => ({
              api_user_id: c.apiUserId,
              nonce: c.nonce,
              expires_at: c.keepUntil,
            })),
          )
          .onConflict((oc) => oc.columns(['api_user_id', 'nonce']).doNothing())
          .returning(['api_user_id', 'nonce'])
          .execute();
        return new Map(
          rows.map((r) => [keyOf({ apiUserId: r.api_user_id, nonce: r.nonce }), true as const]),
        );
      },
      keyOf,
      { exclusive: true },
    );
  }

  /** True the first time; false for a replay (also within one batch). */
  async consume(apiUserId: string, nonce: string, keepUntil: Date): Promise<boolean> {
    return (await this.inserts.load({ apiUserId, nonce, keepUntil })) === true;
  }

  async sweep(now: Date = new Date()): Promise<number> {
    const r = await this.db
      .deleteFrom('request_nonces')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
