/**
 * Durable one-time claims (ARCHITECTURE §3): an id claimed here is refused forever after, even
 * across restarts. Two uses, one table each:
 *
 * - `presign_sessions`: the DKLs23 presign session registry (@countersign/mpc
 *   `PresignSessionRegistry`) — a presign sid is never run twice by this party, since two runs
 *   under one sid would reveal its share (mpc dkls23/presign.ts, review C1);
 * - `spent_presignatures`: the spent-marker of presignatures made inside a SIGN session
 *   (@countersign/mpc `PresignatureStore`), recorded before the online round's share exists.
 *
 * A claim is one INSERT in its own `BEGIN IMMEDIATE` transaction, committed (fsynced) before the
 * promise resolves.
 * @module
 */
import type { StoreContext } from './store-context.js';
import { guarded } from './store-context.js';

export type ClaimTable = 'presign_sessions' | 'spent_presignatures';

export class OneTimeClaimRepository {
  readonly #c: StoreContext;
  readonly #insert: string;

  /** @internal */
  constructor(context: StoreContext, table: ClaimTable) {
    this.#c = context;
    // `table` is one of two literals, never input.
    this.#insert = `INSERT INTO ${table} (claim_id, claimed_at) VALUES (?, ?) ON CONFLICT DO NOTHING`;
  }

  /** True if `id` was not claimed before (and now is); false if it was. */
  claim(id: Uint8Array): Promise<boolean> {
    const claimId = Buffer.from(id).toString('hex');
    return Promise.resolve(
      guarded(this.#c, () =>
        this.#c.db
          .transaction(
            () => this.#c.db.prepare(this.#insert).run(claimId, this.#c.now()).changes === 1,
          )
          .immediate(),
      ),
    );
  }

  /** {@link claim} under the name @countersign/mpc `PresignatureStore` calls. */
  markSpent(id: Uint8Array): Promise<boolean> {
    return this.claim(id);
  }
}
