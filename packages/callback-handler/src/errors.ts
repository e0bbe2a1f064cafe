/**
 * Errors of the callback-handler library and the reference handler. Every error is a
 * `CallbackHandlerError` with a stable `code`; messages never carry a token, a key or a payload
 * value, so they are safe to log and to answer with.
 *
 * The class is the protocol's `CallbackError` (`@countersign/protocol/callback-auth`), whose
 * primitives — JWT signing and checks, RSA keys, TLS pins — this package uses: an error from
 * either is a `CallbackHandlerError`, told apart by `code`.
 * @module
 */
import { CallbackError, type CallbackAuthErrorCode } from '@countersign/protocol/callback-auth';

export type CallbackHandlerErrorCode =
  /** Raised by the protocol's primitives: keys, options, JWT checks, response checks, pins. */
  | CallbackAuthErrorCode
  /** No such callback path, or not a POST. */
  | 'ERR_CALLBACK_NOT_FOUND'
  | 'ERR_CALLBACK_METHOD'
  /** The body exceeded the configured limit. */
  | 'ERR_CALLBACK_BODY_TOO_LARGE'
  /** The decision function threw, returned something that is not a decision, or timed out. */
  | 'ERR_CALLBACK_DECISION_FAILED'
  | 'ERR_CALLBACK_DECISION_TIMEOUT'
  /** The audit hook failed; no answer is given for a decision that was not recorded. */
  | 'ERR_CALLBACK_AUDIT_FAILED'
  /** Reference handler: the rules file is missing, not JSON, or invalid. */
  | 'ERR_CALLBACK_RULES_INVALID'
  /** Reference handler: the velocity state file is unreadable or damaged. */
  | 'ERR_CALLBACK_STATE';

export type CallbackHandlerError = CallbackError<CallbackHandlerErrorCode>;
// Typed by hand so that `instanceof CallbackHandlerError` narrows to this code union.
export const CallbackHandlerError: {
  new (
    code: CallbackHandlerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ): CallbackHandlerError;
  readonly prototype: CallbackHandlerError;
} = CallbackError;
