/**
 * The assets and networks this platform serves, from one JSON file
 * (`assets.default.json` beside package.json unless the deployment names
 * another). Read and strictly checked once at start: an unknown field, a
 * duplicate id or chain, a bad URL stops the platform with the entry and
 * field named. Every asset is a chain's native asset; its family fixes the
 * key algorithm and the address format (docs/vaults.md).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AssetTypeResponse, KeyAlgorithm } from '@countersign/protocol';
import { ValidationError } from '../errors.js';

export type AssetFamily = 'EVM' | 'BITCOIN' | 'SOLANA';

interface AssetCommon {
  /** `ETH`, `BTC_TEST`, …: the `assetId` of the API. */
  readonly id: string;
  readonly name: string;
  /** SLIP-44 coin type: the second index of `m/44/{coinType}/{vaultAccountId}/0/{index}`. */
  readonly coinType: number;
  readonly decimals: number;
  /** The chain's JSON-RPC endpoint. May carry a provider key: never echoed. */
  readonly rpcUrl: string;
  /** Blocks (slots) after which an inclusion counts as final. */
  readonly confirmations: number;
  /** The root key an address of this asset is derived from. */
  readonly algorithm: KeyAlgorithm;
}

export type EvmAsset = AssetCommon & { readonly family: 'EVM'; readonly chainId: number };
export type BitcoinAsset = AssetCommon & {
  readonly family: 'BITCOIN';
  readonly network: 'mainnet' | 'testnet';
};
export type SolanaAsset = AssetCommon & {
  readonly family: 'SOLANA';
  readonly network: 'mainnet-beta' | 'devnet' | 'testnet' | 'localnet';
};
export type AssetConfig = EvmAsset | BitcoinAsset | SolanaAsset;

/** The shipped default: two levels above this module in `src/assets/` and in `dist/assets/`. */
export const DEFAULT_ASSETS_FILE = fileURLToPath(
  new URL('../../assets.default.json', import.meta.url),
);

const ALGORITHM: Record<AssetFamily, KeyAlgorithm> = {
  EVM: 'ECDSA_SECP256K1',
  BITCOIN: 'ECDSA_SECP256K1',
  SOLANA: 'EDDSA_ED25519',
};
const FAMILY_FIELD: Record<AssetFamily, { name: 'chainId' | 'network'; values?: string[] }> = {
  EVM: { name: 'chainId' },
  BITCOIN: { name: 'network', values: ['mainnet', 'testnet'] },
  SOLANA: { name: 'network', values: ['mainnet-beta', 'devnet', 'testnet', 'localnet'] },
};
const COMMON_FIELDS = ['id', 'name', 'family', 'coinType', 'decimals', 'rpcUrl', 'confirmations'];
const MAX_ASSETS = 256;
const HARDENED = 0x80000000;

/** The configured assets, by id. */
export class AssetCatalog {
  private readonly byId: ReadonlyMap<string, AssetConfig>;

  constructor(readonly assets: readonly AssetConfig[]) {
    this.byId = new Map(assets.map((a) => [a.id, a]));
  }

  find(assetId: string): AssetConfig | undefined {
    return this.byId.get(assetId);
  }

  /** The asset, or a 400 naming the ids on offer. */
  require(assetId: string): AssetConfig {
    const asset = this.byId.get(assetId);
    if (!asset) {
      throw new ValidationError(
        'ERR_ASSET_NOT_SUPPORTED',
        'ASSET_NOT_SUPPORTED',
        `asset ${assetId} is not supported here (supported: ${[...this.byId.keys()].join(', ')})`,
      );
    }
    return asset;
  }

  /** The SLIP-44 coin type of a configured asset (the BIP44 path's second index). */
  coinTypeOf(assetId: string): number {
    return this.require(assetId).coinType;
  }

  /** `GET /v1/supported_assets`. */
  supportedAssets(): AssetTypeResponse[] {
    return this.assets.map((a) => ({
      id: a.id,
      name: a.name,
      type: 'BASE_ASSET',
      nativeAsset: a.id,
      decimals: a.decimals,
    }));
  }
}

