#!/usr/bin/env node
// `npm run bench [-- <name>...]`: runs the benchmarks under bench/ (all of them, or the named
// ones, e.g. `npm run bench -- mpc-frost`) one after another, each in its own process on the
// packages' TypeScript sources, and passes their JSON output through. Exits non-zero if any
// benchmark fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'bench');
// Files that support the benchmarks but are not benchmarks themselves.
const HELPERS = new Set(['mpc-harness']);
const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => !HELPERS.has(name))
  .sort();

const requested = process.argv.slice(2);
for (const name of requested) {
  if (!available.includes(name)) {
    console.error(`bench: unknown benchmark '${name}'; available: ${available.join(', ')}`);
    process.exit(2);
  }
}

let failed = 0;
for (const name of requested.length > 0 ? requested : available) {
  console.error(`=== bench/${name}.ts`);
  const run = spawnSync(
    process.execPath,
    ['--conditions=@countersign/source', '--import', 'tsx', join(benchDir, `${name}.ts`)],
    { cwd: root, stdio: 'inherit' },
  );
  if (run.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
