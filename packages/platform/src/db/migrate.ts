import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import * as m0001 from './migrations/0001-foundation.js';
import * as m0002 from './migrations/0002-audit-append-only.js';
import * as m0003 from './migrations/0003-cosigners.js';
import * as m0004 from './migrations/0004-mpc-relay.js';
import * as m0005 from './migrations/0005-pairing-approval.js';
import * as m0006 from './migrations/0006-transactions.js';
import * as m0007 from './migrations/0007-vault-accounts.js';
import * as m0008 from './migrations/0008-transaction-rejection.js';
import * as m0009 from './migrations/0009-share-sets.js';
import * as m0010 from './migrations/0010-sandbox-workspaces.js';
import * as m0011 from './migrations/0011-share-set-destruction.js';
import * as m0012 from './migrations/0012-reshare-refusals.js';
import * as m0013 from './migrations/0013-cosigner-offline.js';
import * as m0014 from './migrations/0014-presignature-pool.js';
import * as m0015 from './migrations/0015-frost-nonce-sets.js';
import * as m0016 from './migrations/0016-job-ready-at.js';
import * as m0017 from './migrations/0017-frost-commitment-points.js';

/** Every migration, in order. Names are permanent once released. */
const migrations: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-audit-append-only': m0002,
  '0003-cosigners': m0003,
  '0004-mpc-relay': m0004,
  '0005-pairing-approval': m0005,
  '0006-transactions': m0006,
  '0007-vault-accounts': m0007,
  '0008-transaction-rejection': m0008,
  '0009-share-sets': m0009,
  '0010-sandbox-workspaces': m0010,
  '0011-share-set-destruction': m0011,
  '0012-reshare-refusals': m0012,
  '0013-cosigner-offline': m0013,
  '0014-presignature-pool': m0014,
  '0015-frost-nonce-sets': m0015,
  '0016-job-ready-at': m0016,
  '0017-frost-commitment-points': m0017,
};

class StaticMigrationProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations);
  }
}

/**
 * Brings the schema up to date. Safe with several platform instances starting
 * at once: Kysely serialises migrators with a PostgreSQL advisory lock.
 */
export async function migrateToLatest(db: Kysely<unknown>, schema = 'public'): Promise<string[]> {
  const migrator = new Migrator({
    db,
    // Named explicitly: Kysely looks for its tables across all schemas, and a
    // database may hold other Countersign schemas (tests, several deployments).
    migrationTableSchema: schema,
    provider: new StaticMigrationProvider(),
    migrationTableName: 'countersign_migrations',
    migrationLockTableName: 'countersign_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    throw new Error('Database migration failed', { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
