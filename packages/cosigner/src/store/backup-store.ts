/**
 * `cosigner backup`: writes an open store to one file (format in backup-container.ts).
 *
 * The snapshot is taken with SQLite's `VACUUM INTO`, which reads one consistent snapshot in a
 * read transaction (writers on other connections carry on under WAL) and writes a compact copy
 * encrypted with the same cipher and key. SQLite's online backup API, as exposed by the driver,
 * opens its destination without a key, and SQLite3 Multiple Ciphers rightly refuses to copy
 * encrypted pages to it ("incompatible source and target"). The snapshot is checked (attached
 * with the store's key, `quick_check`, store id) before the file is written; the file is written
 * atomically and never over an existing one. The data key goes in only wrapped, as in the header.
 * @module
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { CosignerError } from '../errors.js';
import { encodeBackup } from './backup-container.js';
import type { CosignerStore } from './cosigner-store.js';
import { withSqliteErrors } from './sqlite-errors.js';
import { writeFileAtomic } from './store-files.js';

/** What {@link backupStore} wrote. */
export interface BackupResult {
  readonly file: string;
  readonly storeId: string;
  readonly bytes: number;
}

/** Writes a backup of `store` to `file`, which must not exist. */
export async function backupStore(store: CosignerStore, file: string): Promise<BackupResult> {
  const target = resolve(file);
  const db = store.connection();
  const staging = await mkdtemp(join(dirname(target), '.cosigner-backup-'));
  try {
    const snapshot = join(staging, 'snapshot.db');
    withSqliteErrors(() => {
      db.prepare('VACUUM INTO ?').run(snapshot);
      // ATTACH without KEY uses the main database's key: the snapshot must open with it.
      db.prepare(`ATTACH DATABASE ? AS backup_snapshot`).run(snapshot);
      try {
        const check = db.pragma('backup_snapshot.quick_check', { simple: true });
        const row = db
          .prepare(`SELECT value FROM backup_snapshot.meta WHERE key = 'store_id'`)
          .get() as { value: string } | undefined;
        if (check !== 'ok' || row?.value !== store.storeId) {
          throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', {
            detail: 'backup snapshot failed its check',
          });
        }
      } finally {
        db.exec('DETACH DATABASE backup_snapshot');
      }
    });
    const database = new Uint8Array(await readFile(snapshot));
    const bytes = encodeBackup({
      createdAt: new Date().toISOString(),
      storeHeader: store.header,
      database,
    });
    try {
      await writeFileAtomic(target, bytes, { exclusive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
          detail: `${file} exists; refusing to overwrite it`,
          cause: e,
        });
      }
      throw new CosignerError('ERR_COSIGNER_STORE_WRITE', {
        detail: 'cannot write the backup file',
        cause: e,
      });
    }
    return { file: target, storeId: store.storeId, bytes: bytes.length };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
