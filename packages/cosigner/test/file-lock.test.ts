// The lock around refresh-token rotation: exclusive across processes, released by the operating
// system when its holder is killed, and free of the stale-pid failures of pid lock files.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { withFileLock } from '../src/platform/file-lock.js';
import { cleanupTempDirs, tempDir } from './store-helpers.js';

afterAll(cleanupTempDirs);

const CHILD = fileURLToPath(new URL('./lock-child.ts', import.meta.url));

function holder(path: string, holdMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(holdMs)]);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done === true) throw new Error('child ended early');
    return r.value;
  };
  return { child, next, exit };
}

const at = (line: string): number => Number(line.split(' ')[1]);

describe('withFileLock', () => {
  it('lets one process at a time hold the lock', async () => {
    const path = join(await tempDir('cosigner-lock-'), 'token.lock');
    const holders = [holder(path, 400), holder(path, 400), holder(path, 400)];
    const spans = await Promise.all(
      holders.map(async (h) => {
        const got = at(await h.next());
        const released = at(await h.next());
        expect(await h.exit).toBe(0);
        return [got, released] as const;
      }),
    );
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    }
  });

  it('is released when its holder is killed; a file that is not a lock database is an error, not a wait', async () => {
    const dir = await tempDir('cosigner-lock-');
    const path = join(dir, 'token.lock');
    const victim = holder(path, 60_000);
    await victim.next();
    victim.child.kill('SIGKILL');
    await victim.exit;
    let ran = false;
    await withFileLock(path, () => Promise.resolve((ran = true)), 5_000);
    expect(ran).toBe(true);

    // Anything else at the lock's path fails at once instead of blocking the co-signer.
    const junk = join(dir, 'junk.lock');
    await writeFile(junk, String(process.pid));
    await expect(withFileLock(junk, () => Promise.resolve('ok'), 2_000)).rejects.toThrow();
  });

  it('times out with a clear error while another process holds it, and the holder is unaffected', async () => {
    const path = join(await tempDir('cosigner-lock-'), 'token.lock');
    const busy = holder(path, 3_000);
    await busy.next();
    await expect(withFileLock(path, () => Promise.resolve(1), 300)).rejects.toMatchObject({
      code: 'ERR_COSIGNER_STORE_BUSY',
    });
    expect(at(await busy.next())).toBeGreaterThan(0);
    expect(await busy.exit).toBe(0);
  });
});
