/**
 * Errors of `@countersign/mpc`.
 *
 * One base class, {@link MpcError}, with a stable `code` (`ERR_MPC_<REASON>`) and, when a
 * protocol check fails because of another party, `culprit`: that party's index. Messages are
 * fixed per code and never contain secret material, so an error can be logged or returned to
 * the platform as it is (CONVENTIONS.md, "Errors" and "Secrets").
 * @module
 */

/** Every error code this package emits. */
export type MpcErrorCode =
  | 'ERR_MPC_INVALID_PARAMS'
  | 'ERR_MPC_INVALID_PARTY'
  | 'ERR_MPC_DUPLICATE_PARTY'
  | 'ERR_MPC_MALFORMED'
  | 'ERR_MPC_INVALID_POINT'
  | 'ERR_MPC_INVALID_SCALAR'
  | 'ERR_MPC_WRONG_SESSION'
  | 'ERR_MPC_WRONG_ROUND'
  | 'ERR_MPC_WRONG_RECIPIENT'
  | 'ERR_MPC_UNEXPECTED_MESSAGE'
  | 'ERR_MPC_DUPLICATE_MESSAGE'
  | 'ERR_MPC_COMMITMENT_MISMATCH'
  | 'ERR_MPC_INVALID_PROOF'
  | 'ERR_MPC_INVALID_SHARE'
  | 'ERR_MPC_PUBLIC_KEY_MISMATCH'
  | 'ERR_MPC_CONTEXT_MISMATCH'
  | 'ERR_MPC_INCONSISTENT_BROADCAST'
  | 'ERR_MPC_INVALID_SIGNATURE_SHARE'
  | 'ERR_MPC_SIGNATURE_INVALID'
  | 'ERR_MPC_NONCE_REUSE'
  | 'ERR_MPC_SID_REUSED'
  | 'ERR_MPC_SESSION_STATE'
  | 'ERR_MPC_DERIVATION'
  | 'ERR_MPC_KEY_SHARE'
  | 'ERR_MPC_OT_CHECK'
  | 'ERR_MPC_CONSISTENCY_CHECK'
  | 'ERR_MPC_OT_SETUP_DESTROYED'
  | 'ERR_MPC_PRESIGNATURE_SPENT'
  | 'ERR_MPC_PRESIGNATURE';

const MESSAGES: Record<MpcErrorCode, string> = {
  ERR_MPC_INVALID_PARAMS: 'invalid session parameters',
  ERR_MPC_INVALID_PARTY: 'invalid party index',
  ERR_MPC_DUPLICATE_PARTY: 'duplicate party index',
  ERR_MPC_MALFORMED: 'malformed encoding',
  ERR_MPC_INVALID_POINT: 'invalid curve point',
  ERR_MPC_INVALID_SCALAR: 'invalid scalar',
  ERR_MPC_WRONG_SESSION: 'message belongs to another session or protocol',
  ERR_MPC_WRONG_ROUND: 'message for an unexpected round',
  ERR_MPC_WRONG_RECIPIENT: 'message addressed to another party',
  ERR_MPC_UNEXPECTED_MESSAGE: 'unexpected message kind or sender for this round',
  ERR_MPC_DUPLICATE_MESSAGE: 'second, different message from the same sender for the same round',
  ERR_MPC_COMMITMENT_MISMATCH: 'commitment opening does not match the commitment',
  ERR_MPC_INVALID_PROOF: 'invalid proof of knowledge',
  ERR_MPC_INVALID_SHARE: 'secret share does not match the dealer commitments',
  ERR_MPC_PUBLIC_KEY_MISMATCH: 'party disagrees on the public key material',
  ERR_MPC_CONTEXT_MISMATCH: 'party disagrees on the signing context',
  ERR_MPC_INCONSISTENT_BROADCAST: 'parties saw different broadcast messages',
  ERR_MPC_INVALID_SIGNATURE_SHARE: 'invalid signature share',
  ERR_MPC_SIGNATURE_INVALID: 'aggregate signature does not verify',
  ERR_MPC_NONCE_REUSE: 'signing nonces already used',
  ERR_MPC_SID_REUSED: 'session id already used with this share set; start under a fresh sid',
  ERR_MPC_SESSION_STATE: 'operation not allowed in the current session state',
  ERR_MPC_DERIVATION: 'invalid derivation path or derived key',
  ERR_MPC_KEY_SHARE: 'invalid key share',
  ERR_MPC_OT_CHECK: 'OT extension or multiplication check failed; party banned',
  ERR_MPC_CONSISTENCY_CHECK: 'presignature consistency check failed',
  ERR_MPC_OT_SETUP_DESTROYED: 'OT setup with this party was destroyed; refresh the share set',
  ERR_MPC_PRESIGNATURE_SPENT: 'presignature already used',
  ERR_MPC_PRESIGNATURE: 'invalid presignature or signing context',
};

/** Options of {@link MpcError}. */
export interface MpcErrorOptions {
  /** Index of the party whose message caused the failure, when one can be named. */
  readonly culprit?: number | undefined;
  /**
   * When the evidence does not single out one party: the parties one of which is at fault
   * (e.g. an echo that disagrees about a third party's broadcast). `culprit` is then unset.
   */
  readonly suspects?: readonly number[] | undefined;
  /**
   * The sender written in the header of a refused message. Envelope headers are not
   * authenticated at this layer (a relay may forge them), so this names nobody.
   */
  readonly claimedSender?: number | undefined;
  /** A short, non-secret detail (a field name, a round number); appended to the message. */
  readonly detail?: string | undefined;
  /** Underlying error, passed through for debugging; never carries secrets from this package. */
  readonly cause?: unknown;
}

/** Base class of every error thrown by `@countersign/mpc`. */
export class MpcError extends Error {
  /** Stable machine-readable reason. */
  readonly code: MpcErrorCode;
  /** Index of the party at fault, when the failure can be attributed to one party. */
  readonly culprit: number | undefined;
  /** Parties one of which is at fault, when the failure cannot be attributed to one party. */
  readonly suspects: readonly number[] | undefined;
  /** Unauthenticated sender of a refused message (envelope-level refusals); not a culprit. */
  readonly claimedSender: number | undefined;

  constructor(code: MpcErrorCode, options: MpcErrorOptions = {}) {
    const base = MESSAGES[code];
    const where =
      options.culprit !== undefined
        ? ` (party ${options.culprit})`
        : options.suspects !== undefined
          ? ` (one of parties ${options.suspects.join(', ')})`
          : '';
    const detail = options.detail === undefined ? '' : `: ${options.detail}`;
    super(
      base + where + detail,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'MpcError';
    this.code = code;
    this.culprit = options.culprit;
    this.suspects =
      options.suspects === undefined ? undefined : Object.freeze([...options.suspects]);
    this.claimedSender = options.claimedSender;
  }
}

/** Whether `code` is one of the codes of this package (e.g. read back from session state). */
export function isMpcErrorCode(code: unknown): code is MpcErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(MESSAGES, code);
}

/** Whether `e` is an {@link MpcError}, optionally with the given code. */
export function isMpcError(e: unknown, code?: MpcErrorCode): e is MpcError {
  return e instanceof MpcError && (code === undefined || e.code === code);
}
