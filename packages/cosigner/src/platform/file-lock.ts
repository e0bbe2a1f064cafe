/**
 * An exclusive lock between the processes of one co-signer: held around refresh-token rotation,
 * where two processes spending one token would make the platform revoke all of the co-signer's
 * tokens, and for the whole life of the daemon (`cosigner start`), so two daemons never run on
 * one store (raw-signing review L1).
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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lock = tryFileLock(path);
    if (lock !== undefined) {
      try {
        return await work();
      } finally {
        lock.release();
      }
    }
    if (Date.now() > deadline) {
      throw new CosignerError('ERR_COSIGNER_STORE_BUSY', { detail: `lock ${path}` });
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A lock held until {@link FileLock.release}, or until the process dies. */
export interface FileLock {
  release(): void;
}

/** Takes the lock named by `path` if it is free, without waiting; undefined if another holds it. */
export function tryFileLock(path: string): FileLock | undefined {
  const SqliteDatabase = sqliteDatabase();
  const db = new SqliteDatabase(path, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if (isBusy(e)) return undefined;
    throw e;
  }
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}
