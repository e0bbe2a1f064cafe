/**
 * A later signer gets its share sets by RESHARE (ARCHITECTURE §3 "Next signer"), end to end with
 * real processes on loopback (signing-stack.ts): `countersign dev`, two Cloud Co-signers and API
 * co-signers, each a `cosigner start` process with its own store.
 *
 * The first signer's co-signer, the customer's guard, has no Callback Handler and starts as in
 * production — without `--approve-pairings-without-handler` — so when a second SIGNER is paired
 * it refuses to deal (PAIRING_NOT_GUARDED, reshare review H1): the refusal is final for that
 * pairing (M1) and the Owner sees it on the pairing's approval request. Restarted with the
 * opt-in, it deals for a third SIGNER: cloud-1, cloud-2 and the first signer's co-signer
 * re-deal both root keys (FROST and DKLs23) to {cloud-1, cloud-2, the third co-signer} — same
 * public keys and chain codes, the old share sets kept; the refused second signer still gets
 * nothing. Then the first signer's co-signer is stopped, and the third one signs RAW EdDSA and
 * ECDSA messages for the same addresses — verified with @noble/curves under keys derived from
 * the first signer's root.
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
  untilStoresHold,
  type ShareSetStatus,
  type SigningStack,
} from './signing-stack.js';

/** A co-signer not seen for this long is no longer available (platform share-sets.ts). */
const AVAILABLE_WITHIN_MS = 60_000;

describe('RESHARE: a later signer signs for the same addresses, every party a process', () => {
  let stack: SigningStack;
  let client: CountersignClient;
  let secondSignerId: string;
  let thirdSignerId: string;

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

  /** The share sets shown on the approval request of `signerId`'s pairing (the Owner's view). */
  const pairingShareSets = (signerId: string): { status: string; subStatus?: string }[] => {
    const listed = runCli(['api', 'GET', '/v1/countersign/approval_requests'], stack.cwd);
    const { approvalRequests } = JSON.parse(listed.stdout) as {
      approvalRequests: { kind: string; subjectId: string; shareSets?: [] }[];
    };
    const request = approvalRequests.find(
      (r) => r.kind === 'COSIGNER_PAIR' && r.subjectId === signerId,
    );
    return request?.shareSets ?? [];
  };

  it("without a Callback Handler or the operator's opt-in, the first signer's co-signer refuses to deal, and that is final", async () => {
    secondSignerId = await stack.pairSigner('signer-2', 'api-cosigner-2');
    stack.startDaemon('api-cosigner-2');
    const deadline = Date.now() + 120_000;
    for (;;) {
      const shown = pairingShareSets(secondSignerId);
      // The co-signer logs why (read once its output has reached this process).
      const logged = /"subStatus":"PAIRING_NOT_GUARDED"/.test(stack.logs());
      if (logged && shown.length === 2 && shown.every((s) => s.status === 'REFUSED')) {
        for (const s of shown) expect(s).toMatchObject({ subStatus: 'PAIRING_NOT_GUARDED' });
        break;
      }
      if (Date.now() > deadline) throw new Error(`no refusal shown:\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Nothing was dealt: the second co-signer and the clouds hold only what they held.
    expect(shareSetsOf('api-cosigner-2', stack.cwd)).toEqual([]);
    for (const home of ['cloud-1', 'cloud-2']) expect(shareSetsOf(home, stack.cwd)).toHaveLength(2);
  }, 300_000);

  it('restarted with --approve-pairings-without-handler, it deals to a third signer: both root keys, the refused pairing still nothing', async () => {
    expect(await stack.stopDaemon('api-cosigner')).toEqual([0]);
    stack.startDaemon('api-cosigner', { approvePairingsWithoutHandler: true });
    thirdSignerId = await stack.pairSigner('signer-3', 'api-cosigner-3');
    stack.startDaemon('api-cosigner-3');
    // No fixed sleep: the stores are read once the new co-signer logs both RESHARE jobs done.
    const third = await untilStoresHold(
      () => stack.jobsDone('api-cosigner-3', 'RESHARE').size === 2,
      () => {
        const mine = shareSetsOf('api-cosigner-3', stack.cwd);
        const clouds = ['cloud-1', 'cloud-2'].map((h) => shareSetsOf(h, stack.cwd));
        return mine.length === 2 && clouds.every((c) => c.length === 4) ? mine : undefined;
      },
      300_000,
      () => `RESHARE did not finish:\n${stack.logs()}`,
    );
    for (const algorithm of ['EDDSA_ED25519', 'ECDSA_SECP256K1']) {
      const [mine] = byAlgorithm(third, algorithm);
      const root = firstRoot(algorithm);
      // Same root key and chain code, another share set, the third signer's.
      expect(mine).toMatchObject({
        apiKeyId: thirdSignerId,
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
    expect(pairingShareSets(thirdSignerId).map((s) => s.status)).toEqual(['READY', 'READY']);
    // The first signer's share sets stay valid; the refused pairing was not tried again.
    expect(shareSetsOf('api-cosigner', stack.cwd)).toEqual(stack.shareSets[2]);
    expect(PARTY_HOMES).toContain('api-cosigner');
    expect(shareSetsOf('api-cosigner-2', stack.cwd)).toEqual([]);
    expect(pairingShareSets(secondSignerId).map((s) => s.status)).toEqual(['REFUSED', 'REFUSED']);
  }, 400_000);

  it("with the first signer's co-signer stopped, the third signs RAW EdDSA and ECDSA for the same addresses", async () => {
    expect(await stack.stopDaemon('api-cosigner')).toEqual([0]);
    // Its daemon stopped cleanly and said so (POST /cosigner/v1/offline): the platform routes
    // signing to the third signer at once, though the first one's lastSeen is still fresh.
    const status = cosigner(['status', '--home', 'api-cosigner', '--json'], stack.cwd);
    const firstCosignerId = (
      JSON.parse(status.stdout) as { pairedApiKeys: { cosignerId: string }[] }
    ).pairedApiKeys[0]!.cosignerId;
    const read = runCli(
      ['api', 'GET', `/v1/cosigners/${firstCosignerId}/api_keys/${stack.signerId}`],
      stack.cwd,
    );
    const { lastSeen } = JSON.parse(read.stdout) as { lastSeen?: string };
    expect(Date.now() - Date.parse(lastSeen ?? '')).toBeLessThan(AVAILABLE_WITHIN_MS);

    const settled = async (id: string): Promise<TransactionResponse> => {
      const until = Date.now() + 180_000;
      for (;;) {
        const tx = await client.getTransaction(id);
        if (tx.status === 'COMPLETED' || tx.status === 'FAILED') return tx;
        if (Date.now() > until) throw new Error(`still ${tx.status}:\n${stack.logs()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };

    const message = Buffer.from('Countersign RESHARE: the third signer signs, Ed25519');
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
      signedBy: [thirdSignerId],
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
      signedBy: [thirdSignerId],
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
