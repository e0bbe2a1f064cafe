/**
 * The bootstrap path when one person owns several workspaces with the same
 * email and password: `api-user create --owner-email` must not act in
 * whichever workspace comes first; it asks for --workspace-id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const DATABASE_URL = process.env['DATABASE_URL'];

describe('api-user create --owner-email with the same Owner in two workspaces', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-owner-ws-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const schema = `cli_ws_${Date.now().toString(36)}`;
  const databaseUrl = DATABASE_URL
    ? `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`
    : undefined;
  // The database comes from the environment, never from a flag carrying a password.
  const env = databaseUrl
    ? { DATABASE_URL: databaseUrl }
    : { DATABASE_URL: '', COUNTERSIGN_DATA_DIR: join(cwd, 'db') };
  const password = 'one password for both workspaces';

  it('refuses to choose, lists the workspaces, and creates in the one named by --workspace-id', async () => {
    if (DATABASE_URL) {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`create schema ${schema}`);
      await client.end();
    }
    const ids: string[] = [];
    for (const name of ['First', 'Second']) {
      const init = runCli(
        ['workspace', 'init', '--name', name, '--owner-email', 'owner@acme.test'],
        cwd,
        { ...env, COUNTERSIGN_OWNER_PASSWORD: password },
      );
      expect(init.status, init.stderr).toBe(0);
      const id = /workspace id: +([0-9a-f-]{36})/.exec(init.stdout)?.[1];
      expect(id).toBeDefined();
      ids.push(id!);
    }
    expect(runCli(['csr', '--name', 'first-admin', '--out', 'keys'], cwd).status).toBe(0);
    const create = (extra: string[]) =>
      runCli(
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
          ...extra,
        ],
        cwd,
        { ...env, COUNTERSIGN_OWNER_PASSWORD: password },
      );

    const ambiguous = create([]);
    expect(ambiguous.status).toBe(2);
    expect(ambiguous.stderr).toMatch(/signs in to 2 workspaces with this password/);
    expect(ambiguous.stderr).toMatch(/--workspace-id/);
    for (const id of ids) expect(ambiguous.stderr).toContain(id);
    expect(ambiguous.stdout).not.toMatch(/API key/);

    const chosen = create(['--workspace-id', ids[1]!]);
    expect(chosen.status, chosen.stderr).toBe(0);
    expect(chosen.stdout).toMatch(/API key: [0-9a-f-]{36}/);

    const malformed = create(['--workspace-id', 'First']);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/--workspace-id must be a workspace UUID/);
    // Six CLI processes, each opening the embedded database and running scrypt.
  }, 240_000);
});
