import { ApiErrorCode, type ApiErrorName } from '@countersign/protocol';

/**
 * Every error the platform raises on purpose. `code` is a stable string
 * (`ERR_<AREA>_<REASON>`) for logs and tests; `apiCode` is the numeric code put
 * on the wire; `status` the HTTP status. The error handler maps these and
 * nothing else to responses — anything else is a 500 with a fixed message.
 */
export class PlatformError extends Error {
  readonly code: string;
  readonly apiCode: number;
  readonly status: number;

  constructor(
    code: string,
    apiError: ApiErrorName,
    status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PlatformError';
    this.code = code;
    this.apiCode = ApiErrorCode[apiError];
    this.status = status;
  }
}

/** A request that does not authenticate: always 401, always audited. */
export class AuthError extends PlatformError {
  /**
   * Set only once the token's signature has verified: before that the API key
   * in the request is just a claim, and a failure must not be filed under its
   * workspace (anyone could flood a workspace's audit trail).
   */
  verifiedApiUser: { id: string; workspaceId: string } | undefined;

  constructor(code: string, apiError: ApiErrorName, message: string) {
    super(code, apiError, 401, message);
    this.name = 'AuthError';
  }
}

/** An authenticated caller whose role lacks the permission: 403 (-8). */
export class ForbiddenError extends PlatformError {
  constructor(message = 'Insufficient permissions for this operation') {
    super('ERR_AUTH_FORBIDDEN', 'INSUFFICIENT_PERMISSIONS', 403, message);
    this.name = 'ForbiddenError';
  }
}

/** Input that is well-formed JSON but not acceptable: 400 with a specific code. */
export class ValidationError extends PlatformError {
  constructor(
    code: string,
    apiError: ApiErrorName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, apiError, 400, message, options);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends PlatformError {
  constructor(what: string) {
    super('ERR_NOT_FOUND', 'NOT_FOUND', 404, `${what} not found`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends PlatformError {
  constructor(code: string, apiError: ApiErrorName, message: string) {
    super(code, apiError, 409, message);
    this.name = 'ConflictError';
  }
}

/**
 * A co-signer credential (pairing, refresh or access token) that is not
 * accepted: 401 with the specific code. Messages never contain the token.
 */
export class CosignerTokenError extends PlatformError {
  constructor(code: string, apiError: ApiErrorName, message: string) {
    super(code, apiError, 401, message);
    this.name = 'CosignerTokenError';
  }
}

/** A documented operation this version does not implement yet: 501. */
export class NotImplementedError extends PlatformError {
  constructor(message: string) {
    super('ERR_NOT_IMPLEMENTED', 'NOT_IMPLEMENTED', 501, message);
    this.name = 'NotImplementedError';
  }
}
