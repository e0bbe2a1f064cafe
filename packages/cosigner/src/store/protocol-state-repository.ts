/**
 * Saved state of MPC sessions in progress, so a co-signer that restarts can resume a session
 * (or fail it cleanly) instead of starting over with fresh randomness mid-protocol.
 *
 * The state is sealed with AAD binding the session id. Restoring a backup deletes every saved
 * state: resuming a session from an old snapshot could replay nonces already used.
 * @module
 */
import type { StoreContext } from './store-context.js';
import { assertBlob, assertId, blobOf, guarded } from './store-context.js';

/** A saved session state. */
export interface ProtocolState {
  readonly sessionId: string;
  readonly jobId: string | null;
  /** The serialised session; the caller owns (and should zero) it. */
  readonly state: Uint8Array;
  readonly updatedAt: number;
}

/** Repository of saved MPC session states. */
export class ProtocolStateRepository {
  readonly #c: StoreContext;

  /** @internal */
  constructor(context: StoreContext) {
    this.#c = context;
  }

  /** Saves (inserts or replaces) the state of a session, durably. */
  saveProtocolState(input: { sessionId: string; jobId?: string; state: Uint8Array }): void {
    assertId(input.sessionId, 'sessionId');
    if (input.jobId !== undefined) assertId(input.jobId, 'jobId');
    assertBlob(input.state, 'state');
    guarded(this.#c, () => {
      const sealed = this.#c.sealer.seal('protocol-state', [input.sessionId], input.state);
      this.#c.db
        .prepare(
          `INSERT INTO protocol_state (session_id, job_id, sealed_state, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (session_id) DO UPDATE SET
             job_id = excluded.job_id, sealed_state = excluded.sealed_state, updated_at = excluded.updated_at`,
        )
        .run(input.sessionId, input.jobId ?? null, sealed, this.#c.now());
    });
  }

  /** The saved state of a session, or undefined. */
  loadProtocolState(sessionId: string): ProtocolState | undefined {
    assertId(sessionId, 'sessionId');
    return guarded(this.#c, () => {
      const row = this.#c.db
        .prepare('SELECT job_id, sealed_state, updated_at FROM protocol_state WHERE session_id = ?')
        .get(sessionId) as
        | { job_id: string | null; sealed_state: Uint8Array; updated_at: number }
        | undefined;
      if (row === undefined) return undefined;
      const state = this.#c.sealer.open('protocol-state', [sessionId], blobOf(row.sealed_state));
      return { sessionId, jobId: row.job_id, state, updatedAt: row.updated_at };
    });
  }

  /** Ids of the sessions with saved state, oldest update first. */
  listProtocolSessions(): { sessionId: string; jobId: string | null; updatedAt: number }[] {
    return guarded(this.#c, () => {
      const rows = this.#c.db
        .prepare(
          'SELECT session_id, job_id, updated_at FROM protocol_state ORDER BY updated_at, session_id',
        )
        .all() as { session_id: string; job_id: string | null; updated_at: number }[];
      return rows.map((r) => ({
        sessionId: r.session_id,
        jobId: r.job_id,
        updatedAt: r.updated_at,
      }));
    });
  }

  /** Deletes a session's state; returns whether there was one. */
  deleteProtocolState(sessionId: string): boolean {
    assertId(sessionId, 'sessionId');
    return guarded(
      this.#c,
      () =>
        this.#c.db.prepare('DELETE FROM protocol_state WHERE session_id = ?').run(sessionId)
          .changes === 1,
    );
  }
}
