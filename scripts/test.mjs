#!/usr/bin/env node
// The one test command (README, .ci/run): typecheck, lint, format check, then
// the vitest suite. Ends with a plain summary line that CI reads:
//   "tests: N passed, N failed, N skipped"
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick'); // skip typecheck/lint while iterating
const vitestArgs = args.filter((a) => a !== '--quick');

function step(name, cmd, cmdArgs) {
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`\n${name} failed (exit ${r.status ?? r.signal})\n`);
    process.stdout.write('tests: 0 passed, 1 failed\n');
    process.exit(1);
  }
}

if (!quick) {
  step('typecheck (tsc --build)', 'npx', ['tsc', '--build']);
  step('typecheck benches (tsc -p tsconfig.tools.json)', 'npx', [
    'tsc',
    '-p',
    'tsconfig.tools.json',
  ]);
  // Tests are typed code too: tsc --build compiles src/ only, so each package's lint project
  // (src and test) is checked on its own.
  for (const pkg of readdirSync('packages')) {
    const project = join('packages', pkg, 'tsconfig.lint.json');
    if (existsSync(project))
      step(`typecheck tests (${pkg})`, 'npx', ['tsc', '--noEmit', '-p', project]);
  }
  step('lint (eslint)', 'npx', ['eslint', '.', '--max-warnings=0']);
  step('format (prettier --check)', 'npx', ['prettier', '--check', '.', '--log-level=warn']);
}

const dir = mkdtempSync(join(tmpdir(), 'countersign-test-'));
const report = join(dir, 'vitest.json');
const db = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
process.stdout.write(`\n== vitest (node ${process.version}, database: ${db})\n`);
const run = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...vitestArgs,
  ],
  { stdio: 'inherit' },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  skipped = r.numPendingTests + r.numTodoTests;
  if (r.numTotalTests === 0) failed += 1; // a run that executed nothing is a failure
} catch {
  failed += 1;
}
rmSync(dir, { recursive: true, force: true });
if (run.status !== 0 && failed === 0) failed = 1;
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed === 0 ? 0 : 1);
