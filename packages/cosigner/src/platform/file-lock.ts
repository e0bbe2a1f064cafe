/**
 * An exclusive lock between the processes of one co-signer, used around refresh-token rotation,
 * where two processes spending one token would make the platform revoke all of the co-signer's
 * tokens.
 *
 * The lock is SQLite's own: an exclusive transaction on a small, empty, unencrypted database
 * file beside the store. SQLite takes it with POSIX advisory locks, which the operating system
 * releases when the holder dies (crash, kill -9, container restart), so there is no stale lock,
 * no pid to reuse and no takeover race, unlike lock files holding a pid. Waiting polls with a
 * zero busy timeout, so the event loop is never blocked.
 * @module
 */
import { CosignerError } from '../errors.js';
import { sqliteDatabase } from '../store/sqlite-driver.js';

const POLL_MS = 50;

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** Runs `work` holding the lock named by `path`; waits up to `timeoutMs` (default 30 s). */
export async function withFileLock<T>(
  path: string,
  work: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const SqliteDatabase = sqliteDatabase();
  const db = new SqliteDatabase(path, { timeout: 0 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        db.exec('BEGIN EXCLUSIVE');
        break;
      } catch (e) {
        if (!isBusy(e)) throw e;
        if (Date.now() > deadline) {
          throw new CosignerError('ERR_COSIGNER_STORE_BUSY', { detail: `lock ${path}` });
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
    try {
      return await work();
    } finally {
      db.exec('ROLLBACK');
    }
  } finally {
    db.close();
  }
}
