/**
 * The SQLite3 Multiple Ciphers binding, chosen by the running Node.js.
 *
 * `better-sqlite3-multiple-ciphers` 12.x wraps its objects in Node's raw `node::ObjectWrap`. From
 * Node 24.19 that class removes an environment cleanup hook in its destructor and asserts that a
 * Node environment is current; a Statement collected by an idle GC or at process teardown then
 * aborts the whole process (SIGABRT). A co-signer that aborts at random after a write is not
 * acceptable, so on Node-API 10 runtimes (Node 22.14+, 24) we load 13.x, which is built on
 * node-addon-api and ships its Node-API binary in the npm package. 13.x needs Node-API 10, which
 * Node 20 does not have (its binary crashes there), so on Node 20 we load 12.x, built from source
 * at install; that line has no such destructor on Node 20.
 *
 * Both lines have the same JavaScript API and the same SQLite3MC cipher formats, so a store
 * written by one opens with the other. 12.x is an optional dependency: where it cannot build
 * (for example an install under Node 24 without headers) nothing needs it.
 * @module
 */
import { createRequire } from 'node:module';

import { CosignerError } from '../errors.js';

/** Values a statement binds; the store binds only these. */
export type SqliteValue = string | number | bigint | Uint8Array | null;

/** Parameters: positional values, or one object of named (`@name`) values. */
export type SqliteParams = SqliteValue[] | [Readonly<Record<string, SqliteValue>>];

/** A prepared statement: the part of the binding's API the store uses. */
export interface Statement {
  run(...params: SqliteParams): { changes: number; lastInsertRowid: number | bigint };
  get(...params: SqliteParams): unknown;
  all(...params: SqliteParams): unknown[];
}

/** A transaction function as the binding returns it (BEGIN DEFERRED, or `.immediate`). */
export type Transaction<F extends (...args: never[]) => unknown> = F & { immediate: F };

/**
 * A database connection: the part of the binding's API the store uses. Declared here rather than
 * taken from the package's typings because the 13.x package's `exports` hides its `index.d.ts`
 * and the 12.x package is optional; both implement exactly this.
 */
export interface Database {
  prepare(source: string): Statement;
  exec(source: string): this;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
  /** `sqlite3_key` with the key bytes (SQLite3MC). */
  key(key: Buffer): number;
  close(): this;
  readonly open: boolean;
  readonly inTransaction: boolean;
}

/** Options of the binding's constructor that the store uses. */
export interface DatabaseOptions {
  readonly fileMustExist?: boolean;
  readonly readonly?: boolean;
  readonly timeout?: number;
}

/** The binding's `Database` constructor. */
export type DatabaseConstructor = new (filename: string, options?: DatabaseOptions) => Database;

/** Node-API version from which the 13.x binding runs. */
const NAPI_VERSION_OF_13 = 10;

/** Which binding package this runtime loads. */
export const SQLITE_BINDING_PACKAGE =
  Number(process.versions.napi ?? 0) >= NAPI_VERSION_OF_13
    ? 'better-sqlite3-multiple-ciphers-napi10'
    : 'better-sqlite3-multiple-ciphers';

function loadBinding(): DatabaseConstructor {
  const require = createRequire(import.meta.url);
  try {
    return require(SQLITE_BINDING_PACKAGE) as DatabaseConstructor;
  } catch (e) {
    throw new CosignerError('ERR_COSIGNER_STORE_BINDING', {
      detail: `${SQLITE_BINDING_PACKAGE} did not load on Node ${process.version}; reinstall with npm ci`,
      cause: e,
    });
  }
}

let binding: DatabaseConstructor | undefined;

/** The `Database` constructor of this runtime's binding, loaded on first use. */
export function sqliteDatabase(): DatabaseConstructor {
  binding ??= loadBinding();
  return binding;
}
