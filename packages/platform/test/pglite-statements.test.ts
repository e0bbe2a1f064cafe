// Named prepared statements on PGlite (src/db/pglite-statements.ts): the same answers as
// PGlite.query, for values of every type the platform binds, and the same behaviour on errors,
// in transactions and on a closed database.
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PGliteStatements } from '../src/db/pglite-statements.js';

describe('PGlite prepared statements', () => {
  let pglite: PGlite;
  let statements: PGliteStatements;

  // One database for the file (starting one takes seconds); every test gets a new table.
  beforeAll(async () => {
    pglite = await PGlite.create('memory://');
  });
  afterAll(async () => {
    await pglite.close();
  });
  beforeEach(async () => {
    await pglite.exec(
      `drop table if exists t;
       create table t (id int primary key, at timestamptz, body bytea, n bigint, tags text[], note text)`,
    );
    statements = new PGliteStatements(pglite);
  });

  it('binds and parses values as PGlite.query does, and counts affected rows', async () => {
    const at = new Date('2026-11-28T10:00:00.123Z');
    const body = Buffer.from([0, 1, 2, 255]);
    const insert = 'insert into t values ($1, $2, $3, $4, $5, $6)';
    const inserted = await statements.run(insert, [
      1,
      at,
      body,
      9007199254740993n,
      ['a', 'b'],
      null,
    ]);
    expect(inserted.affectedRows).toBe(1);
    await statements.run(insert, [2, at, body, 5n, [], 'x']);
    const select = 'select * from t where id = $1';
    const mine = await statements.run<Record<string, unknown>>(select, [1]);
    const theirs = await pglite.query<Record<string, unknown>>(select, [1]);
    expect(mine.rows).toEqual(theirs.rows);
    expect(mine.rows[0]).toMatchObject({ id: 1, at, tags: ['a', 'b'], note: null });
    expect(Buffer.from(mine.rows[0]!['body'] as Uint8Array)).toEqual(body);
    const updated = await statements.run('update t set note = $1 where id > $2', ['y', 0]);
    expect(updated.affectedRows).toBe(2);
    const conflict = await statements.run(`${insert} on conflict (id) do nothing`, [
      1,
      at,
      body,
      1n,
      [],
      null,
    ]);
    expect(conflict.affectedRows).toBe(0);
    expect(statements.size).toBe(4);
  });

  it('moves large bytes both ways unchanged (bound as they are, decoded natively)', async () => {
    const body = randomBytes(300 * 1024);
    await statements.run('insert into t (id, body) values ($1, $2)', [7, body]);
    const select = 'select body from t where id = $1';
    const mine = await statements.run<{ body: Uint8Array }>(select, [7]);
    const theirs = await pglite.query<{ body: Uint8Array }>(select, [7]);
    expect(mine.rows[0]!.body).toBeInstanceOf(Uint8Array);
    expect(mine.rows[0]!.body).toEqual(theirs.rows[0]!.body);
    expect(Buffer.from(mine.rows[0]!.body).equals(body)).toBe(true);
  });

  it('answers a failed statement with its PostgreSQL error, and the next one runs', async () => {
    const insert = 'insert into t (id) values ($1)';
    await statements.run(insert, [1]);
    await expect(statements.run(insert, [1])).rejects.toMatchObject({ code: '23505' });
    expect((await statements.run('select count(*)::int as n from t', [])).rows).toEqual([{ n: 1 }]);
  });

  it('keeps transaction semantics: an aborted transaction refuses until rolled back', async () => {
    await statements.run('insert into t (id) values ($1)', [1]);
    await pglite.exec('begin');
    await expect(statements.run('insert into t (id) values ($1)', [1])).rejects.toMatchObject({
      code: '23505',
    });
    // A text first seen inside the aborted transaction: refused, and not kept half-prepared.
    await expect(statements.run('select id from t where id <> $1', [0])).rejects.toMatchObject({
      code: '25P02',
    });
    await pglite.exec('rollback');
    expect((await statements.run('select id from t where id <> $1', [0])).rows).toEqual([
      { id: 1 },
    ]);
    await pglite.exec('begin');
    await statements.run('insert into t (id) values ($1)', [2]);
    await pglite.exec('rollback');
    expect((await statements.run('select id from t where id <> $1', [0])).rows).toEqual([
      { id: 1 },
    ]);
  });

  it('begins, commits and rolls back through control(), and reports a failed commit', async () => {
    await statements.control('begin isolation level serializable');
    await statements.run('insert into t (id) values ($1)', [1]);
    await statements.control('rollback');
    expect((await statements.run('select count(*)::int as n from t', [])).rows).toEqual([{ n: 0 }]);
    await statements.control('begin');
    await statements.run('insert into t (id) values ($1)', [2]);
    await statements.control('commit');
    expect((await statements.run('select id from t where id <> $1', [0])).rows).toEqual([
      { id: 2 },
    ]);
    // A deferred constraint fails at commit: the error reaches the caller, nothing is kept.
    await pglite.exec('create table d (id int unique deferrable initially deferred)');
    await statements.control('begin');
    await statements.run('insert into d (id) values ($1)', [1]);
    await statements.run('insert into d (id) values ($1)', [1]);
    await expect(statements.control('commit')).rejects.toMatchObject({ code: '23505' });
    expect((await statements.run('select count(*)::int as n from d', [])).rows).toEqual([{ n: 0 }]);
    await pglite.exec('drop table d');
    // A transaction that failed, committed anyway: rolled back, as PostgreSQL answers (the
    // node-postgres path behaves the same; the platform never commits after a caught error).
    await statements.control('begin');
    await statements.run('insert into t (id) values ($1)', [3]);
    await expect(statements.run('insert into t (id) values ($1)', [3])).rejects.toMatchObject({
      code: '23505',
    });
    await statements.control('commit');
    expect((await statements.run('select count(*)::int as n from t', [])).rows).toEqual([{ n: 1 }]);
    await expect(statements.control('select 1')).rejects.toThrow(/transaction-control/);
  });

  it('refuses a wrong number of values instead of binding nulls', async () => {
    await expect(statements.run('select * from t where id = $1', [])).rejects.toThrow(
      /takes 1 values, 0 given/,
    );
    await expect(statements.run('select * from t where id = $1', [1, 2])).rejects.toThrow(
      /takes 1 values, 2 given/,
    );
  });

  it('runs other statements and texts past the cap through PGlite.query', async () => {
    const capped = new PGliteStatements(pglite, 1);
    await capped.run('insert into t (id) values ($1)', [1]);
    expect((await capped.run('select id from t where id = $1', [1])).rows).toEqual([{ id: 1 }]);
    await capped.run('create index t_note on t (note)', []);
    expect(capped.size).toBe(1);
  });

  it('shares a PGlite with another statement cache without name collisions', async () => {
    const other = new PGliteStatements(pglite);
    await statements.run('insert into t (id) values ($1)', [1]);
    await other.run('insert into t (id) values ($1)', [2]);
    expect((await other.run('select count(*)::int as n from t', [])).rows).toEqual([{ n: 2 }]);
  });

  it('refuses to run on a closed database', async () => {
    const closing = await PGlite.create('memory://');
    const mine = new PGliteStatements(closing);
    await mine.run('select 1 as one', []);
    await closing.close();
    await expect(mine.run('select 1 as one', [])).rejects.toThrow(/closed/i);
  });
});
