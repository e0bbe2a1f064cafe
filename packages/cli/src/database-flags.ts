/** The flags every command that opens the platform database shares. */
import { configFromEnv, type DatabaseOptions } from '@countersign/platform';

export const databaseFlagOptions = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
} as const;

export const databaseFlagHelp = `Database (one of; default: PGlite in .countersign/db, or $DATABASE_URL):
  --data-dir <dir>        embedded PGlite data directory
  --database-url <url>    PostgreSQL connection URL; prefer $DATABASE_URL with the
                          password in ~/.pgpass (PGPASSFILE): a password on the
                          command line is visible to every local user (ps)`;

export function databaseOptionsFrom(values: {
  'data-dir'?: string | undefined;
  'database-url'?: string | undefined;
}): DatabaseOptions {
  if (values['database-url']) return { databaseUrl: values['database-url'] };
  if (values['data-dir']) return { dataDir: values['data-dir'] };
  // Only the database variables: the server settings are start's business.
  return configFromEnv({
    DATABASE_URL: process.env['DATABASE_URL'],
    COUNTERSIGN_DATA_DIR: process.env['COUNTERSIGN_DATA_DIR'],
  }).database;
}
