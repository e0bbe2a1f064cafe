/**
 * Address formats and derivation, each checked against an independent library:
 * EVM against viem (EIP-55, from the private key BIP32 derives), Bitcoin P2WPKH
 * against @scure/btc-signer and the BIP 173 vectors, Solana against bs58 and the
 * Ed25519 key that signing derives (root secret + the public tweak).
 */
import { deriveKey } from '@countersign/mpc/derivation';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { NETWORK, p2wpkh, TEST_NETWORK } from '@scure/btc-signer';
import bs58 from 'bs58';
import { getAddress } from 'viem';
import { privateKeyToAddress, publicKeyToAddress } from 'viem/accounts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evmAddress, p2wpkhAddress, solanaAddress } from '../src/assets/address-formats.js';
import { loadAssetCatalog } from '../src/assets/asset-catalog.js';
import { bip44Path, deriveAddress, type RootKey } from '../src/vaults/address-derivation.js';
import { ED_CHAIN_CODE, ED_SECRET, edRootPublicKey, secpMaster } from './vault-helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const catalog = loadAssetCatalog();

describe('address formats', () => {
  it('EVM: EIP-55 address equals viem’s for random keys (compressed input)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), (seed) => {
        const secret = secp256k1.utils.randomSecretKey(seed);
        const compressed = secp256k1.getPublicKey(secret, true);
        const uncompressed = secp256k1.getPublicKey(secret, false);
        const ours = evmAddress(compressed);
        expect(ours).toBe(publicKeyToAddress(`0x${hex(uncompressed)}`));
        expect(ours).toBe(getAddress(ours.toLowerCase()));
      }),
      { numRuns: 100 },
    );
  });

  it('Bitcoin: P2WPKH bech32 matches BIP 173’s vectors and @scure/btc-signer', () => {
    // BIP 173, "Examples": the compressed generator point G.
    const g = secp256k1.Point.BASE.toBytes(true);
    expect(p2wpkhAddress(g, 'mainnet')).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    expect(p2wpkhAddress(g, 'testnet')).toBe('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), (seed) => {
        const pub = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(seed), true);
        expect(p2wpkhAddress(pub, 'mainnet')).toBe(p2wpkh(pub, NETWORK).address);
        expect(p2wpkhAddress(pub, 'testnet')).toBe(p2wpkh(pub, TEST_NETWORK).address);
      }),
      { numRuns: 100 },
    );
  });

  it('Solana: base58 of the Ed25519 key, as bs58 encodes and decodes it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const pub = ed25519.getPublicKey(seed);
        const ours = solanaAddress(pub);
        expect(ours).toBe(bs58.encode(pub));
        expect(hex(bs58.decode(ours))).toBe(hex(pub));
      }),
      { numRuns: 100 },
    );
    expect(() => solanaAddress(new Uint8Array(33))).toThrow(/32 bytes/);
  });
});

describe('derivation along m/44/{coinType}/{vaultAccountId}/0/{index}', () => {
  const master = secpMaster();
  const secpRoot: RootKey = {
    algorithm: 'ECDSA_SECP256K1',
    publicKey: master.publicKey!,
    chainCode: master.chainCode!,
  };
  const edRoot: RootKey = {
    algorithm: 'EDDSA_ED25519',
    publicKey: edRootPublicKey(),
    chainCode: ED_CHAIN_CODE,
  };

  it('the path is BIP44-shaped with every index non-hardened', () => {
    expect(bip44Path(60, 7, 0, 3)).toEqual([44, 60, 7, 0, 3]);
  });

  it('ETH/ETH_TEST/ETH_LOCAL: the address of the private key BIP32 derives (viem)', () => {
    for (const [assetId, vault, index] of [
      ['ETH', 0, 0],
      ['ETH', 5, 2],
      ['ETH_TEST', 1, 0],
      ['ETH_LOCAL', 3, 0],
    ] as const) {
      const asset = catalog.require(assetId);
      const path = `m/44/${asset.coinType}/${vault}/0/${index}`;
      const child = master.derive(path);
      const derived = deriveAddress(secpRoot, asset, vault, index);
      expect(derived.address, path).toBe(privateKeyToAddress(`0x${hex(child.privateKey!)}`));
      expect(hex(derived.publicKey)).toBe(hex(child.publicKey!));
    }
  });

  it('BTC/BTC_TEST: P2WPKH of the BIP32 child key (@scure/btc-signer)', () => {
    for (const [assetId, network] of [
      ['BTC', NETWORK],
      ['BTC_TEST', TEST_NETWORK],
    ] as const) {
      const asset = catalog.require(assetId);
      const child = master.derive(`m/44/${asset.coinType}/4/0/0`);
      expect(deriveAddress(secpRoot, asset, 4, 0).address).toBe(
        p2wpkh(child.publicKey!, network).address,
      );
    }
  });

  it('SOL/SOL_TEST: base58 of (root secret + public tweak)·B — the key signing uses', () => {
    for (const assetId of ['SOL', 'SOL_TEST']) {
      const asset = catalog.require(assetId);
      const path = [44, asset.coinType, 9, 0, 0];
      const { tweak } = deriveKey(
        { curve: 'ed25519', publicKey: edRoot.publicKey, chainCode: edRoot.chainCode },
        path,
      );
      const signingKey = ed25519.Point.BASE.multiply(
        ed25519.Point.Fn.create(ED_SECRET + tweak),
      ).toBytes();
      const derived = deriveAddress(edRoot, asset, 9, 0);
      expect(derived.derivationPath).toEqual(path);
      expect(derived.address).toBe(bs58.encode(signingKey));
    }
  });

  it('refuses a root key of the wrong algorithm for the asset', () => {
    expect(() => deriveAddress(edRoot, catalog.require('ETH'), 0, 0)).toThrow(
      /needs a ECDSA_SECP256K1 root key/,
    );
  });
});
