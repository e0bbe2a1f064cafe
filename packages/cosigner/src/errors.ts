/**
 * Errors of `@countersign/cosigner`.
 *
 * One base class, {@link CosignerError}, with a stable `code` (`ERR_COSIGNER_<REASON>`) that the
 * CLI maps to exit codes. Messages are fixed per code; an optional `detail` may add a short,
 * non-secret fact (a path, a provider id, a service error name). Every failure to authenticate
 * or decrypt — a wrong passphrase, a wrong KMS key, a tampered header, a blob moved to another
 * row — gives the same {@link CosignerErrorCode | ERR_COSIGNER_DECRYPTION_FAILED} with the same
 * message and no detail, so the error is no oracle (CONVENTIONS.md, "Errors" and "Secrets").
 * `cause` is passed through for debugging and never carries secrets from this package.
 * @module
 */

/** Every error code this package emits. */
export type CosignerErrorCode =
  | 'ERR_COSIGNER_INVALID_ARGUMENT'
  | 'ERR_COSIGNER_DECRYPTION_FAILED'
  | 'ERR_COSIGNER_KMS_CONFIG'
  | 'ERR_COSIGNER_KMS_AUTH'
  | 'ERR_COSIGNER_KMS_REFUSED'
  | 'ERR_COSIGNER_KMS_UNAVAILABLE'
  | 'ERR_COSIGNER_KMS_KEY_MISMATCH'
  | 'ERR_COSIGNER_KMS_PROVIDER_MISMATCH'
  | 'ERR_COSIGNER_KEY_FILE_EXISTS'
  | 'ERR_COSIGNER_KEY_FILE_INVALID'
  | 'ERR_COSIGNER_STORE_EXISTS'
  | 'ERR_COSIGNER_STORE_NOT_FOUND'
  | 'ERR_COSIGNER_STORE_HEADER_INVALID'
  | 'ERR_COSIGNER_STORE_VERSION'
  | 'ERR_COSIGNER_STORE_CORRUPT'
  | 'ERR_COSIGNER_STORE_FULL'
  | 'ERR_COSIGNER_STORE_BUSY'
  | 'ERR_COSIGNER_STORE_IN_USE'
  | 'ERR_COSIGNER_STORE_BINDING'
  | 'ERR_COSIGNER_CONFIG_INVALID'
  | 'ERR_COSIGNER_SECRET_MISSING'
  | 'ERR_COSIGNER_PLATFORM_REFUSED'
  | 'ERR_COSIGNER_PLATFORM_UNAVAILABLE'
  | 'ERR_COSIGNER_PLATFORM_RESPONSE'
  | 'ERR_COSIGNER_NOT_PAIRED'
  | 'ERR_COSIGNER_STORE_WRITE'
  | 'ERR_COSIGNER_STORE_CLOSED'
  | 'ERR_COSIGNER_NOT_FOUND'
  | 'ERR_COSIGNER_CONFLICT'
  | 'ERR_COSIGNER_NO_PRESIGNATURE'
  | 'ERR_COSIGNER_PRESIGN_BLOCKED'
  | 'ERR_COSIGNER_SHARE_RELEASED'
  | 'ERR_COSIGNER_BACKUP_INVALID'
  | 'ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY'
  | 'ERR_COSIGNER_PLATFORM_KEY_CHANGED'
  | 'ERR_COSIGNER_PAIRING_REJECTED'
  | 'ERR_COSIGNER_PAIRING_TIMEOUT';

