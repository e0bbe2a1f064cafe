/** The store's paired_api_keys table alone, in memory, for tests of what reads it. */
import type { BlobSealer } from '../src/store/blob-sealer.js';
import { PairedApiKeyRepository } from '../src/store/paired-api-key-repository.js';
import { sqliteDatabase } from '../src/store/sqlite-driver.js';

/** The repository over a real SQLite database with the store's paired_api_keys table. */
export function pairedApiKeysTable() {
  const Database = sqliteDatabase();
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE paired_api_keys (
    api_key_id TEXT PRIMARY KEY, cosigner_id TEXT NOT NULL, platform_url TEXT NOT NULL,
    sealed_refresh_token BLOB, callback_handler TEXT, paired_at INTEGER NOT NULL,
    unpaired_at INTEGER) STRICT`);
  const repo = new PairedApiKeyRepository({
    db,
    sealer: {} as BlobSealer, // no refresh token is stored here
    now: () => Date.now(),
    isClosed: () => false,
  });
  return { db, repo };
}
