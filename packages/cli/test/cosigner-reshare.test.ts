/**
 * A later signer gets its share sets by RESHARE (ARCHITECTURE §3 "Next signer"), end to end with
 * real processes on loopback (signing-stack.ts): `countersign dev`, two Cloud Co-signers and two
 * API co-signers, each a `cosigner start` process with its own store. A second SIGNER is paired
 * to a second API co-signer; once the Owner approves, cloud-1, cloud-2 and the first signer's
 * co-signer re-deal both root keys (FROST and DKLs23) to {cloud-1, cloud-2, the second co-signer}:
 * same public keys and chain codes, the old share sets kept. Then the first signer's co-signer is
 * stopped, and the second one signs RAW EdDSA and ECDSA messages for the same addresses —
 * verified with @noble/curves under keys derived from the first signer's root.
 */
import { derivePublicKey } from '@countersign/mpc';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { createHash } from 'node:crypto';
import type { CountersignClient, TransactionResponse } from '@countersign/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';
import {
  cosigner,
  devClient,
  PARTY_HOMES,
  shareSetsOf,
  startSigningStack,
  type ShareSetStatus,
  type SigningStack,
} from './signing-stack.js';

/** A co-signer not seen for this long is no longer available (platform share-sets.ts). */
const AVAILABLE_WITHIN_MS = 60_000;

