/**
 * `cosigner restore`: makes a store in a new directory from a backup file.
 *
 * The KMS must unwrap the backup's data key (same provider, same key) before anything is written.
 * The target directory must be missing or empty. The store is assembled in a sibling staging
 * directory and renamed into place at the end, so a failed restore leaves no half store.
 *
 * A backup is an old snapshot: presignatures that were available then may have been spent since.
 * So restore marks **every available presignature spent** (erasing it) and deletes every saved
 * MPC session state (resuming from old state could replay nonces) before the store can be used.
 * Spent markers stay. Share sets, pairings and secrets are kept. Review M3 adds two things the
 * old store may have done after the backup: a peer banned since would get its DKLs23 OT setups
 * back, so every setup is marked destroyed (restored-dkls23-setups.ts; ECDSA presigning waits for
 * a refresh); and a message STARTED then may have been released since, so its record becomes
 * SHARE_SENT (a fresh session for it is refused). A message first claimed after the backup has no
 * record here at all; it cannot be signed twice only because every other party of its share set
 * kept its own record (3-of-3: a second signature needs each of them to release a share again,
 * which they refuse) — so restore one party at a time, never all of a share set's parties from
 * backups (docs/store.md).
 * @module
 */
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { CosignerError } from '../errors.js';
import { zeroize } from '../kms/bytes.js';
import type { KmsProvider } from '../kms/kms-provider.js';
import { assertWrappedBy } from '../kms/kms-provider.js';
import { decodeBackup } from './backup-container.js';
import { META_POOL_DISCARDED_AT, openWithDataKey } from './cosigner-store.js';
import { fsyncDirectory, storePaths, writeFileAtomic } from './store-files.js';
import { serializeStoreHeader } from './store-header.js';
import { destroyRestoredDkls23Setups } from './restored-dkls23-setups.js';
import { discardAvailable } from './share-set-repository.js';
import { markStartedAsReleased } from './signing-record-repository.js';

/** Options of {@link restoreStore}. */
export interface RestoreOptions {
  /** Target directory; must not exist or be empty. */
  readonly dir: string;
  /** A provider with the key that wrapped the backup's data key. */
  readonly kms: KmsProvider;
}

/** What {@link restoreStore} did. */
export interface RestoreResult {
  readonly dir: string;
  readonly storeId: string;
  readonly discardedPresignatures: number;
  readonly discardedProtocolStates: number;
  /** Messages STARTED at backup time, now refused a fresh session (SHARE_SENT). */
  readonly signingRecordsClosed: number;
  /** ECDSA share sets whose DKLs23 OT setups were all marked destroyed (refresh needed). */
  readonly dkls23ShareSetsNeedingRefresh: number;
}

const MAX_BACKUP_BYTES = 1024 * 1024 * 1024;

/** Restores the backup `file` into `options.dir`. */
export async function restoreStore(file: string, options: RestoreOptions): Promise<RestoreResult> {
  const dir = resolve(options.dir);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw new CosignerError('ERR_COSIGNER_BACKUP_INVALID', {
      detail: 'cannot read the backup file',
      cause: e,
    });
  }
  if (size > MAX_BACKUP_BYTES)
    throw new CosignerError('ERR_COSIGNER_BACKUP_INVALID', { detail: 'too large' });
  const contents = decodeBackup(new Uint8Array(await readFile(file)));
  await assertEmptyOrMissing(dir);
  const header = contents.storeHeader;
  assertWrappedBy(header.wrappedKey, options.kms.id);
  const dataKey = await options.kms.unwrapKey(header.wrappedKey);
  let staging: string | undefined;
  try {
    await mkdir(dirname(dir), { recursive: true });
    staging = await mkdtemp(join(dirname(dir), `.${basename(dir)}.restore-`));
    const paths = storePaths(staging);
    await writeFileAtomic(paths.database, contents.database, { exclusive: true });
    const store = openWithDataKey(staging, header, dataKey, { create: false });
    let discardedPresignatures: number;
    let discardedProtocolStates: number;
    let signingRecordsClosed: number;
    let dkls23ShareSetsNeedingRefresh: number;
    try {
      const problems = store.integrityCheck();
      if (problems.length > 0) {
        throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', {
          detail: 'restored database failed its integrity check',
        });
      }
      const db = store.connection();
      [discardedPresignatures, discardedProtocolStates, signingRecordsClosed] = db
        .transaction((): [number, number, number] => {
          const now = Date.now();
          const presignatures = discardAvailable(db, now);
          const states = db.prepare('DELETE FROM protocol_state').run().changes;
          const records = markStartedAsReleased(db, now);
          const upsert = db.prepare(
            `INSERT INTO meta (key, value) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          );
          upsert.run('restored_at', new Date(now).toISOString());
          upsert.run(META_POOL_DISCARDED_AT, new Date(now).toISOString());
          upsert.run('restored_from_backup_at', contents.createdAt);
          return [presignatures, states, records];
        })
        .immediate();
      // Before the store is moved into place: a failure here leaves no restored store.
      dkls23ShareSetsNeedingRefresh = destroyRestoredDkls23Setups(store);
    } finally {
      store.close();
    }
    await writeFileAtomic(paths.header, serializeStoreHeader(header), { exclusive: true });
    await fsyncDirectory(staging);
    try {
      // rename(2) replaces a missing or empty directory atomically.
      await rename(staging, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
        throw new CosignerError('ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY', { detail: dir, cause: e });
      }
      throw new CosignerError('ERR_COSIGNER_STORE_WRITE', {
        detail: 'cannot move the restored store into place',
        cause: e,
      });
    }
    staging = undefined;
    await fsyncDirectory(dirname(dir));
    return {
      dir,
      storeId: header.storeId,
      discardedPresignatures,
      discardedProtocolStates,
      signingRecordsClosed,
      dkls23ShareSetsNeedingRefresh,
    };
  } finally {
    zeroize(dataKey);
    if (staging !== undefined) await rm(staging, { recursive: true, force: true });
  }
}

async function assertEmptyOrMissing(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR')
      throw new CosignerError('ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY', { detail: dir, cause: e });
    throw new CosignerError('ERR_COSIGNER_STORE_WRITE', {
      detail: 'cannot read the target directory',
      cause: e,
    });
  }
  if (entries.length > 0)
    throw new CosignerError('ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY', { detail: dir });
}
