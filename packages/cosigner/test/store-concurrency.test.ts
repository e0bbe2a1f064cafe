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
    const total = 300;
    const { storeDir, keyFile } = await storeWithPool(total);
    const racers = [0, 1, 2].map(() => startChild(['take', storeDir, keyFile, 'ss-1']));
    for (const r of racers) expect(await nextLine(r)).toBe('ready');
    for (const r of racers) r.process.stdin.end('go\n');
    const results = await Promise.all(
      racers.map(async (r) => JSON.parse(await nextLine(r)) as string[]),
    );
    for (const r of racers) expect((await r.exit).code).toBe(0);
    const all = results.flat();
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
    // The race was real: more than one process got some.
    expect(results.filter((ids) => ids.length > 0).length).toBeGreaterThan(1);
  });
});

describe('crash safety', () => {
  it('a writer killed with SIGKILL mid-write leaves the store openable and consistent', async () => {
    const { storeDir, keyFile } = await storeWithPool(1);
    const child = startChild(['write', storeDir, keyFile, 'ss-1']);
    expect(await nextLine(child)).toBe('ready');
    // Let it commit a few batches, then kill it while it is in the middle of the next ones.
    for (let i = 0; i < 5; i++) expect(await nextLine(child)).toMatch(/^committed \d+$/);
    child.process.kill('SIGKILL');
    const { signal } = await child.exit;
    expect(signal).toBe('SIGKILL');

    const store = await openStore({
      dir: storeDir,
      kms: await openLocalKms({ keyFile, passphrase: TEST_PASSPHRASE }),
    });
    expect(store.integrityCheck()).toEqual([]);
    const db = store.connection();
    const rows = db
      .prepare(`SELECT state, count(*) AS n FROM presignatures GROUP BY state`)
      .all() as { state: string; n: number }[];
    const count = (state: string): number => rows.find((r) => r.state === state)?.n ?? 0;
    const total = count('AVAILABLE') + count('SPENT') - 1; // minus the seed presignature
    // Each batch of 50 is all-or-nothing; each committed batch was followed by one take.
    expect(total % 50).toBe(0);
    const batches = total / 50;
    expect(batches).toBeGreaterThanOrEqual(5);
    expect([batches, batches - 1]).toContain(count('SPENT'));
    // The store still works.
    const taken = store.presignatures.takePresignature('ss-1');
    expect(taken.presignature).toHaveLength(2048);
    store.close();
  });
});