const MESSAGES: Record<CosignerErrorCode, string> = {
  ERR_COSIGNER_INVALID_ARGUMENT: 'invalid argument',
  ERR_COSIGNER_DECRYPTION_FAILED:
    'decryption failed: wrong passphrase, wrong key, or data altered or moved',
  ERR_COSIGNER_KMS_CONFIG: 'invalid KMS provider configuration',
  ERR_COSIGNER_KMS_AUTH: 'KMS authentication failed',
  ERR_COSIGNER_KMS_REFUSED: 'KMS refused the request',
  ERR_COSIGNER_KMS_UNAVAILABLE: 'KMS unavailable',
  ERR_COSIGNER_KMS_KEY_MISMATCH: 'data key was wrapped by another KMS key',
  ERR_COSIGNER_KMS_PROVIDER_MISMATCH: 'data key was wrapped by another KMS provider',
  ERR_COSIGNER_KEY_FILE_EXISTS: 'key file already exists; refusing to overwrite it',
  ERR_COSIGNER_KEY_FILE_INVALID: 'key file is malformed or of an unknown version',
  ERR_COSIGNER_STORE_EXISTS: 'a store already exists there; refusing to overwrite it',
  ERR_COSIGNER_STORE_NOT_FOUND: 'no store found',
  ERR_COSIGNER_STORE_HEADER_INVALID: 'store header is malformed',
  ERR_COSIGNER_STORE_VERSION: 'store format or schema version not supported by this release',
  ERR_COSIGNER_STORE_CORRUPT: 'store database is damaged or does not match its header',
  ERR_COSIGNER_STORE_FULL: 'store is full (disk full or size limit reached); nothing was written',
  ERR_COSIGNER_STORE_BUSY: 'store is locked by another process',
  ERR_COSIGNER_STORE_IN_USE:
    'another co-signer daemon (cosigner start) is running on this store; stop it first',
  ERR_COSIGNER_CONFIG_INVALID: 'co-signer configuration (cosigner.json) is invalid',
  ERR_COSIGNER_SECRET_MISSING: 'a passphrase or PIN is needed and none was given',
  ERR_COSIGNER_PLATFORM_REFUSED: 'the platform refused the request',
  ERR_COSIGNER_PLATFORM_UNAVAILABLE: 'the platform is unreachable or failed',
  ERR_COSIGNER_PLATFORM_RESPONSE: 'the platform answered with an unexpected response',
  ERR_COSIGNER_NOT_PAIRED: 'this co-signer is not paired with any API key yet',
  ERR_COSIGNER_STORE_BINDING: 'the SQLite binding for this Node.js version is not installed',
  ERR_COSIGNER_STORE_WRITE: 'store write failed; nothing was written',
  ERR_COSIGNER_STORE_CLOSED: 'store is closed',
  ERR_COSIGNER_NOT_FOUND: 'record not found',
  ERR_COSIGNER_CONFLICT: 'record already exists',
  ERR_COSIGNER_NO_PRESIGNATURE: 'no presignature available for this share set',
  ERR_COSIGNER_PRESIGN_BLOCKED: 'presigning is stopped for this share set',
  ERR_COSIGNER_SHARE_RELEASED:
    'this party already released a signature share for the message; a signature may exist',
  ERR_COSIGNER_BACKUP_INVALID: 'backup file is malformed, truncated or altered',
  ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY: 'restore target directory is not empty',
  ERR_COSIGNER_PLATFORM_KEY_CHANGED:
    'the platform reports another authorization key than the one pinned at the first pairing; refusing it',
  ERR_COSIGNER_PAIRING_REJECTED: 'the workspace Owner rejected the pairing',
  ERR_COSIGNER_PAIRING_TIMEOUT: 'the pairing still waits for the workspace Owner’s approval',
};

/** Options of {@link CosignerError}. */
export interface CosignerErrorOptions {
  /** A short, non-secret detail (a path, a provider id, an error name); appended to the message. */
  readonly detail?: string | undefined;
  /** Underlying error, passed through for debugging. */
  readonly cause?: unknown;
  /** The platform's error code, for ERR_COSIGNER_PLATFORM_REFUSED. */
  readonly platformCode?: number | undefined;
}

/** Base class of every error thrown by `@countersign/cosigner`. */
export class CosignerError extends Error {
  /** Stable machine-readable reason. */
  readonly code: CosignerErrorCode;
  /** The platform's error code (packages/protocol error-codes.ts), when the platform refused. */
  readonly platformCode: number | undefined;

  constructor(code: CosignerErrorCode, options: CosignerErrorOptions = {}) {
    // Crypto failures carry one fixed message whatever the caller passes: no oracle.
    const detail =
      options.detail === undefined || code === 'ERR_COSIGNER_DECRYPTION_FAILED'
        ? ''
        : `: ${options.detail}`;
    super(
      MESSAGES[code] + detail,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'CosignerError';
    this.code = code;
    this.platformCode = options.platformCode;
  }
}

/** Whether `e` is a {@link CosignerError}, optionally with the given code. */
export function isCosignerError(e: unknown, code?: CosignerErrorCode): e is CosignerError {
  return e instanceof CosignerError && (code === undefined || e.code === code);
}

/** The one error for every authentication or decryption failure (see the module comment). */
export function decryptionFailed(cause?: unknown): CosignerError {
  return new CosignerError('ERR_COSIGNER_DECRYPTION_FAILED', cause === undefined ? {} : { cause });
}
