/**
 * Key generation end to end with real processes on loopback: `countersign dev` (the platform),
 * two Cloud Co-signers registered with cloud pairing tokens and one API co-signer paired to a
 * Signer, each a separate `cosigner start` process with its own store. The API co-signer's pairing
 * waits for the workspace Owner, who approves it while the platform is stopped (the Owner acts on
 * the embedded database; see helpers.ts). After the pairing, both root keys (EDDSA_ED25519 by FROST, ECDSA_SECP256K1 by DKLs23) are generated through the relay:
 * every party holds a share set of each with the same group public key, and the platform
 * recorded the same keys.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COSIGNER_BIN as COSIGNER,
  decideAsDevOwner,
  exitOf,
  runCli,
  startDev,
  type DevPlatform,
} from './helpers.js';
const PASSPHRASE = 'keygen test passphrase';
const env = { ...process.env, COSIGNER_PASSPHRASE: PASSPHRASE };

function cosigner(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [COSIGNER, ...args], {
    cwd,
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface ShareSetStatus {
  id: string;
  apiKeyId: string;
  algorithm: string;
  publicKey?: string;
}

function shareSetsOf(home: string, cwd: string): ShareSetStatus[] {
  const r = cosigner(['status', '--home', home, '--json'], cwd);
  if (r.status !== 0) return [];
  return (JSON.parse(r.stdout) as { shareSets: ShareSetStatus[] }).shareSets;
}

describe('KEYGEN through the relay, every party a process', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-keygen-'));
  const daemons: { child: ChildProcess; log: () => string }[] = [];
  afterAll(async () => {
    for (const d of daemons) {
      if (d.child.exitCode === null) {
        d.child.kill('SIGTERM');
        await exitOf(d.child);
      }
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  const startDaemon = (home: string, cloud: boolean): void => {
    const child = spawn(
      process.execPath,
      [COSIGNER, 'start', '--home', home, ...(cloud ? ['--cloud'] : [])],
      { cwd, env },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    daemons.push({ child, log: () => out });
  };

  it('generates both root keys among cloud-1, cloud-2 and the API co-signer', async () => {
    // First run creates the workspace; stopped so the operator can mint cloud tokens (PGlite is
    // locked while the platform runs).
    const first = await startDev(cwd);
    await first.stop();
    const tokens = [1, 2].map((slot) => {
      const r = runCli(
        [
          'cloud-cosigner',
          'token',
          '--slot',
          String(slot),
          '--data-dir',
          '.countersign/db',
          '--json',
        ],
        cwd,
      );
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { pairingToken: string }).pairingToken;
    });

    let dev: DevPlatform = await startDev(cwd);
    try {
      const { platformUrl } = dev;
      const cloudHomes: string[] = [];
      for (const [i, token] of tokens.entries()) {
        const home = `cloud-${i + 1}`;
        const setup = cosigner(
          ['setup', '--home', home, '--kms', 'local', '--name', home, '--cloud'],
          cwd,
        );
        expect(setup.status, setup.stderr).toBe(0);
        const paired = cosigner(
          ['pair', '--home', home, '--pairing-token', token, '--platform-url', platformUrl],
          cwd,
        );
        expect(paired.status, paired.stderr).toBe(0);
        cloudHomes.push(home);
      }

      const csr = runCli(['csr', '--name', 'signer', '--org', 'Acme', '--out', 'signer'], cwd);
      expect(csr.status, csr.stderr).toBe(0);
      const created = runCli(
        [
          'api-user',
          'create',
          '--name',
          'signer',
          '--role',
          'SIGNER',
          '--csr',
          'signer/api_user.csr',
        ],
        cwd,
      );
      expect(created.status, created.stderr).toBe(0);
      const users = JSON.parse(runCli(['api', 'GET', '/v1/management/api_users'], cwd).stdout) as {
        users: { id: string; name: string }[];
      };
      const signer = users.users.find((u) => u.name === 'signer')!.id;
      const issued = runCli(
        ['api', 'POST', `/v1/countersign/api_users/${signer}/pairing_token`],
        cwd,
      );
      expect(issued.status, issued.stderr).toBe(0);
      const pairingToken = (JSON.parse(issued.stdout) as { pairingToken: string }).pairingToken;
      const setup = cosigner(
        [
          'setup',
          '--home',
          'api-cosigner',
          '--kms',
          'local',
          '--name',
          'treasury',
          '--pairing-token',
          pairingToken,
          '--platform-url',
          platformUrl,
          '--no-wait',
          '--json',
        ],
        cwd,
      );
      expect(setup.status, setup.stderr).toBe(0);
      const { requestId } = (JSON.parse(setup.stdout) as { pairing: { requestId: string } })
        .pairing;
      // The Owner approves (platform stopped, then started again where the co-signers expect it);
      // the co-signer then collects its refresh token.
      const port = dev.port;
      await dev.stop();
      await decideAsDevOwner(cwd, requestId);
      dev = await startDev(cwd, port);
      const approved = cosigner(['pair', '--home', 'api-cosigner', '--timeout', '60'], cwd);
      expect(approved.status, approved.stderr).toBe(0);
      expect(approved.stdout).toMatch(/^Paired\./);
      for (const home of cloudHomes) startDaemon(home, true);
      startDaemon('api-cosigner', false);

      // Wait for every party to hold both share sets (no fixed sleep: poll the stores).
      const homes = ['cloud-1', 'cloud-2', 'api-cosigner'];
      let sets: ShareSetStatus[][] = [];
      const deadline = Date.now() + 240_000;
      for (;;) {
        sets = homes.map((h) => shareSetsOf(h, cwd));
        if (sets.every((s) => s.length === 2) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(
        sets.map((s) => s.length),
        daemons.map((d) => d.log()).join('\n---\n'),
      ).toEqual([2, 2, 2]);
      for (const algorithm of ['EDDSA_ED25519', 'ECDSA_SECP256K1']) {
        const mine = sets.map((s) => s.find((x) => x.algorithm === algorithm)!);
        expect(new Set(mine.map((m) => m.id)).size).toBe(1);
        expect(new Set(mine.map((m) => m.publicKey)).size).toBe(1);
        expect(mine[0]!.publicKey).toMatch(/^[0-9a-f]{64,66}$/);
        for (const m of mine) expect(m.apiKeyId).toBe(signer);
      }

      // The platform recorded the same public keys (audited with the root key).
      const audit = runCli(['api', 'GET', '/v1/management/audit_logs'], cwd);
      expect(audit.status, audit.stderr).toBe(0);
      const recorded = audit.stdout;
      for (const s of sets[2]!) expect(recorded).toContain(s.publicKey!);

      // Graceful stop on SIGTERM.
      for (const d of daemons) {
        d.child.kill('SIGTERM');
        expect(await exitOf(d.child)).toBe(0);
      }
    } finally {
      await dev.stop();
    }
  }, 400_000);
});
