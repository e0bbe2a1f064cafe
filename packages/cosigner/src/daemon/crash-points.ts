/**
 * Named points of a SIGN (or PRESIGN) job where the kill -9 tests stop the co-signer dead. When the
 * environment variable `COUNTERSIGN_CRASH_AT` names a point, the process sends itself SIGKILL
 * there: no `finally`, no flush, no report — only what the store already committed survives, as
 * after a power cut. Unset (always, outside those tests), a point is a no-op.
 *
 * Each point but one sits right after a durable step of the signing sequence (sign-job.ts), so
 * the tests can show that every such step is safe to die after: the job then either completes or
 * fails cleanly, and nothing is signed twice. `sign:pool-computing` sits inside a store
 * transaction, to show that one is all or nothing.
 * @module
 */

export type CrashPoint =
  /** The message is claimed (STARTED); no MPC message sent yet. */
  | 'sign:claimed'
  /** ECDSA: the presignature exists (its sid claimed); not yet spent. */
  | 'sign:presigned'
  /** ECDSA, pooled: the named presignature is taken from the pool (spent there); nothing sent. */
  | 'sign:pool-taken'
  /**
   * EdDSA, pooled: the message is claimed for the session (resumably), the platform not yet told
   * this party will sign.
   */
  | 'sign:pool-claimed'
  /**
   * EdDSA, pooled: the platform was told this party will sign (the other parties may have
   * released their shares); nothing spent or recorded here yet.
   */
  | 'sign:pool-ready'
  /**
   * EdDSA, pooled: inside the one store transaction that claims the message, spends the nonce
   * set and records the share — the set taken and the share computed, nothing committed. The one
   * point not after a durable step: dying here must leave the claim and the set as they were.
   */
  | 'sign:pool-computing'
  /**
   * EdDSA, pooled: the nonce set is spent and the share recorded SIGNED, in one transaction;
   * the share has not left.
   */
  | 'sign:pool-signed'
  /** ECDSA: the presignature is spent and the signature share computed; SHARE_SENT not yet recorded. */
  | 'sign:spent'
  /** SHARE_SENT is recorded; the signature share has not left. */
  | 'sign:share-sent'
  /** SIGNED is recorded with the verified signature; the platform has not been told. */
  | 'sign:signed'
  /** PRESIGN: the presignature is pooled in the store; the platform has not been told. */
  | 'presign:pooled';

// Read once: a point is armed for the life of the process or not at all.
const armed = process.env['COUNTERSIGN_CRASH_AT'];

export function crashPoint(point: CrashPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
