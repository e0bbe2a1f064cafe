/**
 * The files of a store directory and how they are written.
 *
 * A store is a directory holding the encrypted database (`cosigner.db`, plus SQLite's `-wal` and
 * `-shm` while open) and the header (`cosigner-store.json`) with the wrapped data key. Files that
 * must never be half-written (the header, a restored database) are written to a temporary name,
 * fsynced, renamed, and the directory fsynced, so a crash leaves either the old or the new file.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Name of the encrypted database file. */
export const DATABASE_FILE = 'cosigner.db';
/** Name of the header file (format, store id, wrapped data key). */
export const HEADER_FILE = 'cosigner-store.json';

/** Paths of a store's files. */
export function storePaths(dir: string): { database: string; header: string } {
  return { database: join(dir, DATABASE_FILE), header: join(dir, HEADER_FILE) };
}

/** Writes `data` to `path` atomically (temporary file, fsync, rename, directory fsync). */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: { mode?: number; exclusive?: boolean } = {},
): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const handle = await open(tmp, 'wx', options.mode ?? 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    if (options.exclusive === true) {
      // link() fails if the target exists: an exclusive, atomic create.
      await link(tmp, path);
      await unlink(tmp);
    } else {
      await rename(tmp, path);
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDirectory(join(path, '..'));
}

/** fsyncs a directory so that a rename or create in it is durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
