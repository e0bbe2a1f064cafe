// The audit log's hash chain: continued across reopenings (a restart), through a line cut by a
// crash, and broken by an edit, a deletion or a reordering.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { AuditLog, verifyAuditLog } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'callback-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function write(path: string, entries: object[]): Promise<void> {
  const log = await AuditLog.open(path);
  await Promise.all(entries.map((e) => log.append(e)));
  await log.close();
}

describe('audit log hash chain', () => {
  it('chains every line, also across a reopening, in call order', async () => {
    const path = join(dir, 'a.jsonl');
    await write(path, [{ n: 1 }, { n: 2 }]);
    await write(path, [{ n: 3 }, { n: 4, big: 'x'.repeat(200_000) }]);
    await write(path, [{ n: 5 }]);
    expect(await verifyAuditLog(path)).toEqual({ lines: 5 });
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([1, 2, 3, 4, 5]);
    expect((JSON.parse(lines[0]!) as { prevHash: string }).prevHash).toBe('0'.repeat(64));
  });

  it('shows an edited, a deleted and a reordered line', async () => {
    const path = join(dir, 'b.jsonl');
    await write(path, [{ action: 'REJECT' }, { action: 'REJECT' }, { action: 'APPROVE' }]);
    const original = readFileSync(path, 'utf8');
    const lines = original.trimEnd().split('\n');
    writeFileSync(path, original.replace('"REJECT"', '"APPROVE"'));
    expect(await verifyAuditLog(path)).toMatchObject({ brokenAt: 2 });
    writeFileSync(path, [lines[0], lines[2]].join('\n') + '\n');
    expect(await verifyAuditLog(path)).toMatchObject({ brokenAt: 2 });
    writeFileSync(path, [lines[1], lines[0], lines[2]].join('\n') + '\n');
    expect(await verifyAuditLog(path)).toMatchObject({ brokenAt: 1 });
  });

  it('closes a line cut by a crash and chains the next entry from it', async () => {
    const path = join(dir, 'c.jsonl');
    await write(path, [{ n: 1 }]);
    appendFileSync(path, '{"n":2,"prevHa'); // the process died mid-write
    await write(path, [{ n: 3 }]);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]!)).toMatchObject({ n: 3 });
    // The cut line itself does not chain (its prevHash is gone); the chain goes on after it.
    expect(await verifyAuditLog(path)).toMatchObject({ brokenAt: 2 });
  });
});
