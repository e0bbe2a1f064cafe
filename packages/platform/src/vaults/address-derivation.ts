/**
 * The address of a vault account's asset wallet, derived from the workspace's
 * root key of the asset's algorithm along `m/44/{coinType}/{vaultAccountId}/0/{index}`
 * (ARCHITECTURE §3 "Derivation"). Every step is non-hardened: the root key exists
 * only as MPC shares, and a hardened step needs the whole private key. The
 * derivation is `@countersign/mpc`'s own public one, so an address is exactly the
 * key the co-signers sign for at that path (docs/vaults.md). Pure: public data in,
 * text out.
 */
import type { KeyAlgorithm } from '@countersign/protocol';
import { derivePublicKey } from '@countersign/mpc/derivation';
import { addressOf } from '../assets/address-formats.js';
import type { AssetConfig } from '../assets/asset-catalog.js';

/** A workspace root key: public data only. */
export interface RootKey {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: Uint8Array;
  readonly chainCode: Uint8Array;
}

export interface DerivedAddress {
  readonly address: string;
  readonly derivationPath: readonly number[];
  readonly publicKey: Uint8Array;
}

/** The external chain (BIP44 `change` = 0): the only one addresses are handed out on. */
export const EXTERNAL_CHAIN = 0;

/** `[44, coinType, vaultAccountId, change, index]`, every index below 2^31 (non-hardened). */
export function bip44Path(
  coinType: number,
  vaultAccountId: number,
  change: number,
  index: number,
): number[] {
  return [44, coinType, vaultAccountId, change, index];
}

export function deriveAddress(
  root: RootKey,
  asset: AssetConfig,
  vaultAccountId: number,
  index: number,
): DerivedAddress {
  if (root.algorithm !== asset.algorithm) {
    throw new Error(`asset ${asset.id} needs a ${asset.algorithm} root key, not ${root.algorithm}`);
  }
  const derivationPath = bip44Path(asset.coinType, vaultAccountId, EXTERNAL_CHAIN, index);
  const { publicKey } = derivePublicKey(
    {
      curve: root.algorithm === 'EDDSA_ED25519' ? 'ed25519' : 'secp256k1',
      publicKey: root.publicKey,
      chainCode: root.chainCode,
    },
    derivationPath,
  );
  return { address: addressOf(asset, publicKey), derivationPath, publicKey };
}
