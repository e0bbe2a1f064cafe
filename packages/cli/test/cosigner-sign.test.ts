/**
 * RAW signing end to end with real processes on loopback (signing-stack.ts): the official
 * `@fireblocks/ts-sdk`, unchanged, creates a RAW transaction on `countersign dev`; cloud-1,
 * cloud-2 and the API co-signer — each a `cosigner start` process with its own store — sign it
 * through the relay under the platform's signed authorization; `getTransaction` returns the
 * signed message, which verifies under the derived public key with libraries independent of
 * ours (@noble/curves, node:crypto; for ECDSA also @scure/bip32 for the derivation and viem for
 * the recovery id).
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { Fireblocks, type TransactionResponse } from '@fireblocks/ts-sdk';
import { derivePublicKey } from '@countersign/mpc';
import type { CreateTransactionInput } from '@countersign/sdk';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { publicKeyToAddress } from 'viem/accounts';
import { recoverAddress } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  devClient,
  PARTY_HOMES,
  presignaturePool,
  shareSetsOf,
  startSigningStack,
  type SigningStack,
} from './signing-stack.js';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** SubjectPublicKeyInfo DER prefix of a compressed secp256k1 key (RFC 5480). */
const SECP256K1_SPKI_PREFIX = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');

describe('RAW signing through the relay, every party a process', () => {
  let stack: SigningStack;
  let fireblocks: Fireblocks;

  beforeAll(async () => {
    stack = await startSigningStack('countersign-sign-');
    fireblocks = new Fireblocks({
      apiKey: stack.devApiKey,
      secretKey: stack.devPrivateKeyPem,
      basePath: `${stack.platformUrl}/v1`,
    });
  }, 400_000);
  afterAll(async () => {
    if (!stack) return;
    await stack.stop();
    stack.remove();
  });

  /** Reads the transaction until it leaves SUBMITTED/PENDING_SIGNATURE (no fixed sleep). */
  const settled = async (txId: string): Promise<TransactionResponse> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const tx = (await fireblocks.transactions.getTransaction({ txId })).data;
      if (tx.status === 'COMPLETED' || tx.status === 'FAILED') return tx;
      if (Date.now() > deadline) throw new Error(`still ${tx.status}:\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('EdDSA: the SDK creates a RAW transaction; it completes with a verifiable signature', async () => {
    const message = Buffer.from('Countersign RAW signing, Ed25519, end to end');
    const transactionRequest = {
      operation: 'RAW' as const,
      source: { type: 'VAULT_ACCOUNT' as const, id: '3' },
      note: 'e2e eddsa',
      externalTxId: 'e2e-eddsa-1',
      extraParameters: {
        rawMessageData: {
          algorithm: 'MPC_EDDSA_ED25519',
          messages: [{ content: message.toString('hex') }],
        },
      },
    };
    const created = await fireblocks.transactions.createTransaction({
      transactionRequest,
      idempotencyKey: 'e2e-eddsa-key',
    });
    expect(created.statusCode).toBe(200);
    expect(created.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(['SUBMITTED', 'PENDING_SIGNATURE']).toContain(created.data.status);

    // Same Idempotency-Key, same body: the same transaction, not a second one.
    const again = await fireblocks.transactions.createTransaction({
      transactionRequest,
      idempotencyKey: 'e2e-eddsa-key',
    });
    expect(again.data.id).toBe(created.data.id);

    const tx = await settled(created.data.id!);
    expect(tx, stack.logs()).toMatchObject({
      id: created.data.id,
      status: 'COMPLETED',
      operation: 'RAW',
      externalTxId: 'e2e-eddsa-1',
      note: 'e2e eddsa',
      signedBy: [stack.signerId],
    });
    expect(tx.signedMessages).toHaveLength(1);
    const signed = tx.signedMessages![0]!;
    expect(signed.algorithm).toBe('MPC_EDDSA_ED25519');
    expect(signed.content).toBe(message.toString('hex'));
    // Default path: [44, coin type (0: no asset), vault account, 0, 0].
    expect(signed.derivationPath).toEqual([44, 0, 3, 0, 0]);

    // The public key is the root key derived along the path (root from a party's store).
    const eddsaRoot = stack.shareSets[2]!.find((s) => s.algorithm === 'EDDSA_ED25519')!;
    const derived = derivePublicKey(
      {
        curve: 'ed25519',
        publicKey: Buffer.from(eddsaRoot.publicKey!, 'hex'),
        chainCode: Buffer.from(eddsaRoot.chainCode!, 'hex'),
      },
      signed.derivationPath!,
    );
    expect(signed.publicKey).toBe(Buffer.from(derived.publicKey).toString('hex'));
    expect(signed.publicKey).not.toBe(eddsaRoot.publicKey);

    // Verified by two independent implementations (RFC 8032, strict).
    const signature = Buffer.from(signed.signature!.fullSig!, 'hex');
    const publicKey = Buffer.from(signed.publicKey!, 'hex');
    expect(ed25519.verify(signature, message, publicKey, { zip215: false })).toBe(true);
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    expect(verify(null, message, key, signature)).toBe(true);
    expect(verify(null, Buffer.from('another message'), key, signature)).toBe(false);

    // By external id too.
    const byExternal = await fireblocks.transactions.getTransactionByExternalId({
      externalTxId: 'e2e-eddsa-1',
    });
    expect(byExternal.data.id).toBe(created.data.id);

    // Our SDK reads the same transaction, and its Idempotency-Key answers the same one too.
    const ours = devClient(stack);
    const read = await ours.getTransaction(created.data.id!);
    expect(read.signedMessages).toEqual(tx.signedMessages);
    const replayed = await ours.createTransaction({
      ...(transactionRequest as CreateTransactionInput),
      idempotencyKey: 'e2e-eddsa-key',
    });
    expect(replayed).toEqual({ id: created.data.id, status: 'COMPLETED' });
    expect((await ours.getTransactionByExternalId('e2e-eddsa-1')).id).toBe(created.data.id);
    // Still every party's share sets, nothing else changed; each pinned to the three parties
    // its KEYGEN roster seated (pool review M2), which every signing roster matched.
    for (const home of PARTY_HOMES) {
      const shareSets = shareSetsOf(home, stack.cwd);
      expect(shareSets).toHaveLength(2);
      for (const s of shareSets) expect(s.pinnedParties).toEqual([1, 2, 3]);
    }
  }, 200_000);

  it('ECDSA: DKLs23 signs a digest; r, s, v verify with noble, node:crypto (DER) and viem', async () => {
    // The API co-signer and both clouds pool presignatures once the key exists: this signing
    // spends one (the online round only) instead of presigning. A PRESIGN session the stack's
    // restart cut short fails and starts no other (presignature-pool.ts): the next signing tops
    // the pool up, so with none READY or in the making a first signing asks for some.
    const ecdsaPool = () => presignaturePool(stack, 'ECDSA_SECP256K1');
    const idle = await ecdsaPool();
    if ((idle['READY'] ?? 0) === 0 && (idle['MAKING'] ?? 0) === 0) {
      const first = await fireblocks.transactions.createTransaction({
        transactionRequest: {
          operation: 'RAW',
          assetId: 'ETH',
          source: { type: 'VAULT_ACCOUNT', id: '1' },
          extraParameters: {
            rawMessageData: { messages: [{ content: 'ab'.repeat(32), bip44addressIndex: 3 }] },
          },
        },
      });
      expect((await settled(first.data.id!)).status, stack.logs()).toBe('COMPLETED');
    }
    const deadline = Date.now() + 120_000;
    while (((await ecdsaPool())['READY'] ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error(`no presignature pooled:\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const takenBefore = (await ecdsaPool())['TAKEN'] ?? 0;
    const message = Buffer.from('Countersign RAW signing, secp256k1, end to end');
    // The content is the digest signed as is: SHA-256 here, so node:crypto can check it too.
    const digest = createHash('sha256').update(message).digest();
    const created = await fireblocks.transactions.createTransaction({
      transactionRequest: {
        operation: 'RAW',
        assetId: 'ETH',
        source: { type: 'VAULT_ACCOUNT', id: '1' },
        note: 'e2e ecdsa',
        extraParameters: {
          rawMessageData: { messages: [{ content: digest.toString('hex'), bip44addressIndex: 4 }] },
        },
      },
    });
    expect(created.statusCode).toBe(200);
    const tx = await settled(created.data.id!);
    expect(tx.status, stack.logs()).toBe('COMPLETED');
    expect((await ecdsaPool())['TAKEN']).toBe(takenBefore + 1);
    const signed = tx.signedMessages![0]!;
    expect(signed.algorithm).toBe('MPC_ECDSA_SECP256K1');
    // ETH: coin type 60; vault account 1; address index 4.
    expect(signed.derivationPath).toEqual([44, 60, 1, 0, 4]);

    // The derived key: BIP32 CKDpub from the root, by @scure/bip32 (not our derivation code).
    const ecdsaRoot = stack.shareSets[2]!.find((s) => s.algorithm === 'ECDSA_SECP256K1')!;
    const root = new HDKey({
      publicKey: Buffer.from(ecdsaRoot.publicKey!, 'hex'),
      chainCode: Buffer.from(ecdsaRoot.chainCode!, 'hex'),
    });
    const child = root.derive(`m/${signed.derivationPath!.join('/')}`);
    expect(signed.publicKey).toBe(Buffer.from(child.publicKey!).toString('hex'));

    const { r, s, v, fullSig } = signed.signature!;
    expect(fullSig).toBe(`${r}${s}`);
    const compact = Buffer.from(fullSig!, 'hex');
    const publicKey = Buffer.from(signed.publicKey!, 'hex');
    // @noble/curves: valid and low-s.
    expect(secp256k1.verify(compact, digest, publicKey, { prehash: false, lowS: true })).toBe(true);
    // node:crypto: the DER form over the message (it hashes with SHA-256 itself).
    const der = secp256k1.Signature.fromBytes(compact, 'compact').toBytes('der');
    const key = createPublicKey({
      key: Buffer.concat([SECP256K1_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    expect(verify('sha256', message, { key, dsaEncoding: 'der' }, der)).toBe(true);
    // viem: v recovers the address of the derived key.
    const address = publicKeyToAddress(
      `0x${Buffer.from(secp256k1.Point.fromBytes(publicKey).toBytes(false)).toString('hex')}`,
    );
    const recovered = await recoverAddress({
      hash: `0x${digest.toString('hex')}`,
      signature: { r: `0x${r}`, s: `0x${s}`, yParity: v! },
    });
    expect(recovered).toBe(address);
  }, 200_000);
});
