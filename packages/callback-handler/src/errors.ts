/**
 * Errors of the callback-handler library and the reference handler. Every error is a
 * `CallbackHandlerError` with a stable `code`; messages never carry a token, a key or a payload
 * value, so they are safe to log and to answer with.
 * @module
 */

export type CallbackHandlerErrorCode =
  /** A key given to the library is not a usable RSA key (PEM, type, size, public/private). */
  | 'ERR_CALLBACK_INVALID_KEY'
  /** Options given to the library are wrong (a programming error, raised at construction). */
  | 'ERR_CALLBACK_INVALID_OPTIONS'
  /** No such callback path, or not a POST. */
  | 'ERR_CALLBACK_NOT_FOUND'
  | 'ERR_CALLBACK_METHOD'
  /** The request token is not a well-formed RS256 JWT signed by the configured key. */
  | 'ERR_CALLBACK_JWT_INVALID'
  /** The token's `exp` has passed (beyond the allowed clock skew). */
  | 'ERR_CALLBACK_JWT_EXPIRED'
  /** The token's `iat` is in the future, or `exp`/`iat` are missing, inverted or too far apart. */
  | 'ERR_CALLBACK_JWT_TIME'
  /** The (authenticated) payload does not match the protocol schema. */
  | 'ERR_CALLBACK_INVALID_PAYLOAD'
  /** The body exceeded the configured limit. */
  | 'ERR_CALLBACK_BODY_TOO_LARGE'
  /** The decision function threw, returned something that is not a decision, or timed out. */
  | 'ERR_CALLBACK_DECISION_FAILED'
  | 'ERR_CALLBACK_DECISION_TIMEOUT'
  /** The audit hook failed; no answer is given for a decision that was not recorded. */
  | 'ERR_CALLBACK_AUDIT_FAILED'
  /** Co-signer side: the answer is for another request (`requestId` not echoed). */
  | 'ERR_CALLBACK_RESPONSE_MISMATCH'
  /** Reference handler: the rules file is missing, not JSON, or invalid. */
  | 'ERR_CALLBACK_RULES_INVALID'
  /** Reference handler: the velocity state file is unreadable or damaged. */
  | 'ERR_CALLBACK_STATE';

export class CallbackHandlerError extends Error {
  override readonly name = 'CallbackHandlerError';
  readonly code: CallbackHandlerErrorCode;

  constructor(code: CallbackHandlerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
