/**
 * Translation of SQLite failures into {@link CosignerError} codes, so that callers (and the CLI's
 * exit codes) see "store full" or "store busy" rather than a driver message, and no SQL text or
 * value ever reaches an error message.
 * @module
 */
import { CosignerError } from '../errors.js';

/** SQLite's result code name of `e` (`SQLITE_FULL`, `SQLITE_IOERR_FSYNC`, ...), if any. */
export function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * Maps a SQLite failure to a {@link CosignerError}. Anything else — our own errors, programming
 * errors such as a TypeError — is returned unchanged, so bugs surface as bugs.
 */
export function mapSqliteError(e: unknown): unknown {
  if (e instanceof CosignerError) return e;
  const code = sqliteCode(e);
  if (code === undefined) return e;
  const options = { detail: code, cause: e };
  if (
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_IOERR_WRITE') ||
    code === 'SQLITE_IOERR_FSYNC'
  ) {
    return new CosignerError(
      code === 'SQLITE_FULL' ? 'ERR_COSIGNER_STORE_FULL' : 'ERR_COSIGNER_STORE_WRITE',
      options,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new CosignerError('ERR_COSIGNER_STORE_BUSY', options);
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new CosignerError('ERR_COSIGNER_STORE_CORRUPT', options);
  }
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new CosignerError('ERR_COSIGNER_CONFLICT', options);
  }
  return new CosignerError('ERR_COSIGNER_STORE_WRITE', options);
}

/** Runs `work`, mapping any SQLite failure through {@link mapSqliteError}. */
export function withSqliteErrors<T>(work: () => T): T {
  try {
    return work();
  } catch (e) {
    throw mapSqliteError(e);
  }
}
