/**
 * Opens the platform database: PostgreSQL when a URL is given, otherwise the
 * embedded PGlite in a data directory. Both speak the same SQL dialect, so
 * everything above this file is written once.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type LogEvent } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrate.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

export interface DatabaseOptions {
  /** `postgres://…`; when absent, PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` keeps everything in memory. */
  dataDir?: string | undefined;
  /** PostgreSQL only: a schema to create and use (tests isolate themselves this way). */
  schema?: string | undefined;
  /** PostgreSQL pool size. */
  poolSize?: number | undefined;
  /**
   * PGlite only, for a fresh in-memory database: start from this data-directory
   * dump (`PGlite.dumpDataDir`) instead of running initdb. Tests use a migrated
   * template so each file starts in under a second.
   */
  pgliteTemplate?: Blob | undefined;
}

/** The statements the platform ran through its query builder since it opened the database. */
export interface StatementTotals {
  statements: number;
  /** Their time from sending to the answer, summed. */
  seconds: number;
}

export interface PlatformDatabase {
  readonly db: Kysely<Database>;
  /** For the operator's metrics (`countersign_db_statements_total`). */
  readonly statementTotals: StatementTotals;
  readonly engine: 'postgres' | 'pglite';
  /** Human-readable location without credentials, for logs and `countersign dev`. */
  readonly location: string;
  close(): Promise<void>;
  /** PGlite only: the whole data directory as a tarball (templates, backups). */
  dumpDataDir?: () => Promise<Blob>;
}

const INT8_OID = 20;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openDatabase(options: DatabaseOptions): Promise<PlatformDatabase> {
  const handle = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options)
    : await openPGlite(options.dataDir ?? '.countersign/db', options.pgliteTemplate);
  try {
    // Migrations go where the connection's search_path points: a schema given
    // here, or one set in the URL (`options=-c search_path=…`), else public.
    const current = await sql<{ schema: string }>`select current_schema() as schema`.execute(
      handle.db,
    );
    await migrateToLatest(handle.db as Kysely<unknown>, current.rows[0]?.schema ?? 'public');
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<PlatformDatabase> {
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`Invalid schema name: ${schema}`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Keep 64-bit integers as strings: audit sequence numbers are cursors.
    types: { getTypeParser: pg.types.getTypeParser },
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  if (schema) {
    const client = await pool.connect();
    try {
      await client.query(`create schema if not exists ${schema}`);
    } finally {
      client.release();
    }
  }
  const statementTotals = { statements: 0, seconds: 0 };
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: countInto(statementTotals),
  });
  return {
    db,
    statementTotals,
    engine: 'postgres',
    location: redactUrl(url) + (schema ? ` (schema ${schema})` : ''),
    close: () => db.destroy(),
  };
}

async function openPGlite(dataDir: string, template: Blob | undefined): Promise<PlatformDatabase> {
  const inMemory = dataDir.startsWith('memory://');
  let lock: DataDirLock | undefined;
  if (!inMemory) {
    // 0700: the directory holds password hashes and the audit trail.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    lock = lockDataDir(dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir, {
      parsers: { [INT8_OID]: (value: string) => value },
      ...(template && inMemory ? { loadDataDir: template } : {}),
    });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const statementTotals = { statements: 0, seconds: 0 };
  const db = new Kysely<Database>({
    dialect: new PGliteDialect(pglite),
    log: countInto(statementTotals),
  });
  await sql`select 1`.execute(db);
  return {
    db,
    statementTotals,
    engine: 'pglite',
    location: dataDir,
    close: async () => {
      try {
        await db.destroy();
      } finally {
        lock?.release();
      }
    },
    dumpDataDir: () => pglite.dumpDataDir('none'),
  };
}

/**
 * Kysely's log hook, counting every statement (answered or failed) and its time: nothing about
 * it is logged, so no value or error text leaves here.
 */
function countInto(totals: StatementTotals): (event: LogEvent) => void {
  return (event) => {
    totals.statements += 1;
    totals.seconds += event.queryDurationMillis / 1000;
  };
}

/** Drops the password from a connection URL so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
