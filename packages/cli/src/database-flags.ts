/** The flags every command that opens the platform database shares. */
import { configFromEnv, type DatabaseOptions } from '@countersign/platform';

export const databaseFlagOptions = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
} as const;

export const databaseFlagHelp = `Database (one of; default: PGlite in .countersign/db, or $DATABASE_URL):
  --data-dir <dir>        embedded PGlite data directory
  --database-url <url>    PostgreSQL connection URL`;

export function databaseOptionsFrom(values: {
  'data-dir'?: string | undefined;
  'database-url'?: string | undefined;
}): DatabaseOptions {
  if (values['database-url']) return { databaseUrl: values['database-url'] };
  if (values['data-dir']) return { dataDir: values['data-dir'] };
  return configFromEnv(process.env).database;
}
