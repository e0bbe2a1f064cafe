/**
 * Signing records: what this party released for each message of a transaction (ARCHITECTURE §8:
 * a transaction is signed at most once). A SIGN job claims its (transaction, message) before it
 * creates nonces, marks it SHARE_SENT durably before its signature share leaves, and SIGNED with
 * the verified result. A job re-offered after a crash, or a fresh session for the same message,
 * therefore learns whether a share of this party may already exist:
 *
 * - no record, or STARTED under another session: no share left; the new session may run;
 * - the same session again, not SIGNED: its nonces died with the process — refused;
 * - SHARE_SENT or SIGNED under another session: a signature may exist — refused;
 * - SIGNED under the same session: the stored result answers (crash before the report).
 *
 * Each step is one `BEGIN IMMEDIATE` transaction, fsynced at commit (WAL, synchronous = FULL).
 * @module
 */
import { CosignerError } from '../errors.js';
import type { Database } from './sqlite-driver.js';
import type { StoreContext } from './store-context.js';
import { assertId, guarded } from './store-context.js';

export type SigningRecordState = 'STARTED' | 'SHARE_SENT' | 'SIGNED';

/** Which message of which transaction, under which share set and session. */
export interface SigningClaim {
  readonly transactionId: string;
  readonly messageIndex: number;
  readonly shareSetId: string;
  readonly sessionId: string;
}

export type ClaimOutcome =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'signed'; readonly result: string }
  | {
      readonly kind: 'refused';
      readonly reason: string;
      /** A signature share of this party for the message may be out (SHARE_SENT or later). */
      readonly shareReleased: boolean;
    };

interface Row {
  session_id: string;
  share_set_id: string;
  state: SigningRecordState;
  result: string | null;
}

function assertClaim(c: SigningClaim): void {
  assertId(c.transactionId, 'transactionId');
  assertId(c.shareSetId, 'shareSetId');
  assertId(c.sessionId, 'sessionId');
  if (!Number.isInteger(c.messageIndex) || c.messageIndex < 0 || c.messageIndex > 0xffff)
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'messageIndex' });
}

export class SigningRecordRepository {
  readonly #c: StoreContext;

  /** @internal */
  constructor(context: StoreContext) {
    this.#c = context;
  }

  /**
   * Claims the message for `sessionId` (see the module doc for the outcomes). `resumable`: the
   * session's secret state is durable (a pooled FROST nonce set, spent only with the share), so
   * its own STARTED claim, left by a crash, is granted again instead of refused.
   */
  claim(c: SigningClaim, resumable = false): ClaimOutcome {
    assertClaim(c);
    return guarded(this.#c, () =>
      this.#c.db
        .transaction((): ClaimOutcome => {
          const row = this.#select(c);
          if (row !== undefined && row.share_set_id !== c.shareSetId)
            return {
              kind: 'refused',
              reason: 'this message was claimed under another share set',
              shareReleased: row.state !== 'STARTED',
            };
          if (row?.session_id === c.sessionId) {
            if (row.state === 'SIGNED' && row.result !== null)
              return { kind: 'signed', result: row.result };
            if (row.state === 'STARTED' && resumable) return { kind: 'claimed' };
            return {
              kind: 'refused',
              reason: 'an interrupted signing session cannot resume; a fresh session is needed',
              shareReleased: row.state !== 'STARTED',
            };
          }
          if (row !== undefined && row.state !== 'STARTED')
            return {
              kind: 'refused',
              reason: 'a signature share for this message was already released',
              shareReleased: true,
            };
          this.#c.db
            .prepare(
              `INSERT INTO signing_records
                 (transaction_id, message_index, share_set_id, session_id, state, result, updated_at)
               VALUES (?, ?, ?, ?, 'STARTED', NULL, ?)
               ON CONFLICT (transaction_id, message_index) DO UPDATE SET
                 session_id = excluded.session_id, updated_at = excluded.updated_at`,
            )
            .run(c.transactionId, c.messageIndex, c.shareSetId, c.sessionId, this.#c.now());
          return { kind: 'claimed' };
        })
        .immediate(),
    );
  }

  /** STARTED → SHARE_SENT for this session; call before the signature share is sent. */
  markShareSent(c: SigningClaim): void {
    this.#advance(c, 'STARTED', 'SHARE_SENT', null);
  }

  /** SHARE_SENT → SIGNED with the verified result (JSON), before it is reported. */
  markSigned(c: SigningClaim, result: string): void {
    this.#advance(c, 'SHARE_SENT', 'SIGNED', result);
  }

  /**
   * STARTED → SIGNED for this session, with the result: a share that leaves only as the job's
   * result (pooled FROST, cosigner-store.ts `signFromPool`), recorded in the transaction that
   * computed it, before it is reported.
   */
  markSignedAtOnce(c: SigningClaim, result: string): void {
    this.#advance(c, 'STARTED', 'SIGNED', result);
  }

  /** Whether session `c.sessionId` holds the message's claim, nothing released yet (STARTED). */
  startedIn(c: SigningClaim): boolean {
    assertClaim(c);
    return guarded(this.#c, () => {
      const row = this.#select(c);
      return row?.session_id === c.sessionId && row.state === 'STARTED';
    });
  }

  /** The state of a message, if any job was given it. */
  state(transactionId: string, messageIndex: number): SigningRecordState | undefined {
    return guarded(this.#c, () => {
      const row = this.#c.db
        .prepare('SELECT state FROM signing_records WHERE transaction_id = ? AND message_index = ?')
        .get(transactionId, messageIndex) as { state: SigningRecordState } | undefined;
      return row?.state;
    });
  }

  #select(c: SigningClaim): Row | undefined {
    return this.#c.db
      .prepare(
        `SELECT session_id, share_set_id, state, result FROM signing_records
         WHERE transaction_id = ? AND message_index = ?`,
      )
      .get(c.transactionId, c.messageIndex) as Row | undefined;
  }

  #advance(
    c: SigningClaim,
    from: SigningRecordState,
    to: SigningRecordState,
    result: string | null,
  ): void {
    assertClaim(c);
    guarded(this.#c, () => {
      const changed = this.#c.db
        .prepare(
          `UPDATE signing_records SET state = ?, result = ?, updated_at = ?
           WHERE transaction_id = ? AND message_index = ? AND session_id = ? AND state = ?`,
        )
        .run(to, result, this.#c.now(), c.transactionId, c.messageIndex, c.sessionId, from);
      if (changed.changes !== 1)
        throw new CosignerError('ERR_COSIGNER_CONFLICT', {
          detail: `signing record is not ${from} for this session`,
        });
    });
  }
}

/**
 * Restore from backup (review M3): a message STARTED at backup time may have had its share
 * released since, and the record of that is gone with the old store. Such records become
 * SHARE_SENT, so a fresh session for the message is refused ("already released") instead of
 * signing it a second time. Returns how many records changed.
 */
export function markStartedAsReleased(db: Database, now: number): number {
  return db
    .prepare(
      `UPDATE signing_records SET state = 'SHARE_SENT', updated_at = ? WHERE state = 'STARTED'`,
    )
    .run(now).changes;
}
