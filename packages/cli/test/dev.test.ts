/**
 * The README's run command, end to end: `countersign dev` as a real process,
 * then the CLI against it as a newcomer would use it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitOf, runCli, startCli } from './helpers.js';

describe('countersign dev', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-dev-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('starts, serves signed requests, creates API users, verifies the audit log, and stops cleanly', async () => {
    const dev = await startCli(['dev', '--port', '0'], cwd, /Press Ctrl\+C to stop\./);
    const out = dev.output();
    expect(out).toMatch(/password: \S{16,}/);
    const baseUrl = /Base URL: +(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out)?.[1];
    const apiKey = /API key: +([0-9a-f-]{36})/.exec(out)?.[1];
    expect(baseUrl).toBeDefined();
    expect(apiKey).toBeDefined();
    expect(statSync(join(cwd, '.countersign/dev/api_private.key')).mode & 0o777).toBe(0o600);

    const list = runCli(['api', 'GET', '/v1/management/api_users'], cwd);
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).users).toEqual([
      expect.objectContaining({ id: apiKey, name: 'dev-admin', role: 'ADMIN' }),
    ]);

    const csr = runCli(['csr', '--name', 'my-bot', '--org', 'Acme', '--out', 'my-bot'], cwd);
    expect(csr.status, csr.stderr).toBe(0);
    const created = runCli(
      [
        'api-user',
        'create',
        '--name',
        'my-bot',
        '--role',
        'VIEWER',
        '--csr',
        'my-bot/api_user.csr',
      ],
      cwd,
    );
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/API user my-bot \(VIEWER\): READY/);

    const notFound = runCli(['api', 'GET', '/v1/management/nothing'], cwd);
    expect(notFound.status).toBe(4);
    expect(notFound.stderr).toMatch(/API error 404/);

    // The embedded database has one owner at a time: a second opener is refused, nothing is lost.
    const concurrent = runCli(['audit', 'verify', '--data-dir', '.countersign/db'], cwd);
    expect(concurrent.status).toBe(1);
    expect(concurrent.stderr).toMatch(/in use by process \d+/);

    dev.child.kill('SIGTERM');
    expect(await exitOf(dev.child)).toBe(0);

    // With the stack stopped, the audit chain of everything above verifies.
    const verify = runCli(['audit', 'verify', '--data-dir', '.countersign/db'], cwd);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/Audit chain intact: \d+ entries verified/);

    // A second start reuses the workspace and key: no new Owner password.
    const again = await startCli(['dev', '--port', '0'], cwd, /Press Ctrl\+C to stop\./);
    expect(again.output()).toMatch(/Reusing the workspace/);
    expect(again.output()).not.toMatch(/password:/);
    expect(again.output()).toContain(apiKey);
    again.child.kill('SIGINT');
    expect(await exitOf(again.child)).toBe(0);
  });
});
