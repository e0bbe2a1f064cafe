// HD derivation: secp256k1 matches @scure/bip32 exactly; Ed25519 follows docs/ed25519-derivation.md.
import { createHmac } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivePublicKey, isMpcError, parsePath } from '../src/index.js';
import { runDkg } from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('secp256k1: BIP32 CKDpub', () => {
  const shares = runDkg('secp256k1', [1, 2, 3], 3, 'derivation');
  const root = shares.get(1)!;

  it('matches @scure/bip32 on the Countersign paths and random non-hardened paths', () => {
    const xpub = new HDKey({ publicKey: root.publicKey, chainCode: root.chainCode });
    for (const path of [
      'm/44/0/0/0/0',
      'm/44/60/0/0/7',
      'm/44/60/12/0/4294',
      'm/0',
      'm/2147483647',
    ]) {
      const ours = derivePublicKey(root, path);
      const theirs = xpub.derive(path);
      expect(hex(ours.publicKey)).toBe(hex(theirs.publicKey!));
      expect(hex(ours.chainCode)).toBe(hex(theirs.chainCode!));
    }
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: 1, maxLength: 5 }),
        (path) => {
          const theirs = xpub.derive('m/' + path.join('/'));
          expect(hex(derivePublicKey(root, path).publicKey)).toBe(hex(theirs.publicKey!));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('matches @scure/bip32 on a root derived from a BIP32 seed (key also known in full)', () => {
    const master = HDKey.fromMasterSeed(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
    const ours = derivePublicKey(
      { curve: 'secp256k1', publicKey: master.publicKey!, chainCode: master.chainCode! },
      'm/44/0/0/0/5',
    );
    expect(hex(ours.publicKey)).toBe(hex(master.derive('m/44/0/0/0/5').publicKey!));
  });
});

describe('Ed25519: countersign-ed25519-v1 derivation', () => {
  const A = ed25519.Point.BASE.multiply(7n).toBytes();
  const chainCode = Uint8Array.from({ length: 32 }, (_, i) => i);
  const root = { curve: 'ed25519' as const, publicKey: A, chainCode };

  it('reproduces the documented test vector', () => {
    expect(hex(A)).toBe('b862409fb5c4c4123df2abf7462b88f041ad36dd6864ce872fd5472be363c5b1');
    const a = derivePublicKey(root, 'm/0');
    expect(hex(a.publicKey)).toBe(
      '48ed02a5654982ff03a02782b28eb55e2ed1ce2f5f4898d58fd944404a849be4',
    );
    expect(hex(a.chainCode)).toBe(
      'e416f8b7af37b6b94efd8c8cba904ffb6658a04a2ab897629fbcfed046530349',
    );
    const b = derivePublicKey(root, 'm/44/501/0/0/7');
    expect(hex(b.publicKey)).toBe(
      'b2d5b2cc551085bcf754e44f51a15d1487a6e71efb785d5a115d6abc0cd8a91e',
    );
    expect(hex(b.chainCode)).toBe(
      '230e7784050dc2a42238580a44406557f7926fd7e30b232384aed0d7ef135430',
    );
  });

  it('agrees with an independent implementation of the document, and A_path = A + τ·B', () => {
    const L = ed25519.Point.Fn.ORDER;
    const independent = (path: number[]) => {
      let P = ed25519.Point.fromBytes(A);
      let c = Buffer.from(chainCode);
      let tau = 0n;
      for (const i of path) {
        const idx = Buffer.alloc(4);
        idx.writeUInt32BE(i);
        const data = (tag: number) =>
          Buffer.concat([Buffer.of(tag), Buffer.from(P.toBytes()), idx]);
        const t = bytesToNumberLE(createHmac('sha512', c).update(data(0)).digest()) % L;
        const nextC = createHmac('sha512', c).update(data(1)).digest().subarray(0, 32);
        P = P.add(ed25519.Point.BASE.multiply(t));
        c = nextC;
        tau = (tau + t) % L;
      }
      return { P, c, tau };
    };
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: 1, maxLength: 4 }),
        (path) => {
          const ours = derivePublicKey(root, path);
          const ref = independent(path);
          expect(hex(ours.publicKey)).toBe(hex(ref.P.toBytes()));
          expect(hex(ours.chainCode)).toBe(hex(ref.c));
          // The secret of the derived key is 7 + τ.
          expect(hex(ours.publicKey)).toBe(
            hex(ed25519.Point.BASE.multiply((7n + ref.tau) % L).toBytes()),
          );
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('derived nodes kept between calls', () => {
  const master = HDKey.fromMasterSeed(Uint8Array.from({ length: 32 }, (_, i) => 100 - i));
  const root = {
    curve: 'secp256k1' as const,
    publicKey: master.publicKey!,
    chainCode: master.chainCode!,
  };

  it('give the same keys as @scure/bip32 again and for sibling addresses', () => {
    for (let round = 0; round < 2; round++)
      for (let index = 0; index < 12; index++) {
        const path = `m/44/60/3/0/${index}`;
        expect(hex(derivePublicKey(root, path).publicKey)).toBe(
          hex(master.derive(path).publicKey!),
        );
      }
  });

  it('are not altered through what a caller is handed', () => {
    const path = 'm/44/60/4/0/1';
    const first = derivePublicKey(root, path);
    first.publicKey.fill(0);
    first.chainCode.fill(0);
    const again = derivePublicKey(root, path);
    expect(hex(again.publicKey)).toBe(hex(master.derive(path).publicKey!));
    expect(hex(again.chainCode)).toBe(hex(master.derive(path).chainCode!));
  });

  it('belong to their root only: another chain code derives other keys', () => {
    const path = 'm/44/60/5/0/2';
    derivePublicKey(root, path);
    const other = HDKey.fromMasterSeed(Uint8Array.from({ length: 32 }, (_, i) => i * 3));
    const sameKeyOtherChain = { ...root, chainCode: other.chainCode! };
    const reference = new HDKey({ publicKey: root.publicKey, chainCode: other.chainCode! });
    expect(hex(derivePublicKey(sameKeyOtherChain, path).publicKey)).toBe(
      hex(reference.derive(path).publicKey!),
    );
  });
});

describe('paths', () => {
  it('parses non-hardened paths and refuses hardened or malformed ones with ERR_MPC_DERIVATION', () => {
    expect(parsePath('m/44/60/0/0/7')).toEqual([44, 60, 0, 0, 7]);
    expect(parsePath('m')).toEqual([]);
    for (const bad of [
      "m/44'/0",
      'm/44h',
      'm/2147483648',
      'm/-1',
      'm/01',
      '44/0',
      'm//1',
      'm/1.5',
      [0x80000000],
      [1.5],
      [-1],
    ]) {
      let caught: unknown;
      try {
        parsePath(bad);
      } catch (e) {
        caught = e;
      }
      expect(isMpcError(caught, 'ERR_MPC_DERIVATION')).toBe(true);
    }
  });
});
