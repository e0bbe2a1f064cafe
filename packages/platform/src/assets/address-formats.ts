/**
 * Address encodings of a derived public key, one per asset family. Pure:
 * bytes in, text out.
 *
 * - EVM: the last 20 bytes of keccak-256 of the uncompressed point (without its
 *   0x04 prefix), written with the EIP-55 mixed-case checksum.
 * - Bitcoin: P2WPKH, witness version 0 over HASH160(compressed key), bech32
 *   (BIP 141, BIP 173) with `bc` (mainnet) or `tb` (testnet).
 * - Solana: the 32-byte Ed25519 public key in base58.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base58, bech32 } from '@scure/base';
import type { AssetConfig } from './asset-catalog.js';

const BECH32_PREFIX = { mainnet: 'bc', testnet: 'tb' } as const;

/** The address of `publicKey` (secp256k1: 33-byte compressed; Ed25519: 32 bytes) for `asset`. */
export function addressOf(asset: AssetConfig, publicKey: Uint8Array): string {
  switch (asset.family) {
    case 'EVM':
      return evmAddress(publicKey);
    case 'BITCOIN':
      return p2wpkhAddress(publicKey, asset.network);
    case 'SOLANA':
      return solanaAddress(publicKey);
  }
}

/** EIP-55 checksummed address of a secp256k1 public key (compressed or uncompressed). */
export function evmAddress(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  const hex = bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12));
  return `0x${eip55(hex)}`;
}

/** EIP-55: a letter is upper case where the keccak-256 of the lower-case hex has a nibble ≥ 8. */
function eip55(lowerHex: string): string {
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lowerHex)));
  let out = '';
  for (let i = 0; i < lowerHex.length; i++) {
    const c = lowerHex[i] as string;
    out += parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/** Native SegWit v0 pay-to-witness-public-key-hash address of a compressed secp256k1 key. */
export function p2wpkhAddress(publicKey: Uint8Array, network: 'mainnet' | 'testnet'): string {
  // BIP 143: P2WPKH commits to the compressed key only; normalise whatever form we were given.
  const compressed = secp256k1.Point.fromBytes(publicKey).toBytes(true);
  const program = ripemd160(sha256(compressed));
  return bech32.encode(BECH32_PREFIX[network], [0, ...bech32.toWords(program)]);
}

/** Solana: the Ed25519 public key itself, base58. */
export function solanaAddress(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return base58.encode(publicKey);
}
