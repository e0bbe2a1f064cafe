/**
 * Concurrent jobs in the co-signer daemon (raw-signing review H2, L1), with real processes on
 * loopback (signing-stack.ts): several RAW transactions, ECDSA and EdDSA, created at once are
 * all signed correctly while the daemons run several jobs at a time (the API co-signer's log
 * shows jobs overlapping), and a second `cosigner start` on a home whose daemon runs is refused
 * with exit code 7, leaving the running daemon untouched.
 */
import type { CountersignClient } from '@countersign/sdk';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosigner,
  devClient,
  PARTY_HOMES,
  startSigningStack,
  type SigningStack,
} from './signing-stack.js';

/** Transactions per algorithm, all created before any is awaited. */
const PER_ALGORITHM = 5;

describe('a co-signer daemon runs several jobs at once; one daemon per store', () => {
  let stack: SigningStack;
  let client: CountersignClient;

  beforeAll(async () => {
    stack = await startSigningStack('countersign-concurrency-');
    client = devClient(stack);
  }, 400_000);
  afterAll(async () => {
    if (!stack) return;
    // Every daemon still stops cleanly (exit 0) after the refused second start.
    expect(await stack.stop()).toEqual([0, 0, 0]);
    stack.remove();
  });

  const settled = async (txId: string) => {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const tx = await client.getTransaction(txId);
      if (tx.status === 'COMPLETED' || tx.status === 'FAILED') return tx;
      if (Date.now() > deadline) throw new Error(`still ${tx.status}:\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('signs every RAW transaction in flight, ECDSA and EdDSA, each under its own path', async () => {
    const requests = Array.from({ length: PER_ALGORITHM * 2 }, (_, i) => {
      const eddsa = i % 2 === 0;
      const content = Buffer.alloc(32, i + 1).toString('hex');
      return {
        eddsa,
        content,
        index: i,
        create: client.createTransaction({
          operation: 'RAW',
          ...(eddsa ? {} : { assetId: 'ETH' }),
          source: { type: 'VAULT_ACCOUNT', id: '0' },
          extraParameters: {
            rawMessageData: {
              ...(eddsa ? { algorithm: 'MPC_EDDSA_ED25519' } : {}),
              messages: [{ content, bip44addressIndex: i }],
            },
          },
        }),
      };
    });
    const created = await Promise.all(requests.map((r) => r.create));
    const done = await Promise.all(created.map((c) => settled(c.id)));

    for (const [i, tx] of done.entries()) {
      const request = requests[i]!;
      expect(tx.status, stack.logs()).toBe('COMPLETED');
      const signed = tx.signedMessages[0]!;
      expect(signed.content).toBe(request.content);
      expect(signed.derivationPath).toEqual([44, request.eddsa ? 0 : 60, 0, 0, request.index]);
      const message = Buffer.from(request.content, 'hex');
      const publicKey = Buffer.from(signed.publicKey, 'hex');
      const signature = Buffer.from(signed.signature.fullSig, 'hex');
      // Each signature verifies for its own message under its own derived key: concurrent
      // sessions never mixed messages, paths or shares.
      expect(
        request.eddsa
          ? ed25519.verify(signature, message, publicKey, { zip215: false })
          : secp256k1.verify(signature, message, publicKey, { prehash: false, lowS: true }),
      ).toBe(true);
    }
    expect(new Set(done.map((tx) => tx.signedMessages[0]!.publicKey)).size).toBe(done.length);

    // The API co-signer had several jobs leased at once (leased before others were done).
    const apiLog = stack.logs().split('\n---\n')[PARTY_HOMES.indexOf('api-cosigner')]!;
    let inFlight = 0;
    let most = 0;
    for (const line of apiLog.split('\n')) {
      if (!line.startsWith('{')) continue;
      const { message } = JSON.parse(line) as { message: string };
      if (message === 'job leased') most = Math.max(most, ++inFlight);
      if (message === 'job done' || message === 'job failed') inFlight -= 1;
    }
    expect(most, apiLog).toBeGreaterThan(1);
  }, 400_000);

  it('refuses a second daemon on the same store with exit code 7', () => {
    for (const home of ['api-cosigner', 'cloud-1']) {
      const second = cosigner(
        ['start', '--home', home, ...(home === 'cloud-1' ? ['--cloud'] : [])],
        stack.cwd,
      );
      expect(second.status, second.stderr).toBe(7);
      expect(second.stderr).toMatch(/another co-signer daemon \(cosigner start\) is running/);
    }
    const usage = cosigner(['start', '--home', 'api-cosigner', '--concurrency', '0'], stack.cwd);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--concurrency must be an integer from 1 to 256/);
  });
});
