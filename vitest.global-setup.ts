/**
 * Once per test run, on the embedded database: migrate one PGlite and save its
 * data directory, so each test file's platform starts from that template
 * instead of running initdb and the migrations again (seconds per file).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from './packages/platform/src/db/connect.js';

export default async function setup(): Promise<() => void> {
  if (process.env['DATABASE_URL']) return () => {};
  const dir = mkdtempSync(join(tmpdir(), 'countersign-pglite-template-'));
  const database = await openDatabase({ dataDir: 'memory://' });
  const dump = await database.dumpDataDir!();
  await database.close();
  const file = join(dir, 'template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  process.env['COUNTERSIGN_TEST_PGLITE_TEMPLATE'] = file;
  return () => rmSync(dir, { recursive: true, force: true });
}
