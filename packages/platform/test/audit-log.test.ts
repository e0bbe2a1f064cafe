import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/index.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('audit log', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'audit-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  it('records state changes and auth failures, newest first, with cursor pagination', async () => {
    await signedRequest(p, admin, 'GET', '/v1/countersign/session', {
      claims: { uri: '/elsewhere' },
    });
    const all: { event: string; seq: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/management/audit_logs?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await signedRequest(p, admin, 'GET', url);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      all.push(...body.data);
      cursor = body.cursor;
      pages += 1;
    } while (cursor && pages < 50);
    expect(pages).toBeGreaterThan(1);
    const events = all.map((e) => e.event);
    expect(events[0]).toBe('auth.failed');
    expect(events).toEqual(
      expect.arrayContaining([
        'workspace.created',
        'api_user.created',
        'approval_request.opened',
        'approval_request.completed',
      ]),
    );
    const seqs = all.map((e) => BigInt(e.seq));
    expect([...seqs].sort((a, b) => (a > b ? -1 : 1))).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('stores details jsonb would refuse (NUL, lone surrogates) without failing, and verifies them', async () => {
    const log = new AuditLog(p.app.services.database.db);
    const entry = await log.append({
      workspaceId: p.workspaceId,
      actorKind: 'system',
      actorId: null,
      action: 'test.odd_details',
      details: { note: 'a\u0000b\ud800c', at: new Date(0) },
    });
    expect(entry.details).toEqual({ note: 'a\uFFFDb\uFFFDc', at: '1970-01-01T00:00:00.000Z' });
    expect((await log.verify()).broken).toBeNull();
  });

  it('verifies an intact chain and names the first altered, removed or reordered entry', async () => {
    const log = new AuditLog(p.app.services.database.db);
    const intact = await log.verify();
    expect(intact.broken).toBeNull();
    expect(intact.checked).toBeGreaterThan(4);

    const db = p.app.services.database.db;
    // Plain UPDATE and DELETE are refused by the database itself.
    await expect(db.updateTable('audit_log').set({ action: 'forged' }).execute()).rejects.toThrow(
      /append-only/,
    );
    await expect(db.deleteFrom('audit_log').execute()).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(db)).rejects.toThrow(/append-only/);
    // The table's owner can still switch that off; verify is what catches it then.
    await sql`alter table audit_log disable trigger user`.execute(db);
    const rows = await db
      .selectFrom('audit_log')
      .select(['seq', 'id', 'details'])
      .orderBy('seq')
      .execute();
    const victim = rows[2]!;
    // Edit one entry's content: that entry is named.
    await db
      .updateTable('audit_log')
      .set({ details: JSON.stringify({ forged: true }) })
      .where('seq', '=', victim.seq)
      .execute();
    expect((await log.verify()).broken).toMatchObject({
      seq: victim.seq,
      reason: expect.stringMatching(/hash/),
    });
    await db
      .updateTable('audit_log')
      .set({ details: JSON.stringify(victim.details) })
      .where('seq', '=', victim.seq)
      .execute();
    expect((await log.verify()).broken).toBeNull();

    // Delete one: the next entry no longer links.
    await db.deleteFrom('audit_log').where('seq', '=', victim.seq).execute();
    const next = rows[3]!;
    expect((await log.verify()).broken).toMatchObject({
      seq: next.seq,
      reason: expect.stringMatching(/link/),
    });
    await sql`select 1`.execute(db);
  });
});
