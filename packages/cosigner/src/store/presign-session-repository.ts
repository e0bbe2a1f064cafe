/**
 * The durable DKLs23 presign session registry (@countersign/mpc `PresignSessionRegistry`): a
 * presign sid claimed here is never run again by this party, even after a restart — two runs
 * under one sid would reveal its share (mpc dkls23/presign.ts, review C1). The claim is one
 * INSERT in its own `BEGIN IMMEDIATE` transaction, committed before the session is created.
 * @module
 */
import type { StoreContext } from './store-context.js';
import { guarded } from './store-context.js';

export class PresignSessionRepository {
  readonly #c: StoreContext;

  /** @internal */
  constructor(context: StoreContext) {
    this.#c = context;
  }

  /** True if `id` was not claimed before (and now is); false if it was. */
  claim(id: Uint8Array): Promise<boolean> {
    const claimId = Buffer.from(id).toString('hex');
    return Promise.resolve(
      guarded(this.#c, () =>
        this.#c.db
          .transaction(() => {
            const inserted = this.#c.db
              .prepare(
                'INSERT INTO presign_sessions (claim_id, claimed_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
              )
              .run(claimId, this.#c.now());
            return inserted.changes === 1;
          })
          .immediate(),
      ),
    );
  }
}
