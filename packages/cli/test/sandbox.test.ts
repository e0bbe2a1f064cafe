/**
 * A sandbox workspace signs with no co-signer of its own (platform docs/sandbox.md), end to end:
 * `countersign workspace init --sandbox`, two SIGNER API users created in it before any
 * co-signer exists, then `countersign dev` as a real process — the platform, both Cloud
 * Co-signers and the communal test co-signer in its process. Registering the communal co-signer
 * pairs the sandbox's signers to it; KEYGEN makes the sandbox's root keys with it; each sandbox
 * API user signs a RAW message (Ed25519, then secp256k1), verified with @noble/curves under the
 * key derived from the root the communal co-signer's store holds.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivePublicKey } from '@countersign/mpc';
import { createServices, openDatabase } from '@countersign/platform';
import {
  CountersignClient,
  createPemRequestSigner,
  type TransactionResponse,
} from '@countersign/sdk';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COSIGNER_BIN,
  DEV_OWNER_PASSWORD,
  exitOf,
  freshCsrPem,
  runCli,
  startCli,
} from './helpers.js';
import { statusShareSets, type ShareSetStatus } from './signing-stack.js';

const SANDBOX_OWNER = 'sandbox-owner@countersign.test';

describe('a sandbox workspace signs through the communal test co-signer', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-sandbox-'));
  let dev: Awaited<ReturnType<typeof startCli>> | undefined;
  afterAll(async () => {
    if (dev && dev.child.exitCode === null) {
      dev.child.kill('SIGTERM');
      await exitOf(dev.child);
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  /** The communal co-signer's share sets, read from its store with the `cosigner` command. */
  const communalShareSets = (): ShareSetStatus[] => {
    const r = spawnSync(
      process.execPath,
      [
        COSIGNER_BIN,
        'status',
        '--home',
        '.countersign/cosigners/sandbox',
        '--passphrase-file',
        '.countersign/dev/cosigner-passphrase',
        '--json',
      ],
      { cwd, encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0) return [];
    return statusShareSets(r.stdout);
  };

  it('signers made in a sandbox are paired to the communal co-signer, which makes the root keys and signs RAW Ed25519 and secp256k1 for each', async () => {
    const env = { COUNTERSIGN_OWNER_PASSWORD: DEV_OWNER_PASSWORD };
    const init = runCli(
      [
        'workspace',
        'init',
        '--sandbox',
        '--name',
        'Sandbox',
        '--owner-email',
        SANDBOX_OWNER,
        '--data-dir',
        '.countersign/db',
      ],
      cwd,
      env,
    );
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^Sandbox workspace created/);
    expect(init.stdout).toMatch(/unpair/);
    const workspaceId = /workspace id: +([0-9a-f-]{36})/.exec(init.stdout)![1]!;

    // The sandbox's Owner creates two SIGNER API users (quorum 1: ready at once).
    const signers: { id: string; pem: string }[] = [];
    const database = await openDatabase({ dataDir: join(cwd, '.countersign', 'db') });
    try {
      const services = createServices(database, { clockSkewSeconds: 0 });
      const signedIn = await services.workspaces.signIn(SANDBOX_OWNER, DEV_OWNER_PASSWORD);
      if (signedIn.outcome !== 'signed-in') throw new Error(signedIn.outcome);
      for (const name of ['sandbox-signer-1', 'sandbox-signer-2']) {
        const created = await services.apiUsers.create(signedIn.principal, {
          name,
          role: 'SIGNER',
          csrPem: freshCsrPem(cwd, name),
        });
        expect(created.user.status).toBe('READY');
        signers.push({ id: created.user.id, pem: readFileSync(join(cwd, `${name}.key`), 'utf8') });
      }
    } finally {
      await database.close();
    }

    dev = await startCli(
      ['dev', '--port', '0'],
      cwd,
      /Registering sandbox as the communal test co-signer/,
      env,
    );
    // The whole stack shares one process: let the dev workspace's own KEYGEN finish (its banner)
    // before timing any request. No fixed sleep: poll the output.
    const banner = Date.now() + 400_000;
    while (!/Press Ctrl\+C to stop\./.test(dev.output())) {
      if (dev.child.exitCode !== null || Date.now() > banner)
        throw new Error(`countersign dev is not ready:\n${dev.output()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const { baseUrl } = JSON.parse(
      readFileSync(join(cwd, '.countersign/dev/state.json'), 'utf8'),
    ) as { baseUrl: string };
    const clients = signers.map(
      (s) =>
        new CountersignClient({
          baseUrl,
          apiKey: s.id,
          signer: createPemRequestSigner(s.pem),
        }),
    );
    const [first, second] = clients as [CountersignClient, CountersignClient];

    // KEYGEN for the sandbox's first signer, with the communal co-signer (no fixed sleep).
    let roots: ShareSetStatus[] = [];
    const deadline = Date.now() + 400_000;
    for (;;) {
      roots = communalShareSets().filter((s) => s.apiKeyId === signers[0]!.id);
      if (roots.length === 2) break;
      if (Date.now() > deadline) throw new Error(`no sandbox root keys:\n${dev.output()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const root = (algorithm: string, curve: 'ed25519' | 'secp256k1', path: readonly number[]) => {
      const r = roots.find((s) => s.algorithm === algorithm)!;
      return derivePublicKey(
        {
          curve,
          publicKey: Buffer.from(r.publicKey!, 'hex'),
          chainCode: Buffer.from(r.chainCode!, 'hex'),
        },
        path,
      ).publicKey;
    };
    const settled = async (client: CountersignClient, id: string): Promise<TransactionResponse> => {
      const until = Date.now() + 180_000;
      for (;;) {
        const tx = await client.getTransaction(id);
        if (tx.status === 'COMPLETED' || tx.status === 'FAILED') return tx;
        if (Date.now() > until) throw new Error(`still ${tx.status}:\n${dev!.output()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };

    // The first sandbox API user signs Ed25519.
    const message = Buffer.from('Countersign sandbox, Ed25519');
    const eddsa = await first.createTransaction({
      operation: 'RAW',
      source: { type: 'VAULT_ACCOUNT', id: '0' },
      extraParameters: {
        rawMessageData: {
          algorithm: 'MPC_EDDSA_ED25519',
          messages: [{ content: message.toString('hex') }],
        },
      },
    });
    // The second sandbox API user signs secp256k1.
    const digest = createHash('sha256').update('Countersign sandbox, secp256k1').digest();
    const ecdsa = await second.createTransaction({
      operation: 'RAW',
      assetId: 'ETH',
      source: { type: 'VAULT_ACCOUNT', id: '0' },
      extraParameters: {
        rawMessageData: { messages: [{ content: digest.toString('hex'), bip44addressIndex: 2 }] },
      },
    });

    const e = await settled(first, eddsa.id);
    expect(e, dev.output()).toMatchObject({ status: 'COMPLETED' });
    const signedE = e.signedMessages[0]!;
    const edKey = root('EDDSA_ED25519', 'ed25519', signedE.derivationPath);
    expect(signedE.publicKey).toBe(Buffer.from(edKey).toString('hex'));
    expect(
      ed25519.verify(Buffer.from(signedE.signature.fullSig, 'hex'), message, edKey, {
        zip215: false,
      }),
    ).toBe(true);

    const s = await settled(second, ecdsa.id);
    expect(s, dev.output()).toMatchObject({ status: 'COMPLETED' });
    const signedS = s.signedMessages[0]!;
    expect(signedS.derivationPath).toEqual([44, 60, 0, 0, 2]);
    const ecKey = root('ECDSA_SECP256K1', 'secp256k1', signedS.derivationPath);
    expect(signedS.publicKey).toBe(Buffer.from(ecKey).toString('hex'));
    expect(
      secp256k1.verify(Buffer.from(signedS.signature.fullSig, 'hex'), digest, ecKey, {
        prehash: false,
        lowS: true,
      }),
    ).toBe(true);

    // Its API users are shown that they are in a sandbox.
    expect(await second.request('GET', '/v1/countersign/session')).toMatchObject({
      workspaceId,
      workspaceSandbox: true,
    });

    dev.child.kill('SIGTERM');
    expect(await exitOf(dev.child)).toBe(0);
  }, 900_000);
});
