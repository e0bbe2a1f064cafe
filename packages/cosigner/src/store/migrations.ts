/**
 * Schema migrations of the co-signer store, applied in order at open, each in its own
 * transaction; `PRAGMA user_version` records the last one applied. Migrations are plain SQL and
 * import no application code (CONVENTIONS.md, "Kysely / Drizzle"), so an old migration keeps its
 * meaning forever. Never edit a released migration: append a new one.
 *
 * Secret columns (`sealed_*`) hold blobs sealed by {@link BlobSealer} on top of the whole-file
 * encryption. Times are milliseconds since the Unix epoch.
 * @module
 */

import { CosignerError } from '../errors.js';
import type { Database } from './sqlite-driver.js';

/** One schema step. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE paired_api_keys (
        api_key_id           TEXT PRIMARY KEY,
        cosigner_id          TEXT NOT NULL,
        platform_url         TEXT NOT NULL,
        sealed_refresh_token BLOB,
        callback_handler     TEXT,
        paired_at            INTEGER NOT NULL,
        unpaired_at          INTEGER
      ) STRICT;

      CREATE TABLE share_sets (
        id           TEXT PRIMARY KEY,
        api_key_id   TEXT NOT NULL,
        algorithm    TEXT NOT NULL CHECK (algorithm IN ('ECDSA_SECP256K1', 'EDDSA_ED25519')),
        version      INTEGER NOT NULL CHECK (version >= 1),
        sealed_blob  BLOB,
        created_at   INTEGER NOT NULL,
        destroyed_at INTEGER,
        CHECK ((destroyed_at IS NULL) = (sealed_blob IS NOT NULL))
      ) STRICT;
      CREATE INDEX share_sets_api_key_id ON share_sets (api_key_id);

      CREATE TABLE presignatures (
        id           TEXT PRIMARY KEY,
        share_set_id TEXT NOT NULL REFERENCES share_sets (id),
        sealed_blob  BLOB,
        state        TEXT NOT NULL CHECK (state IN ('AVAILABLE', 'SPENT')),
        created_at   INTEGER NOT NULL,
        spent_at     INTEGER,
        CHECK (
          (state = 'AVAILABLE' AND sealed_blob IS NOT NULL AND spent_at IS NULL) OR
          (state = 'SPENT' AND sealed_blob IS NULL AND spent_at IS NOT NULL)
        )
      ) STRICT;
      CREATE INDEX presignatures_available ON presignatures (share_set_id, state, created_at);

      CREATE TABLE protocol_state (
        session_id   TEXT PRIMARY KEY,
        job_id       TEXT,
        sealed_state BLOB NOT NULL,
        updated_at   INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE sealed_secrets (
        name         TEXT PRIMARY KEY,
        sealed_value BLOB NOT NULL,
        updated_at   INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'signing records and presign session claims',
    sql: `
      -- One row per message a SIGN job was given (daemon/sign-job.ts): STARTED once nonces may
      -- exist, SHARE_SENT durably before a signature share leaves, SIGNED with the verified
      -- result. A fresh session for a message past STARTED is refused: never two signatures.
      CREATE TABLE signing_records (
        transaction_id TEXT NOT NULL,
        message_index  INTEGER NOT NULL CHECK (message_index >= 0),
        share_set_id   TEXT NOT NULL,
        session_id     TEXT NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ('STARTED', 'SHARE_SENT', 'SIGNED')),
        result         TEXT,
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (transaction_id, message_index),
        CHECK ((state = 'SIGNED') = (result IS NOT NULL))
      ) STRICT;

      -- DKLs23 presign sessions this party took part in, claimed before the session exists:
      -- hex of @countersign/mpc presignSessionId(share set, me, sid). A sid never runs twice.
      CREATE TABLE presign_sessions (
        claim_id   TEXT PRIMARY KEY,
        claimed_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'spent presignatures of SIGN sessions',
    sql: `
      -- Presignatures made inside a SIGN session: hex of @countersign/mpc presignatureId,
      -- recorded before the online round's share exists. Never spent twice.
      CREATE TABLE spent_presignatures (
        claim_id   TEXT PRIMARY KEY,
        claimed_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'pinned parties of share sets',
    sql: `
      -- The parties that hold a share set (pool review M2): for each party index, the identity
      -- and agreement keys the verified roster seated there when the share set was stored
      -- (KEYGEN: every party; RESHARE: the receivers). Every later roster of the share set must
      -- seat the same keys at the same indices. Share sets stored before this migration have no
      -- rows: they are not pinned. Public keys, so not sealed.
      CREATE TABLE share_set_parties (
        share_set_id  TEXT NOT NULL REFERENCES share_sets (id),
        party_index   INTEGER NOT NULL CHECK (party_index BETWEEN 1 AND 65535),
        identity_key  BLOB NOT NULL CHECK (length(identity_key) = 32),
        agreement_key BLOB NOT NULL CHECK (length(agreement_key) = 32),
        PRIMARY KEY (share_set_id, party_index)
      ) STRICT;
    `,
  },
];

/** The schema version this release writes. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/** Applies pending migrations; refuses a database newer than this release. */
export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true });
  if (typeof current !== 'number' || current > SCHEMA_VERSION) {
    throw new CosignerError('ERR_COSIGNER_STORE_VERSION', {
      detail: `schema ${String(current)}, this release knows up to ${SCHEMA_VERSION}`,
    });
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
