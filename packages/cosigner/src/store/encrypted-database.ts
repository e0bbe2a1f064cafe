/**
 * Opening the store database, encrypted as a whole with SQLite3 Multiple Ciphers
 * (`better-sqlite3-multiple-ciphers`), cipher scheme `sqlcipher` with `legacy = 4`: SQLCipher 4
 * compatible pages (AES-256-CBC, HMAC-SHA512 per page), so the file has no plaintext header and
 * any altered page fails to read.
 *
 * The key is the raw 256-bit data key, given in SQLCipher's raw-key form `x'<64 hex>'`, which
 * skips the passphrase KDF: the data key is already uniformly random. It is passed as a Buffer
 * through `sqlite3_key` (not in SQL text) and that Buffer is wiped at once.
 *
 * Durability settings: WAL journal with `synchronous = FULL` (every commit is fsynced before it
 * returns, which the presignature spend relies on), `secure_delete` so freed pages are zeroed,
 * foreign keys on, and a busy timeout so two connections queue instead of failing.
 * @module
 */
import { CosignerError } from '../errors.js';
import { zeroize } from '../kms/bytes.js';
import { DATA_KEY_BYTES } from '../kms/kms-provider.js';
import { type Database, sqliteDatabase } from './sqlite-driver.js';
import { mapSqliteError } from './sqlite-errors.js';

/** Options of {@link openEncryptedDatabase}. */
export interface OpenDatabaseOptions {
  /** Create the file (initialisation, restore); otherwise it must exist. */
  readonly create: boolean;
  /** Milliseconds to wait for another connection's lock, default 10 s. */
  readonly busyTimeoutMs?: number;
  /** Upper bound of the database size in bytes (SQLite `max_page_count`); default none. */
  readonly maxSizeBytes?: number;
}

const PAGE_SIZE = 4096;

/** Opens (or creates) the database at `path` keyed with `dataKey`; does not keep `dataKey`. */
export function openEncryptedDatabase(
  path: string,
  dataKey: Uint8Array,
  options: OpenDatabaseOptions,
): Database {
  if (dataKey.length !== DATA_KEY_BYTES) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'data key length' });
  }
  let db: Database;
  try {
    const SqliteDatabase = sqliteDatabase();
    db = new SqliteDatabase(path, { fileMustExist: !options.create });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'SQLITE_CANTOPEN') {
      throw new CosignerError('ERR_COSIGNER_STORE_NOT_FOUND', { detail: path, cause: e });
    }
    throw mapSqliteError(e);
  }
  const rawKey = Buffer.alloc(3 + 2 * DATA_KEY_BYTES);
  try {
    db.pragma(`cipher = 'sqlcipher'`);
    db.pragma('legacy = 4');
    rawKey.write("x'", 0, 'latin1');
    for (let i = 0; i < dataKey.length; i++) {
      const byte = dataKey[i] ?? 0;
      rawKey[2 + 2 * i] = HEX[byte >> 4] ?? 0;
      rawKey[3 + 2 * i] = HEX[byte & 15] ?? 0;
    }
    rawKey[rawKey.length - 1] = 0x27; // closing quote
    db.key(rawKey);
    // The first read is where a wrong key shows: SQLITE_NOTADB.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 10_000)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('secure_delete = ON');
    db.pragma('foreign_keys = ON');
    if (options.maxSizeBytes !== undefined) {
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSizeBytes / PAGE_SIZE))}`);
    }
    return db;
  } catch (e) {
    db.close();
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') {
      // The header unwrapped to a key that does not open this database: the two files do not
      // belong together, or the database is damaged. No secret is involved in saying so.
      throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', {
        detail: 'database does not open with the data key from its header',
        cause: e,
      });
    }
    throw mapSqliteError(e);
  } finally {
    zeroize(rawKey);
  }
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
