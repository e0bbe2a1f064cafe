#!/usr/bin/env node
// The one test command (README, .ci/run): typecheck, lint, format check, then
// the vitest suite. Ends with a plain summary line that CI reads:
//   "tests: N passed, N failed, N skipped"
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick'); // skip typecheck/lint while iterating
const vitestArgs = args.filter((a) => a !== '--quick');

function stopFailed(name, status) {
  process.stdout.write(`\n${name} failed (exit ${status})\n`);
  process.stdout.write('tests: 0 passed, 1 failed\n');
  process.exit(1);
}

function step(name, cmd, cmdArgs) {
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status !== 0) stopFailed(name, r.status ?? r.signal);
}

/**
 * Runs independent checks two at a time (the CI machines have 2 cores and each check is one
 * single-threaded process), printing each one's output whole when it ends; stops at the first
 * that fails, once the running ones end.
 */
async function concurrentSteps(list, concurrency = 2) {
  const queue = [...list];
  let failure;
  const worker = async () => {
    while (queue.length > 0 && failure === undefined) {
      const [name, cmd, cmdArgs] = queue.shift();
      const started = Date.now();
      const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      const status = await new Promise((resolve) =>
        child.on('close', (code, signal) => resolve(code ?? signal)),
      );
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`\n== ${name} (${seconds} s)\n${out}`);
      if (status !== 0) failure ??= [name, status];
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== undefined) stopFailed(...failure);
}

if (!quick) {
  // Everything else reads the declarations this build writes.
  step('typecheck (tsc --build)', 'npx', ['tsc', '--build']);
  await concurrentSteps([
    ['lint (eslint)', 'npx', ['eslint', '.', '--max-warnings=0']],
    ['typecheck benches (tsc -p tsconfig.tools.json)', 'npx', ['tsc', '-p', 'tsconfig.tools.json']],
    // Tests are typed code too: tsc --build compiles src/ only, so each package's lint project
    // (src and test) is checked on its own.
    ...readdirSync('packages')
      .map((pkg) => [pkg, join('packages', pkg, 'tsconfig.lint.json')])
      .filter(([, project]) => existsSync(project))
      .map(([pkg, project]) => [
        `typecheck tests (${pkg})`,
        'npx',
        ['tsc', '--noEmit', '-p', project],
      ]),
    ['format (prettier --check)', 'npx', ['prettier', '--check', '.', '--log-level=warn']],
  ]);
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
