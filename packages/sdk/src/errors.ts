/**
 * Errors raised by the Countersign SDK.
 *
 * Every error is a `CountersignError`. Its `code` is a stable `ERR_SDK_*`
 * string for failures the client detects itself, and the numeric wire code
 * for `CountersignApiError` — the same numbers the Fireblocks API uses
 * (`-8` insufficient permissions, `-10` expired, …), so code written against
 * Fireblocks error codes keeps working. `typeof err.code === 'number'` tells
 * the two apart.
 */
import { ApiErrorCode } from '@countersign/protocol';

export type SdkErrorCode =
  | 'ERR_SDK_INVALID_ARGUMENT'
  | 'ERR_SDK_SIGNER'
  | 'ERR_SDK_NETWORK'
  | 'ERR_SDK_TIMEOUT'
  | 'ERR_SDK_ABORTED'
  | 'ERR_SDK_INVALID_RESPONSE';

export class CountersignError extends Error {
  readonly code: SdkErrorCode | number;

  constructor(code: SdkErrorCode | number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CountersignError';
    this.code = code;
  }
}

/** The platform answered with a non-2xx status and (usually) a `{ message, code }` body. */
export class CountersignApiError extends CountersignError {
  declare readonly code: number;
  readonly status: number;
  /** The parsed response body, or its text when it was not JSON. */
  readonly body: unknown;
  /** Milliseconds the server asked us to wait (`Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    status: number,
    code: number,
    message: string,
    body: unknown,
    retryAfterMs: number | undefined,
  ) {
    super(code, message);
    this.name = 'CountersignApiError';
    this.status = status;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The request never got an HTTP answer: connection refused, reset, DNS, or aborted by the caller. */
export class CountersignNetworkError extends CountersignError {
  declare readonly code: 'ERR_SDK_NETWORK' | 'ERR_SDK_TIMEOUT' | 'ERR_SDK_ABORTED';

  constructor(
    code: 'ERR_SDK_NETWORK' | 'ERR_SDK_TIMEOUT' | 'ERR_SDK_ABORTED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'CountersignNetworkError';
  }
}

/** One attempt exceeded the client's `timeoutMs` (headers and body included). */
export class CountersignTimeoutError extends CountersignNetworkError {
  declare readonly code: 'ERR_SDK_TIMEOUT';

  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super('ERR_SDK_TIMEOUT', `Request timed out after ${timeoutMs} ms`, options);
    this.name = 'CountersignTimeoutError';
  }
}

/** The caller passed something the client cannot send (bad path, reserved header, bad option). */
export class CountersignUsageError extends CountersignError {
  declare readonly code: 'ERR_SDK_INVALID_ARGUMENT';

  constructor(message: string) {
    super('ERR_SDK_INVALID_ARGUMENT', message);
    this.name = 'CountersignUsageError';
  }
}

/** The `RequestSigner` failed or returned no signature; never retried (a KMS denial is final). */
export class CountersignSignerError extends CountersignError {
  declare readonly code: 'ERR_SDK_SIGNER';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SDK_SIGNER', message, options);
    this.name = 'CountersignSignerError';
  }
}

/** A 2xx response whose body is not what the API promises (bad JSON, wrong page shape). */
export class CountersignResponseError extends CountersignError {
  declare readonly code: 'ERR_SDK_INVALID_RESPONSE';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SDK_INVALID_RESPONSE', message, options);
    this.name = 'CountersignResponseError';
  }
}

/**
 * The wire code to report when an error response carries none (a proxy's HTML
 * 502, an empty 429): the platform's generic code for that status, so callers
 * always get a number.
 */
export function fallbackApiErrorCode(status: number): number {
  switch (status) {
    case 404:
      return ApiErrorCode.NOT_FOUND;
    case 413:
      return ApiErrorCode.BODY_TOO_LARGE;
    case 415:
      return ApiErrorCode.UNSUPPORTED_CONTENT_TYPE;
    case 429:
      return ApiErrorCode.RATE_LIMITED;
    case 503:
      return ApiErrorCode.UNAVAILABLE;
    default:
      return status >= 500 ? ApiErrorCode.INTERNAL : ApiErrorCode.INVALID_REQUEST;
  }
}