/** Reads and checks an assets file; the error names the file, the entry and the field. */
export function loadAssetCatalog(file: string = DEFAULT_ASSETS_FILE): AssetCatalog {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`assets file ${file}: cannot read it as JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  return parseAssetCatalog(json, `assets file ${file}`);
}

/** Checks a parsed assets document strictly: every field known, typed, in range; ids and chains unique. */
export function parseAssetCatalog(json: unknown, source: string): AssetCatalog {
  const fail = (where: string, why: string): never => {
    throw new Error(`${source}: ${where}: ${why}`);
  };
  if (!isPlainObject(json)) return fail('top level', 'must be an object {"assets": [...]}');
  rejectUnknown(json, ['assets'], 'top level', fail);
  const list = json['assets'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ASSETS) {
    return fail('assets', `must be a list of 1 to ${MAX_ASSETS} assets`);
  }
  const assets = list.map((entry, i) => parseAsset(entry, `assets[${i}]`, fail));
  const ids = new Set<string>();
  const chains = new Set<number>();
  assets.forEach((a, i) => {
    if (ids.has(a.id)) fail(`assets[${i}].id`, `${a.id} appears twice`);
    ids.add(a.id);
    if (a.family === 'EVM') {
      if (chains.has(a.chainId)) fail(`assets[${i}].chainId`, `chain ${a.chainId} appears twice`);
      chains.add(a.chainId);
    }
  });
  return new AssetCatalog(assets);
}

type Fail = (where: string, why: string) => never;

function parseAsset(entry: unknown, where: string, fail: Fail): AssetConfig {
  if (!isPlainObject(entry)) return fail(where, 'must be an object');
  const family = entry['family'];
  if (family !== 'EVM' && family !== 'BITCOIN' && family !== 'SOLANA') {
    return fail(`${where}.family`, 'must be one of "EVM", "BITCOIN", "SOLANA"');
  }
  const special = FAMILY_FIELD[family];
  rejectUnknown(entry, [...COMMON_FIELDS, special.name], where, fail);
  const id = entry['id'];
  if (typeof id !== 'string' || !/^[A-Z0-9_]{1,32}$/.test(id)) {
    return fail(`${where}.id`, 'must be 1 to 32 characters of A-Z, 0-9 and _');
  }
  const name = entry['name'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
    return fail(`${where}.name`, 'must be a string of 1 to 100 characters');
  }
  const common = {
    id,
    name,
    coinType: integerIn(entry, 'coinType', 0, HARDENED - 1, where, fail),
    decimals: integerIn(entry, 'decimals', 0, 36, where, fail),
    rpcUrl: httpUrl(entry['rpcUrl'], `${where}.rpcUrl`, fail),
    confirmations: integerIn(entry, 'confirmations', 1, 100_000, where, fail),
    algorithm: ALGORITHM[family],
  };
  if (family === 'EVM') {
    return {
      ...common,
      family,
      chainId: integerIn(entry, 'chainId', 1, Number.MAX_SAFE_INTEGER, where, fail),
    };
  }
  const network = entry['network'];
  const allowed = special.values ?? [];
  if (typeof network !== 'string' || !allowed.includes(network)) {
    return fail(`${where}.network`, `must be one of ${allowed.map((v) => `"${v}"`).join(', ')}`);
  }
  return family === 'BITCOIN'
    ? { ...common, family, network: network as BitcoinAsset['network'] }
    : { ...common, family, network: network as SolanaAsset['network'] };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknown(
  value: Record<string, unknown>,
  known: readonly string[],
  where: string,
  fail: Fail,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(where, `unknown field ${JSON.stringify(key.slice(0, 64))}`);
  }
  for (const key of known) {
    if (!(key in value)) fail(where, `missing field "${key}"`);
  }
}

function integerIn(
  entry: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  where: string,
  fail: Fail,
): number {
  const value = entry[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    return fail(`${where}.${field}`, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** An http(s) URL; the value itself is never echoed (it may hold a provider key). */
function httpUrl(value: unknown, where: string, fail: Fail): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return fail(where, 'must be an http:// or https:// URL');
  }
  return value as string;
}
