/**
 * A RAW transaction request, checked and normalised (docs/transactions.md): the signing
 * algorithm (from `extraParameters.rawMessageData.algorithm`, or the asset), each message's bytes
 * and its full derivation path. Default path: `[44, coinType, vaultAccountId, change, index]`
 * (BIP44 shape, every index non-hardened: hardened derivation needs the whole key, ARCHITECTURE
 * §3), with the coin type of the configured asset — the path of its vault addresses
 * (docs/vaults.md) — or 0 without an asset. The request hash is what an `Idempotency-Key` is
 * bound to.
 */
import { createHash } from 'node:crypto';
import {
  isNonHardenedPath,
  SIGNING_ECDSA_DIGEST_LENGTH,
  type CreateTransactionRequest,
  type KeyAlgorithm,
  type RawSigningAlgorithm,
} from '@countersign/protocol';
import type { AssetCatalog } from '../assets/asset-catalog.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { invalidTransaction } from './transaction-errors.js';

const KEY_ALGORITHM: Record<RawSigningAlgorithm, KeyAlgorithm> = {
  MPC_ECDSA_SECP256K1: 'ECDSA_SECP256K1',
  MPC_EDDSA_ED25519: 'EDDSA_ED25519',
};

export const RAW_ALGORITHM: Record<KeyAlgorithm, RawSigningAlgorithm> = {
  ECDSA_SECP256K1: 'MPC_ECDSA_SECP256K1',
  EDDSA_ED25519: 'MPC_EDDSA_ED25519',
};

export interface RawMessage {
  /** Lowercase hex, as stored and echoed. */
  readonly contentHex: string;
  readonly derivationPath: readonly number[];
}

export interface RawRequest {
  readonly algorithm: KeyAlgorithm;
  readonly assetId: string | undefined;
  readonly vaultAccountId: string;
  readonly messages: readonly RawMessage[];
  /** Hex SHA-256 of the canonical JSON of the request as received. */
  readonly requestHash: string;
}

export function parseRawRequest(body: CreateTransactionRequest, assets: AssetCatalog): RawRequest {
  const raw = body.extraParameters.rawMessageData;
  const asset = body.assetId === undefined ? undefined : assets.find(body.assetId);
  if (body.assetId !== undefined && asset === undefined)
    throw invalidTransaction(
      `assetId ${body.assetId} is not configured here (${assets.assets.map((a) => a.id).join(', ')}); give extraParameters.rawMessageData.algorithm without an assetId instead`,
    );
  const named = raw.algorithm === undefined ? undefined : KEY_ALGORITHM[raw.algorithm];
  if (named !== undefined && asset !== undefined && named !== asset.algorithm)
    throw invalidTransaction(`rawMessageData.algorithm does not match asset ${body.assetId}`);
  const algorithm = named ?? asset?.algorithm;
  if (algorithm === undefined)
    throw invalidTransaction('give extraParameters.rawMessageData.algorithm or a known assetId');
  const coinType = asset?.coinType ?? 0;
  const vaultAccountId = Number(body.source.id);
  if (!Number.isSafeInteger(vaultAccountId) || vaultAccountId >= 0x80000000)
    throw invalidTransaction('source.id must be a vault account id below 2^31');
  const messages = raw.messages.map((m, i): RawMessage => {
    const contentHex = m.content.toLowerCase();
    if (algorithm === 'ECDSA_SECP256K1' && contentHex.length !== 2 * SIGNING_ECDSA_DIGEST_LENGTH)
      throw invalidTransaction(
        `messages[${i}].content: an ECDSA message is the 32-byte digest to sign (64 hex digits)`,
      );
    if (m.derivationPath !== undefined && (m.bip44change ?? m.bip44addressIndex) !== undefined)
      throw invalidTransaction(
        `messages[${i}]: give derivationPath or bip44change/bip44addressIndex, not both`,
      );
    const derivationPath = m.derivationPath ?? [
      44,
      coinType,
      vaultAccountId,
      m.bip44change ?? 0,
      m.bip44addressIndex ?? 0,
    ];
    if (!isNonHardenedPath(derivationPath))
      throw invalidTransaction(
        `messages[${i}].derivationPath: only non-hardened indices (below 2^31) are offered; hardened derivation needs the whole key, which no party holds`,
      );
    return { contentHex, derivationPath };
  });
  return {
    algorithm,
    assetId: body.assetId,
    vaultAccountId: String(vaultAccountId),
    messages,
    requestHash: createHash('sha256').update(canonicalJson(body)).digest('hex'),
  };
}
