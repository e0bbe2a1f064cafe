/**
 * One process at a time per embedded data directory. PGlite has no
 * cross-process locking: two processes on one directory silently lose each
 * other's committed writes (audit entries, nonces). The lock is a file created
 * exclusively, holding the owner's pid; a lock whose process is gone is stale
 * and taken over.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

export class DataDirInUseError extends Error {
  readonly code = 'ERR_DATA_DIR_IN_USE';
  constructor(dir: string, pid: number) {
    super(
      `The database in ${dir} is in use by process ${pid} (a running 'countersign dev' or 'start'?). ` +
        'Stop it first, or reach the data through the API.',
    );
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dir: string): DataDirLock {
  const file = join(dir, 'countersign.lock');
  const content = JSON.stringify({ pid: process.pid, host: hostname() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(file);
      // A holder on another host cannot be checked: it counts as alive.
      if (holder && (holder.host !== hostname() || processAlive(holder.pid))) {
        throw new DataDirInUseError(dir, holder.pid);
      }
      // Stale: its process is gone. Remove and try once more.
      try {
        unlinkSync(file);
      } catch {
        /* raced with another taker; the next attempt decides */
      }
    }
  }
  throw new Error(`Could not lock the data directory ${dir}`);
}

function readHolder(file: string): { pid: number; host: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; host?: unknown };
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host };
    }
  } catch {
    /* unreadable or half-written: treat as stale */
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
