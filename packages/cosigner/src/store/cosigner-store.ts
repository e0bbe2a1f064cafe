/**
 * The co-signer store (ARCHITECTURE.md §9): one SQLite database encrypted as a whole with a random
 * 256-bit data key, plus a header file holding that key wrapped by a KMS provider.
 *
 * {@link initStore} makes a new store and refuses to touch an existing one; {@link openStore}
 * reads the header, has the KMS unwrap the data key — a wrong passphrase, PIN or KMS key fails
 * here, before the database is opened, so nothing is written — opens the database with it, checks
 * that database and header belong together, applies migrations, and derives the blob-sealing
 * subkeys. The data key itself is wiped as soon as the database is keyed and the subkeys derived.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';

import { CosignerError } from '../errors.js';
import { equalBytesConstantTime, zeroize } from '../kms/bytes.js';
import type { KmsProvider } from '../kms/kms-provider.js';
import { DATA_KEY_BYTES, assertWrappedBy } from '../kms/kms-provider.js';
import { BlobSealer } from './blob-sealer.js';
import { openEncryptedDatabase } from './encrypted-database.js';
import type { Database } from './sqlite-driver.js';
import { withSqliteErrors } from './sqlite-errors.js';
import { migrate } from './migrations.js';
import { PairedApiKeyRepository } from './paired-api-key-repository.js';
import { PresignatureRepository } from './presignature-repository.js';
import { ProtocolStateRepository } from './protocol-state-repository.js';
import { SecretRepository } from './secret-repository.js';
import {
  SigningRecordRepository,
  type ClaimOutcome,
  type SigningClaim,
} from './signing-record-repository.js';
import { OneTimeClaimRepository } from './one-time-claim-repository.js';
import { ShareSetRepository } from './share-set-repository.js';
import type { StoreContext } from './store-context.js';
import { guarded } from './store-context.js';
import { writeFileAtomic, storePaths } from './store-files.js';
import type { StoreHeader } from './store-header.js';
import {
  STORE_CIPHER,
  STORE_HEADER_FORMAT,
  STORE_HEADER_VERSION,
  readStoreHeader,
  serializeStoreHeader,
} from './store-header.js';

/** Options of {@link initStore} and {@link openStore}. */
export interface StoreOptions {
  /** Directory of the store. */
  readonly dir: string;
  /** The KMS provider that wraps (init) or unwraps (open) the data key. */
  readonly kms: KmsProvider;
  /** Upper bound of the database size in bytes; writes beyond fail with ERR_COSIGNER_STORE_FULL. */
  readonly maxSizeBytes?: number;
  /** Milliseconds to wait for another connection's write lock, default 10 s. */
  readonly busyTimeoutMs?: number;
}

const META_STORE_ID = 'store_id';
const META_CREATED_AT = 'created_at';
/**
 * When a restore discarded the pool (restore-store.ts; reserved). The daemon tells the platform
 * before it polls for work and records that it did under {@link META_POOL_DISCARD_REPORTED}.
 */
export const META_POOL_DISCARDED_AT = 'pool_discarded_at';
/** The {@link META_POOL_DISCARDED_AT} value the platform was told of. */
export const META_POOL_DISCARD_REPORTED = 'pool_discard_reported';
/** Meta keys the store manages itself; {@link CosignerStore.setMeta} refuses them. */
export const RESERVED_META_KEYS: readonly string[] = [
  META_STORE_ID,
  META_CREATED_AT,
  'restored_at',
  'restored_from_backup_at',
  META_POOL_DISCARDED_AT,
];

/** An open co-signer store. Not thread-safe; one per process is the rule, more are safe. */
export class CosignerStore {
  /** Random id of this store (kept across backup and restore). */
  readonly storeId: string;
  /** Directory of the store. */
  readonly dir: string;
  readonly shareSets: ShareSetRepository;
  readonly presignatures: PresignatureRepository;
  readonly protocolStates: ProtocolStateRepository;
  readonly pairedApiKeys: PairedApiKeyRepository;
  readonly secrets: SecretRepository;
  readonly signingRecords: SigningRecordRepository;
  /** DKLs23 presign sids claimed (never run twice). */
  readonly presignSessions: OneTimeClaimRepository;
  /** Presignatures made inside SIGN sessions, spent before their online round. */
  readonly spentPresignatures: OneTimeClaimRepository;
  readonly #context: StoreContext;
  readonly #header: StoreHeader;
  #closed = false;

