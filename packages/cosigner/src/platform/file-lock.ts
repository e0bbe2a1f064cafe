/**
 * An exclusive lock between processes on one machine: a lock file created with O_EXCL holding
 * the owner's pid. A lock whose owner is dead (crash, kill -9) is taken over. Used around refresh
 * token rotation, where two processes spending one token would revoke the co-signer's tokens.
 * @module
 */
import { open, readFile, rm } from 'node:fs/promises';

import { CosignerError } from '../errors.js';

const POLL_MS = 50;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

async function tryAcquire(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EEXIST') throw e;
  }
  const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  // An empty or unreadable file is a lock being written right now, unless it stays that way.
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !alive(owner)) {
    await rm(path, { force: true });
  }
  return false;
}

/** Runs `work` holding the lock at `path`; waits up to `timeoutMs` (default 30 s) for it. */
export async function withFileLock<T>(
  path: string,
  work: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!(await tryAcquire(path))) {
    if (Date.now() > deadline) {
      throw new CosignerError('ERR_COSIGNER_STORE_BUSY', { detail: `lock ${path}` });
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
