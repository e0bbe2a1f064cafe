/**
 * Pairing a co-signer end to end with real processes on loopback: `countersign dev`, an admin
 * issuing pairing tokens through the signed API, and the `cosigner` binary setting itself up and
 * pairing (first API key at once, a second one waiting for the Owner).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exitOf, runCli, startCli } from './helpers.js';

const COSIGNER = fileURLToPath(new URL('../../cosigner/bin/cosigner.js', import.meta.url));
const PASSPHRASE = 'pairing test passphrase';

function cosigner(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [COSIGNER, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, COSIGNER_PASSPHRASE: PASSPHRASE },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Creates an API user with a fresh CSR and returns its API key. */
function createApiUser(cwd: string, name: string, role: string): string {
  const csr = runCli(['csr', '--name', name, '--org', 'Acme', '--out', name], cwd);
  expect(csr.status, csr.stderr).toBe(0);
  const created = runCli(
    ['api-user', 'create', '--name', name, '--role', role, '--csr', `${name}/api_user.csr`],
    cwd,
  );
  expect(created.status, created.stderr).toBe(0);
  const list = runCli(['api', 'GET', '/v1/management/api_users'], cwd);
  const users = (JSON.parse(list.stdout) as { users: { id: string; name: string }[] }).users;
  const id = users.find((u) => u.name === name)?.id;
  expect(id).toBeDefined();
  return id!;
}

function pairingToken(cwd: string, apiKey: string): string {
  const r = runCli(['api', 'POST', `/v1/countersign/api_users/${apiKey}/pairing_token`], cwd);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { pairingToken: string }).pairingToken;
}

describe('cosigner pairing against countersign dev', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-pairing-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('sets up and pairs a co-signer, asks the Owner for a second API key, and refuses a used token', async () => {
    const dev = await startCli(['dev', '--port', '0'], cwd, /Press Ctrl\+C to stop\./);
    try {
      const platformUrl = /Base URL: +(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(dev.output())?.[1];
      expect(platformUrl).toBeDefined();
      const signer = createApiUser(cwd, 'signer-1', 'SIGNER');
      const token = pairingToken(cwd, signer);

      const setup = cosigner(
        [
          'setup',
          '--home',
          'cosigner-home',
          '--kms',
          'local',
          '--name',
          'treasury co-signer',
          '--pairing-token',
          token,
          '--platform-url',
          platformUrl!,
          '--json',
        ],
        cwd,
      );
      expect(setup.stderr).toBe('');
      expect(setup.status).toBe(0);
      const result = JSON.parse(setup.stdout) as {
        identityKey: string;
        pairing: { status: string; cosignerId: string; apiKeyId: string };
      };
      expect(result.pairing).toMatchObject({ status: 'PAIRED', apiKeyId: signer });

      // The platform knows the co-signer by the name and identity it registered.
      const listed = runCli(['api', 'GET', '/v1/cosigners'], cwd);
      expect(listed.status, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toMatchObject({
        data: [{ id: result.pairing.cosignerId, name: 'treasury co-signer' }],
      });
      const keys = runCli(
        ['api', 'GET', `/v1/cosigners/${result.pairing.cosignerId}/api_keys`],
        cwd,
      );
      expect(JSON.parse(keys.stdout)).toMatchObject({ data: [{ id: signer }] });

      const status = cosigner(['status', '--home', 'cosigner-home', '--json'], cwd);
      expect(JSON.parse(status.stdout)).toMatchObject({
        pairedApiKeys: [{ apiKeyId: signer, cosignerId: result.pairing.cosignerId, platformUrl }],
      });

      // The token was single use.
      const reused = cosigner(['pair', '--home', 'cosigner-home', '--pairing-token', token], cwd);
      expect(reused.status).toBe(5);
      expect(reused.stderr).toMatch(/code 1303/);

      // A second API key on the same co-signer: the co-signer authenticates with its own
      // (rotated) tokens, and the Owner must approve.
      const second = createApiUser(cwd, 'signer-2', 'SIGNER');
      const pending = cosigner(
        ['pair', '--home', 'cosigner-home', '--pairing-token', pairingToken(cwd, second), '--json'],
        cwd,
      );
      expect(pending.stderr).toBe('');
      expect(JSON.parse(pending.stdout)).toMatchObject({
        status: 'WAITING_FOR_APPROVAL',
        apiKeyId: second,
        cosignerId: result.pairing.cosignerId,
        requestId: expect.any(String),
      });
      // Its token rotation left a working refresh token: a third request still authenticates.
      const third = createApiUser(cwd, 'signer-3', 'SIGNER');
      const again = cosigner(
        ['pair', '--home', 'cosigner-home', '--pairing-token', pairingToken(cwd, third)],
        cwd,
      );
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/the workspace Owner must approve it/);

      // A forged token is refused by the platform, and nothing is stored.
      const forged = cosigner(
        ['pair', '--home', 'cosigner-home', '--pairing-token', `${token.slice(0, -4)}AAAA`],
        cwd,
      );
      expect(forged.status).toBe(5);
      const after = cosigner(['api-keys', 'list', '--home', 'cosigner-home', '--json'], cwd);
      expect((JSON.parse(after.stdout) as unknown[]).length).toBe(1);
    } finally {
      dev.child.kill('SIGTERM');
      await exitOf(dev.child);
    }
  });
});
