/**
 * Pairing a co-signer end to end with real processes on loopback: `countersign dev`, an admin
 * issuing pairing tokens through the signed API, the `cosigner` binary setting itself up and
 * pairing, and the workspace Owner deciding each pairing (pairing review H1): the co-signer shows
 * its identity fingerprint and waits — through a platform restart — until the Owner approves,
 * and only then gets its refresh token; a rejection is a clear error with exit 5, a wait that
 * runs out exit 6 with the pairing still pending.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityFingerprint } from '@countersign/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COSIGNER_BIN,
  decideAsDevOwner,
  exitOf,
  lowCostKeyFile,
  runCli,
  startCli,
  startDev,
  type DevPlatform,
} from './helpers.js';

const PASSPHRASE = 'pairing test passphrase';
const env = { COSIGNER_PASSPHRASE: PASSPHRASE };

function cosigner(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [COSIGNER_BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
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

const WAITING = /approval request ([0-9a-f-]{36})\)\.\nIdentity fingerprint: ([0-9a-f ]{39})\n/;

describe('cosigner pairing against countersign dev', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-pairing-'));
  let dev: DevPlatform | undefined;
  afterAll(async () => {
    await dev?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  /** Stops the platform, lets the Owner decide, and starts it again on the same port. */
  const ownerDecides = async (requestId: string, decision: 'APPROVE' | 'REJECT') => {
    const port = dev!.port;
    await dev!.stop();
    const payload = await decideAsDevOwner(cwd, requestId, decision);
    dev = await startDev(cwd, port);
    return payload;
  };

  it('waits for the Owner, shows the fingerprint, pairs once approved; rejection and timeout are clear', async () => {
    dev = await startDev(cwd);
    const { platformUrl } = dev;
    const signer = createApiUser(cwd, 'signer-1', 'SIGNER');
    const token = pairingToken(cwd, signer);

    await lowCostKeyFile(join(cwd, 'cosigner-home'), PASSPHRASE);
    const setup = await startCli(
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
        platformUrl,
        '--timeout',
        '600',
        '--json',
      ],
      cwd,
      WAITING,
      env,
      COSIGNER_BIN,
    );
    const [, requestId, fingerprint] = setup.match;
    expect(setup.output()).toMatch(/Waiting for Owner approval/);
    // Nothing paired while the Owner has not decided.
    const before = runCli(['api', 'GET', '/v1/cosigners'], cwd);
    const [listed] = (JSON.parse(before.stdout) as { data: { id: string }[] }).data;
    const keysBefore = runCli(['api', 'GET', `/v1/cosigners/${listed!.id}/api_keys`], cwd);
    expect(JSON.parse(keysBefore.stdout)).toMatchObject({ data: [] });

    // The Owner sees the same fingerprint, approves; the co-signer waited through the restart.
    const shown = await ownerDecides(requestId!, 'APPROVE');
    expect(shown).toMatchObject({ identityFingerprint: fingerprint, newCosigner: true });
    expect(await exitOf(setup.child)).toBe(0);
    const result = JSON.parse(/\{[\s\S]*\}\s*$/.exec(setup.output())![0]) as {
      identityKey: string;
      pairing: { status: string; cosignerId: string; apiKeyId: string };
    };
    expect(result.pairing).toMatchObject({ status: 'PAIRED', apiKeyId: signer });
    expect(identityFingerprint(Buffer.from(result.identityKey, 'hex'))).toBe(fingerprint);

    // The platform knows the co-signer by the name and identity it registered, and the key.
    const listedAfter = runCli(['api', 'GET', '/v1/cosigners'], cwd);
    expect(JSON.parse(listedAfter.stdout)).toMatchObject({
      data: [{ id: result.pairing.cosignerId, name: 'treasury co-signer' }],
    });
    const keys = runCli(['api', 'GET', `/v1/cosigners/${result.pairing.cosignerId}/api_keys`], cwd);
    expect(JSON.parse(keys.stdout)).toMatchObject({ data: [{ id: signer }] });
    const status = cosigner(['status', '--home', 'cosigner-home', '--json'], cwd);
    expect(JSON.parse(status.stdout)).toMatchObject({
      pairedApiKeys: [{ apiKeyId: signer, cosignerId: result.pairing.cosignerId, platformUrl }],
    });

    // The token was single use.
    const reused = cosigner(['pair', '--home', 'cosigner-home', '--pairing-token', token], cwd);
    expect(reused.status).toBe(5);
    expect(reused.stderr).toMatch(/code 1303/);

    // A second API key, asked without waiting; the Owner rejects it; waiting reports that.
    const second = createApiUser(cwd, 'signer-2', 'SIGNER');
    const pending = cosigner(
      [
        'pair',
        '--home',
        'cosigner-home',
        '--pairing-token',
        pairingToken(cwd, second),
        '--no-wait',
        '--json',
      ],
      cwd,
    );
    expect(pending.status, pending.stderr).toBe(0);
    const asked = JSON.parse(pending.stdout) as { requestId: string; identityFingerprint: string };
    expect(asked).toMatchObject({
      status: 'WAITING_FOR_APPROVAL',
      apiKeyId: second,
      cosignerId: result.pairing.cosignerId,
      identityFingerprint: fingerprint,
    });
    // Its wait runs out first: exit 6, still pending.
    const timedOut = cosigner(['pair', '--home', 'cosigner-home', '--timeout', '0'], cwd);
    expect(timedOut.status).toBe(6);
    expect(timedOut.stderr).toMatch(/still waits for the workspace Owner/);
    await ownerDecides(asked.requestId, 'REJECT');
    const rejected = cosigner(['pair', '--home', 'cosigner-home'], cwd);
    expect(rejected.status).toBe(5);
    expect(rejected.stderr).toMatch(/the workspace Owner rejected the pairing/);
    // Nothing pending any more, one key paired.
    const nothing = cosigner(['pair', '--home', 'cosigner-home'], cwd);
    expect(nothing.status).toBe(2);
    const after = cosigner(['api-keys', 'list', '--home', 'cosigner-home', '--json'], cwd);
    expect((JSON.parse(after.stdout) as unknown[]).length).toBe(1);

    // A forged token is refused by the platform, and nothing is stored.
    const forged = cosigner(
      ['pair', '--home', 'cosigner-home', '--pairing-token', `${token.slice(0, -4)}AAAA`],
      cwd,
    );
    expect(forged.status).toBe(5);
  }, 300_000);
});
