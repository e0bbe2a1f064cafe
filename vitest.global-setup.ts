/**
 * Once per test run, on the embedded database: migrate one PGlite and save its
 * data directory, so each test file's platform starts from that template
 * instead of running initdb and the migrations again (seconds per file).
 * And a directory for the run's signing stack snapshot, which the first
 * end-to-end file that needs one builds (packages/cli/testing/signing-stack.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNAPSHOT_ENV } from './packages/cli/testing/stack-snapshot-env.js';
import { openDatabase } from './packages/platform/src/db/connect.js';

export default async function setup(): Promise<() => void> {
  const snapshots = mkdtempSync(join(tmpdir(), 'countersign-stack-snapshot-'));
  process.env[SNAPSHOT_ENV] = snapshots;
  const removeSnapshots = () => rmSync(snapshots, { recursive: true, force: true });
  if (process.env['DATABASE_URL']) return removeSnapshots;
  const dir = mkdtempSync(join(tmpdir(), 'countersign-pglite-template-'));
  const database = await openDatabase({ dataDir: 'memory://' });
  const dump = await database.dumpDataDir!();
  await database.close();
  const file = join(dir, 'template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  process.env['COUNTERSIGN_TEST_PGLITE_TEMPLATE'] = file;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    removeSnapshots();
  };
}
