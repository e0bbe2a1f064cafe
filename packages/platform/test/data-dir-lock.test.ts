import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/index.js';

describe('embedded data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'countersign-lock-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is private to its owner and opened by one process at a time; a stale lock is taken over', async () => {
    const dir = join(root, 'db');
    const first = await openDatabase({ dataDir: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/in use by process/);
    await first.close();

    // A lock left by a process that no longer exists does not block.
    writeFileSync(
      join(dir, 'countersign.lock'),
      JSON.stringify({ pid: 2 ** 22 + 17, host: (await import('node:os')).hostname() }),
    );
    const second = await openDatabase({ dataDir: dir });
    await second.close();
  });
});
