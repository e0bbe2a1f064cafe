/** A deployment without `dev`: workspace init, the Owner's first API user, audit verification. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@countersign/platform';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const DATABASE_URL = process.env['DATABASE_URL'];

describe('workspace bootstrap from the command line', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-bootstrap-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  // On PostgreSQL the commands share one fresh database schema via search_path.
  const schema = `cli_${Date.now().toString(36)}`;
  const dbFlags = DATABASE_URL
    ? [
        '--database-url',
        `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`,
      ]
    : ['--data-dir', 'db'];

  it('init prints the Owner credentials once; the Owner creates the first API user; tampering is caught', async () => {
    if (DATABASE_URL) {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`create schema ${schema}`);
      await client.end();
    }
    const init = runCli(
      ['workspace', 'init', '--name', 'Acme', '--owner-email', 'owner@acme.test', ...dbFlags],
      cwd,
    );
    expect(init.status, init.stderr).toBe(0);
    const password = /owner password: (\S+)/.exec(init.stdout)?.[1];
    expect(password).toBeDefined();

    expect(runCli(['csr', '--name', 'first-admin', '--out', 'keys'], cwd).status).toBe(0);
    const wrong = runCli(
      [
        'api-user',
        'create',
        '--name',
        'first',
        '--role',
        'ADMIN',
        '--csr',
        'keys/api_user.csr',
        '--owner-email',
        'owner@acme.test',
        ...dbFlags,
      ],
      cwd,
      { COUNTERSIGN_OWNER_PASSWORD: 'not-the-password' },
    );
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/wrong owner email or password/);
    const ok = runCli(
      [
        'api-user',
        'create',
        '--name',
        'first',
        '--role',
        'ADMIN',
        '--csr',
        'keys/api_user.csr',
        '--owner-email',
        'owner@acme.test',
        ...dbFlags,
      ],
      cwd,
      { COUNTERSIGN_OWNER_PASSWORD: password! },
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/API key: [0-9a-f-]{36}/);

    const intact = runCli(['audit', 'verify', '--json', ...dbFlags], cwd);
    expect(intact.status, intact.stderr).toBe(0);
    expect(JSON.parse(intact.stdout)).toMatchObject({ intact: true, broken: null });

    // Someone with database access rewrites history: verify names the entry.
    const database = await openDatabase(
      DATABASE_URL ? { databaseUrl: dbFlags[1] } : { dataDir: join(cwd, 'db') },
    );
    const victim = await database.db
      .selectFrom('audit_log')
      .select('seq')
      .where('action', '=', 'api_user.created')
      .executeTakeFirstOrThrow();
    await sql`alter table audit_log disable trigger user`.execute(database.db);
    await database.db
      .updateTable('audit_log')
      .set({ details: JSON.stringify({ role: 'VIEWER' }) })
      .where('seq', '=', victim.seq)
      .execute();
    await database.close();
    const broken = runCli(['audit', 'verify', ...dbFlags], cwd);
    expect(broken.status).toBe(3);
    expect(broken.stdout).toContain(`BROKEN at entry seq ${victim.seq}`);
  });

  it('usage errors exit 2 with a pointer to --help', () => {
    const r = runCli(['workspace', 'init', '--bogus'], cwd);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--help/);
    expect(runCli(['no-such-command'], cwd).status).toBe(2);
    const help = runCli(['--help'], cwd);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/dev +run the whole stack/);
  });
});