  /** @internal Use {@link openStore} or {@link initStore}. */
  constructor(dir: string, header: StoreHeader, db: Database, sealer: BlobSealer) {
    this.dir = dir;
    this.storeId = header.storeId;
    this.#header = header;
    this.#context = { db, sealer, now: () => Date.now(), isClosed: () => this.#closed };
    this.shareSets = new ShareSetRepository(this.#context);
    this.presignatures = new PresignatureRepository(this.#context);
    this.protocolStates = new ProtocolStateRepository(this.#context);
    this.pairedApiKeys = new PairedApiKeyRepository(this.#context);
    this.secrets = new SecretRepository(this.#context);
    this.signingRecords = new SigningRecordRepository(this.#context);
    this.presignSessions = new OneTimeClaimRepository(this.#context, 'presign_sessions');
    this.spentPresignatures = new OneTimeClaimRepository(this.#context, 'spent_presignatures');
  }

  /**
   * Before the platform is told this party will sign from pooled nonce set `presignatureId`
   * (sign-job.ts): claims the message for the session — resumably: the set stays until
   * {@link signFromPool} spends it — if the set is in the pool. One transaction; false (nothing
   * written) when the set is not here or the claim is not granted. A re-offered session finds
   * its claim and resumes without asking its Callback Handler again.
   */
  claimForPool(claim: SigningClaim, presignatureId: string): boolean {
    return guarded(this.#context, () =>
      this.#context.db
        .transaction((): boolean => {
          if (!this.presignatures.holdsPresignature(claim.shareSetId, presignatureId)) return false;
          return this.signingRecords.claim(claim, true).kind === 'claimed';
        })
        .immediate(),
    );
  }

  /**
   * One signing from a pooled FROST nonce set, all or nothing (docs/decisions/0006): claim the
   * message, take nonce set `presignatureId` (marked spent, its blob erased), `compute` the
   * result with it, record the message SIGNED with that result — one transaction, fsynced at
   * commit. A crash before the commit leaves the claim, the pool and the records as they were;
   * after it, the re-offered job answers from the record. A claim that is not granted returns
   * its outcome and takes nothing; a nonce set that is not in the pool throws
   * `ERR_COSIGNER_NO_PRESIGNATURE` and records nothing.
   */
  signFromPool(
    claim: SigningClaim,
    presignatureId: string,
    compute: (nonceSet: Uint8Array) => string,
  ): ClaimOutcome {
    return guarded(this.#context, () =>
      this.#context.db
        .transaction((): ClaimOutcome => {
          const outcome = this.signingRecords.claim(claim, true);
          if (outcome.kind !== 'claimed') return outcome;
          const taken = this.presignatures.takePresignature(claim.shareSetId, presignatureId);
          let result: string;
          try {
            result = compute(taken.presignature);
          } finally {
            taken.presignature.fill(0);
          }
          this.signingRecords.markSignedAtOnce(claim, result);
          return { kind: 'signed', result };
        })
        .immediate(),
    );
  }

  /** The header (with the wrapped data key) of this store. */
  get header(): StoreHeader {
    return this.#header;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A value of the meta table, or undefined. */
  getMeta(key: string): string | undefined {
    return guarded(this.#context, () => {
      const row = this.#context.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
        | { value: string }
        | undefined;
      return row?.value;
    });
  }

  /** Sets a value of the meta table (not one of {@link RESERVED_META_KEYS}). */
  setMeta(key: string, value: string): void {
    if (
      typeof key !== 'string' ||
      key.length === 0 ||
      key.length > 128 ||
      RESERVED_META_KEYS.includes(key)
    ) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'meta key' });
    }
    if (typeof value !== 'string' || value.length > 64 * 1024) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'meta value' });
    }
    guarded(this.#context, () => {
      this.#context.db
        .prepare(
          'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(key, value);
    });
  }

  /** Runs SQLite's full integrity check; returns the problems found (empty when sound). */
  integrityCheck(): string[] {
    return guarded(this.#context, () => {
      const rows = this.#context.db.pragma('integrity_check') as { integrity_check: string }[];
      const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
      const fk = this.#context.db.pragma('foreign_key_check') as unknown[];
      if (fk.length > 0) problems.push(`${fk.length} foreign key violations`);
      return problems;
    });
  }

  /** Closes the database (checkpointing the WAL) and wipes the sealing keys. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#context.sealer.destroy();
    this.#context.db.close();
  }

  /** @internal The connection, for backup. */
  connection(): Database {
    if (this.#closed) throw new CosignerError('ERR_COSIGNER_STORE_CLOSED');
    return this.#context.db;
  }
}

/** Creates a new store in `dir` (created if missing); refuses a directory that holds one. */
export async function initStore(options: StoreOptions): Promise<CosignerStore> {
  const { dir, kms } = options;
  const paths = storePaths(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const path of [paths.header, paths.database, `${paths.database}-wal`]) {
    if (await exists(path)) throw new CosignerError('ERR_COSIGNER_STORE_EXISTS', { detail: dir });
  }
  const dataKey = new Uint8Array(randomBytes(DATA_KEY_BYTES));
  let db: Database | undefined;
  let sealer: BlobSealer | undefined;
  let created = false;
  try {
    const wrappedKey = await kms.wrapKey(dataKey);
    // Prove the round trip before relying on it: a KMS key that can encrypt but not decrypt
    // (a policy mistake) must fail now, not at the next start.
    const check = await kms.unwrapKey(wrappedKey);
    const same = equalBytesConstantTime(check, dataKey);
    zeroize(check);
    if (!same)
      throw new CosignerError('ERR_COSIGNER_KMS_REFUSED', { detail: 'wrap round trip mismatch' });

    const header: StoreHeader = {
      format: STORE_HEADER_FORMAT,
      version: STORE_HEADER_VERSION,
      storeId: randomBytes(16).toString('hex'),
      createdAt: new Date().toISOString(),
      cipher: STORE_CIPHER,
      wrappedKey,
    };
    created = true;
    db = openEncryptedDatabase(paths.database, dataKey, databaseOptions(options, true));
    migrate(db);
    const d = db;
    withSqliteErrors(() =>
      d
        .transaction(() => {
          const insert = d.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
          insert.run(META_STORE_ID, header.storeId);
          insert.run(META_CREATED_AT, header.createdAt);
        })
        .immediate(),
    );
    await writeFileAtomic(paths.header, serializeStoreHeader(header), { exclusive: true });
    sealer = new BlobSealer(dataKey);
    return new CosignerStore(dir, header, db, sealer);
  } catch (e) {
    sealer?.destroy();
    db?.close();
    if (created) {
      // Only files this call created; the header is written last, so it never exists here.
      await Promise.all(
        ['', '-wal', '-shm', '-journal'].map((s) => rm(paths.database + s, { force: true })),
      );
    }
    throw e;
  } finally {
    zeroize(dataKey);
  }
}

/** Opens the store in `dir`; see the module comment for the order of checks. */
export async function openStore(options: StoreOptions): Promise<CosignerStore> {
  const { dir, kms } = options;
  const paths = storePaths(dir);
  const header = await readStoreHeader(paths.header);
  if (!(await exists(paths.database))) {
    throw new CosignerError('ERR_COSIGNER_STORE_NOT_FOUND', {
      detail: `${paths.database} is missing`,
    });
  }
  assertWrappedBy(header.wrappedKey, kms.id);
  const dataKey = await kms.unwrapKey(header.wrappedKey);
  try {
    return openWithDataKey(dir, header, dataKey, databaseOptions(options, false));
  } finally {
    zeroize(dataKey);
  }
}

/** @internal Opens a store whose data key is already unwrapped (restore). */
export function openWithDataKey(
  dir: string,
  header: StoreHeader,
  dataKey: Uint8Array,
  dbOptions: Parameters<typeof openEncryptedDatabase>[2],
): CosignerStore {
  const db = openEncryptedDatabase(storePaths(dir).database, dataKey, dbOptions);
  try {
    const storeId = withSqliteErrors(() => {
      // The meta table exists from migration 1 on; a database without it is not a store.
      const row = db.prepare(`SELECT value FROM meta WHERE key = ?`).get(META_STORE_ID) as
        | { value: string }
        | undefined;
      return row?.value;
    });
    if (storeId !== header.storeId) {
      throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', {
        detail: 'database and header belong to different stores',
      });
    }
    withSqliteErrors(() => migrate(db));
    return new CosignerStore(dir, header, db, new BlobSealer(dataKey));
  } catch (e) {
    db.close();
    throw e;
  }
}

function databaseOptions(
  options: StoreOptions,
  create: boolean,
): Parameters<typeof openEncryptedDatabase>[2] {
  return {
    create,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    ...(options.maxSizeBytes === undefined ? {} : { maxSizeBytes: options.maxSizeBytes }),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
