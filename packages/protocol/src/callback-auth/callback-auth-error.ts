/**
 * The one error class of the callback protocol's authentication primitives. It is generic over
 * its code so that `@countersign/callback-handler` can raise its own codes with the same class
 * (and `instanceof` holds for errors from either package); messages never carry a token, a key
 * or a payload value, so they are safe to log and to answer with.
 * @module
 */

/** Codes raised by the primitives in this directory. */
export type CallbackAuthErrorCode =
  /** A key or certificate is not usable (PEM, type, RSA size, public/private). */
  | 'ERR_CALLBACK_INVALID_KEY'
  /** Options are wrong (a programming error, e.g. a malformed pin). */
  | 'ERR_CALLBACK_INVALID_OPTIONS'
  /** The token is not a well-formed RS256 JWT signed by the configured key. */
  | 'ERR_CALLBACK_JWT_INVALID'
  /** The token's `exp` has passed (beyond the allowed clock skew). */
  | 'ERR_CALLBACK_JWT_EXPIRED'
  /** The token's `iat` is in the future, or `exp`/`iat` are missing, inverted or too far apart. */
  | 'ERR_CALLBACK_JWT_TIME'
  /** The (authenticated) payload or answer does not match the protocol schema. */
  | 'ERR_CALLBACK_INVALID_PAYLOAD'
  /** Co-signer side: the answer is for another request (`requestId` not echoed). */
  | 'ERR_CALLBACK_RESPONSE_MISMATCH'
  /** Pinned-TLS mode: the server's certificate key is not the pinned one (no byte was sent). */
  | 'ERR_CALLBACK_TLS_PIN_MISMATCH';

export class CallbackError<Code extends string = CallbackAuthErrorCode> extends Error {
  override readonly name = 'CallbackError';
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