describe('RESHARE: a second signer signs for the same addresses, every party a process', () => {
  let stack: SigningStack;
  let client: CountersignClient;
  let secondSignerId: string;

  beforeAll(async () => {
    stack = await startSigningStack('countersign-reshare-');
    client = devClient(stack);
  }, 400_000);
  afterAll(async () => {
    if (!stack) return;
    await stack.stop();
    stack.remove();
  });

  const byAlgorithm = (sets: ShareSetStatus[], algorithm: string) =>
    sets.filter((s) => s.algorithm === algorithm);
  const firstRoot = (algorithm: string): ShareSetStatus =>
    byAlgorithm(stack.shareSets[2]!, algorithm)[0]!;

  it('the Owner approves the pairing; RESHARE gives the second co-signer both root keys', async () => {
    secondSignerId = await stack.pairSigner('signer-2', 'api-cosigner-2');
    stack.startDaemon('api-cosigner-2');
    // No fixed sleep: poll the stores until every party holds its share sets.
    let second: ShareSetStatus[] = [];
    const deadline = Date.now() + 300_000;
    for (;;) {
      second = shareSetsOf('api-cosigner-2', stack.cwd);
      const clouds = ['cloud-1', 'cloud-2'].map((h) => shareSetsOf(h, stack.cwd));
      if (second.length === 2 && clouds.every((c) => c.length === 4)) break;
      if (Date.now() > deadline) throw new Error(`RESHARE did not finish:\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const algorithm of ['EDDSA_ED25519', 'ECDSA_SECP256K1']) {
      const [mine] = byAlgorithm(second, algorithm);
      const root = firstRoot(algorithm);
      // Same root key and chain code, another share set, the second signer's.
      expect(mine).toMatchObject({
        apiKeyId: secondSignerId,
        publicKey: root.publicKey,
        chainCode: root.chainCode,
      });
      expect(mine!.id).not.toBe(root.id);
      // Each cloud co-signer holds a share of both signers' share sets.
      for (const home of ['cloud-1', 'cloud-2'])
        expect(
          byAlgorithm(shareSetsOf(home, stack.cwd), algorithm)
            .map((s) => s.id)
            .sort(),
        ).toEqual([root.id, mine!.id].sort());
    }
    // The first signer's share sets stay valid.
    expect(shareSetsOf('api-cosigner', stack.cwd)).toEqual(stack.shareSets[2]);
    expect(PARTY_HOMES).toContain('api-cosigner');
  }, 400_000);

  it("with the first signer's co-signer stopped, the second signs RAW EdDSA and ECDSA for the same addresses", async () => {
    expect(await stack.stopDaemon('api-cosigner')).toEqual([0]);
    // The platform sees a co-signer as available while it polls: wait until the first one's
    // lastSeen is older than that window (read through the management API).
    const status = cosigner(['status', '--home', 'api-cosigner', '--json'], stack.cwd);
    const firstCosignerId = (
      JSON.parse(status.stdout) as { pairedApiKeys: { cosignerId: string }[] }
    ).pairedApiKeys[0]!.cosignerId;
    const deadline = Date.now() + 3 * AVAILABLE_WITHIN_MS;
    for (;;) {
      const read = runCli(
        ['api', 'GET', `/v1/cosigners/${firstCosignerId}/api_keys/${stack.signerId}`],
        stack.cwd,
      );
      const { lastSeen } = JSON.parse(read.stdout) as { lastSeen?: string };
      if (lastSeen !== undefined && Date.now() - Date.parse(lastSeen) > AVAILABLE_WITHIN_MS + 1000)
        break;
      if (Date.now() > deadline) throw new Error(`lastSeen stays fresh: ${read.stdout}`);
      await new Promise((r) => setTimeout(r, 2000));
    }

    const settled = async (id: string): Promise<TransactionResponse> => {
      const until = Date.now() + 180_000;
      for (;;) {
        const tx = await client.getTransaction(id);
        if (tx.status === 'COMPLETED' || tx.status === 'FAILED') return tx;
        if (Date.now() > until) throw new Error(`still ${tx.status}:\n${stack.logs()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };

    const message = Buffer.from('Countersign RESHARE: the second signer signs, Ed25519');
    const eddsa = await client.createTransaction({
      operation: 'RAW',
      source: { type: 'VAULT_ACCOUNT', id: '3' },
      extraParameters: {
        rawMessageData: {
          algorithm: 'MPC_EDDSA_ED25519',
          messages: [{ content: message.toString('hex') }],
        },
      },
    });
    const digest = createHash('sha256').update('Countersign RESHARE, secp256k1').digest();
    const ecdsa = await client.createTransaction({
      operation: 'RAW',
      assetId: 'ETH',
      source: { type: 'VAULT_ACCOUNT', id: '1' },
      extraParameters: {
        rawMessageData: { messages: [{ content: digest.toString('hex'), bip44addressIndex: 4 }] },
      },
    });

    const signedEddsa = await settled(eddsa.id);
    expect(signedEddsa, stack.logs()).toMatchObject({
      status: 'COMPLETED',
      signedBy: [secondSignerId],
    });
    const e = signedEddsa.signedMessages[0]!;
    const eddsaRoot = firstRoot('EDDSA_ED25519');
    const eddsaKey = derivePublicKey(
      {
        curve: 'ed25519',
        publicKey: Buffer.from(eddsaRoot.publicKey!, 'hex'),
        chainCode: Buffer.from(eddsaRoot.chainCode!, 'hex'),
      },
      e.derivationPath,
    ).publicKey;
    // The same address the first signer signs for: the key derived from its root.
    expect(e.publicKey).toBe(Buffer.from(eddsaKey).toString('hex'));
    expect(
      ed25519.verify(Buffer.from(e.signature.fullSig, 'hex'), message, eddsaKey, {
        zip215: false,
      }),
    ).toBe(true);

    const signedEcdsa = await settled(ecdsa.id);
    expect(signedEcdsa, stack.logs()).toMatchObject({
      status: 'COMPLETED',
      signedBy: [secondSignerId],
    });
    const s = signedEcdsa.signedMessages[0]!;
    expect(s.derivationPath).toEqual([44, 60, 1, 0, 4]);
    const ecdsaRoot = firstRoot('ECDSA_SECP256K1');
    const ecdsaKey = derivePublicKey(
      {
        curve: 'secp256k1',
        publicKey: Buffer.from(ecdsaRoot.publicKey!, 'hex'),
        chainCode: Buffer.from(ecdsaRoot.chainCode!, 'hex'),
      },
      s.derivationPath,
    ).publicKey;
    expect(s.publicKey).toBe(Buffer.from(ecdsaKey).toString('hex'));
    expect(
      secp256k1.verify(Buffer.from(s.signature.fullSig, 'hex'), digest, ecdsaKey, {
        prehash: false,
        lowS: true,
      }),
    ).toBe(true);
  }, 600_000);
});
