// Presignatures under concurrency and crashes, with real processes: racing connections never
// take the same presignature, and a writer killed with SIGKILL mid-write leaves the store
// openable and consistent.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { openLocalKms } from '../src/kms/local-kms.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import {
  cleanupTempDirs,
  pattern,
  tempDir,
  testLocalKms,
  TEST_PASSPHRASE,
} from './store-helpers.js';

afterAll(cleanupTempDirs);

const CHILD = fileURLToPath(new URL('./store-child.ts', import.meta.url));

interface Child {
  process: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    env: { ...process.env, COSIGNER_TEST_PASSPHRASE: TEST_PASSPHRASE },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { process: child, lines, exit };
}

async function nextLine(child: Child): Promise<string> {
  const next = await child.lines.next();
  if (next.done === true) {
    const { code, stderr } = await child.exit;
    throw new Error(`child exited (${String(code)}) before answering: ${stderr}`);
  }
  return next.value;
}

async function storeWithPool(
  count: number,
): Promise<{ dir: string; storeDir: string; keyFile: string }> {
  const dir = await tempDir();
  const kms = await testLocalKms(dir);
  const storeDir = join(dir, 'store');
  const store = await initStore({ dir: storeDir, kms });
  store.shareSets.putShareSet({
    id: 'ss-1',
    apiKeyId: 'ak-1',
    algorithm: 'ECDSA_SECP256K1',
    share: pattern(64),
  });
  store.presignatures.addPresignatures(
    'ss-1',
    Array.from({ length: count }, (_, i) => ({
      id: `p-${String(i).padStart(4, '0')}`,
      presignature: pattern(64, i),
    })),
  );
  store.close();
  return { dir, storeDir, keyFile: join(dir, 'kms.key') };
}

describe('presignatures under concurrency', () => {
  it('three processes racing on one pool never take the same presignature', async () => {
    // Demand (3 x 100) exceeds the pool (250): every presignature must be handed out exactly
    // once, and exactly 50 takes must find the pool empty, however the processes interleave.
    const pool = 250;
    const perProcess = 100;
    const { storeDir, keyFile } = await storeWithPool(pool);
    const racers = [0, 1, 2].map(() =>
      startChild(['take', storeDir, keyFile, 'ss-1', String(perProcess)]),
    );
    for (const r of racers) expect(await nextLine(r)).toBe('ready');
    for (const r of racers) r.process.stdin.end('go\n');
    const results = await Promise.all(
      racers.map(async (r) => JSON.parse(await nextLine(r)) as { ids: string[]; empty: number }),
    );
    for (const r of racers) expect((await r.exit).code).toBe(0);
    const all = results.flatMap((r) => r.ids);
    expect(all).toHaveLength(pool);
    expect(new Set(all).size).toBe(pool);
    expect(results.reduce((n, r) => n + r.empty, 0)).toBe(3 * perProcess - pool);
    // Each process got at most its share, so at least three took part.
    for (const r of results) expect(r.ids.length).toBeGreaterThan(0);
  });
});

describe('the SQLite binding', () => {
  // better-sqlite3(-multiple-ciphers) 12.x aborts the process on Node 24 when a collected
  // Statement's destructor runs without a current Node environment (idle GC, teardown); the
  // driver loads 13.x there. This runs on whichever Node runs the suite (CI: 20 and 24).
  it('a process that used the store heavily and exits with it open exits cleanly', async () => {
    const { storeDir, keyFile } = await storeWithPool(30);
    const child = startChild(['churn', storeDir, keyFile, 'ss-1']);
    expect(await nextLine(child)).toBe('ready');
    expect(await nextLine(child)).toBe('churned');
    const { code, signal, stderr } = await child.exit;
    expect(stderr).not.toMatch(/Assertion failed|Aborted/);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});

describe('crash safety', () => {
  it('writers killed with SIGKILL at several points leave the store openable and consistent', async () => {
    const { storeDir, keyFile } = await storeWithPool(1);
    const kms = await openLocalKms({ keyFile, passphrase: TEST_PASSPHRASE });
    let verificationTakes = 0;
    const rounds = [1, 4, 9];
    for (const [round, commitsBeforeKill] of rounds.entries()) {
      const child = startChild(['write', storeDir, keyFile, 'ss-1']);
      expect(await nextLine(child)).toBe('ready');
      // Let it commit some batches, then kill it while it writes the next ones.
      for (let i = 0; i < commitsBeforeKill; i++)
        expect(await nextLine(child)).toMatch(/^committed \d+$/);
      child.process.kill('SIGKILL');
      expect((await child.exit).signal).toBe('SIGKILL');

      const store = await openStore({ dir: storeDir, kms });
      expect(store.integrityCheck()).toEqual([]);
      const rows = store
        .connection()
        .prepare(`SELECT state, count(*) AS n FROM presignatures GROUP BY state`)
        .all() as { state: string; n: number }[];
      const count = (state: string): number => rows.find((r) => r.state === state)?.n ?? 0;
      const written = count('AVAILABLE') + count('SPENT') - 1; // minus the seed presignature
      // Each batch of 50 is all-or-nothing...
      expect(written % 50).toBe(0);
      const batches = written / 50;
      expect(batches).toBeGreaterThanOrEqual(rounds.slice(0, round + 1).reduce((a, b) => a + b, 0));
      // ...and each committed batch was followed by at most one take (the last one per round
      // may have been cut off by the kill).
      const writerTakes = count('SPENT') - verificationTakes;
      expect(writerTakes).toBeLessThanOrEqual(batches);
      expect(writerTakes).toBeGreaterThanOrEqual(batches - (round + 1));
      // The store still works.
      expect(store.presignatures.takePresignature('ss-1').presignature.length).toBeGreaterThan(0);
      verificationTakes += 1;
      store.close();
    }
  });
});
