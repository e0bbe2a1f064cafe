/**
 * The assets file: the shipped default, strict checking with errors that name
 * the entry and field (never an RPC URL, which may hold a provider key), the
 * override path, and `GET /v1/supported_assets`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, defaultConfig } from '../src/config.js';
import { loadAssetCatalog, parseAssetCatalog } from '../src/assets/asset-catalog.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';
import { DEFAULT_ASSET_IDS } from './vault-helpers.js';

const ETH = {
  id: 'ETH',
  name: 'Ether',
  family: 'EVM',
  chainId: 1,
  coinType: 60,
  decimals: 18,
  rpcUrl: 'https://rpc.example/v3/SECRET-PROVIDER-KEY',
  confirmations: 12,
};
const BTC = {
  id: 'BTC',
  name: 'Bitcoin',
  family: 'BITCOIN',
  network: 'mainnet',
  coinType: 0,
  decimals: 8,
  rpcUrl: 'http://127.0.0.1:8332',
  confirmations: 3,
};

function parse(doc: unknown) {
  return parseAssetCatalog(doc, 'test');
}

describe('assets file', () => {
  it('ships ETH, ETH_TEST, a local EVM chain, BTC, BTC_TEST, SOL and SOL_TEST', () => {
    const catalog = loadAssetCatalog();
    expect(catalog.assets.map((a) => a.id)).toEqual(DEFAULT_ASSET_IDS);
    expect(catalog.require('ETH')).toMatchObject({ chainId: 1, coinType: 60, decimals: 18 });
    expect(catalog.require('ETH_TEST')).toMatchObject({ chainId: 11155111, coinType: 1 });
    expect(catalog.require('ETH_LOCAL')).toMatchObject({ chainId: 31337 });
    expect(catalog.require('BTC')).toMatchObject({ network: 'mainnet', decimals: 8 });
    expect(catalog.require('SOL')).toMatchObject({ algorithm: 'EDDSA_ED25519', decimals: 9 });
    expect(catalog.coinTypeOf('SOL')).toBe(501);
    expect(catalog.coinTypeOf('BTC_TEST')).toBe(1);
    expect(() => catalog.coinTypeOf('DOGE')).toThrow(/DOGE is not supported here/);
  });

  it('accepts a well-formed document', () => {
    expect(parse({ assets: [ETH, BTC] }).assets).toHaveLength(2);
  });

  it.each([
    [{ assets: [ETH], extra: 1 }, 'top level: unknown field "extra"'],
    [{ assets: [] }, 'assets: must be a list of 1 to 256 assets'],
    [{ assets: [{ ...ETH, memo: 'x' }] }, 'assets[0]: unknown field "memo"'],
    [{ assets: [{ ...BTC, chainId: 1 }] }, 'assets[0]: unknown field "chainId"'],
    [{ assets: [{ ...ETH, chainId: undefined }] }, 'assets[0]: missing field "chainId"'],
    [{ assets: [{ ...ETH, family: 'XRP' }] }, 'assets[0].family: must be one of'],
    [{ assets: [{ ...ETH, id: 'eth' }] }, 'assets[0].id: must be 1 to 32 characters'],
    [{ assets: [{ ...ETH, decimals: 18.5 }] }, 'assets[0].decimals: must be an integer from 0'],
    [{ assets: [{ ...ETH, coinType: 2 ** 31 }] }, 'assets[0].coinType: must be an integer'],
    [{ assets: [{ ...ETH, confirmations: 0 }] }, 'assets[0].confirmations: must be an integer'],
    [{ assets: [{ ...ETH, rpcUrl: 'ftp://x' }] }, 'assets[0].rpcUrl: must be an http:// or'],
    [{ assets: [{ ...BTC, network: 'regtest' }] }, 'assets[0].network: must be one of'],
    [{ assets: [ETH, ETH] }, 'assets[1].id: ETH appears twice'],
    [{ assets: [ETH, { ...ETH, id: 'ETH2' }] }, 'assets[1].chainId: chain 1 appears twice'],
  ])('refuses %j', (doc, message) => {
    expect(() => parse(JSON.parse(JSON.stringify(doc)))).toThrow(`test: ${message}`);
  });

  it('never echoes an RPC URL in an error', () => {
    const secretUrl = 'not a url SECRET-PROVIDER-KEY';
    expect(() => parse({ assets: [{ ...ETH, rpcUrl: secretUrl }] })).toThrow(
      /^((?!SECRET-PROVIDER-KEY).)*$/,
    );
  });

  it('the path comes from COUNTERSIGN_ASSETS_FILE; a bad file stops the app with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assets-'));
    const file = join(dir, 'assets.json');
    writeFileSync(file, JSON.stringify({ assets: [{ ...ETH, decimals: -1 }] }));
    const config = configFromEnv({ COUNTERSIGN_ASSETS_FILE: file }, defaultConfig);
    expect(config.assetsFile).toBe(file);
    await expect(startTestPlatform({ assetsFile: file })).rejects.toThrow(
      `assets file ${file}: assets[0].decimals: must be an integer from 0 to 36`,
    );
    writeFileSync(file, '{"assets": [');
    expect(() => loadAssetCatalog(file)).toThrow(`assets file ${file}: cannot read it as JSON`);
    expect(() => loadAssetCatalog(join(dir, 'missing.json'))).toThrow(/cannot read it/);
  });
});

describe('GET /v1/supported_assets', () => {
  let p: TestPlatform;
  let viewer: TestApiUser;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assets-'));
    const file = join(dir, 'assets.json');
    writeFileSync(file, JSON.stringify({ assets: [ETH, BTC] }));
    p = await startTestPlatform({ assetsFile: file });
    viewer = await createApiUser(p, 'assets-viewer', 'VIEWER');
  });
  afterAll(() => p.close());

  it('lists the configured assets in the Fireblocks shape, to every role', async () => {
    const res = await signedRequest(p, viewer, 'GET', '/v1/supported_assets');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { id: 'ETH', name: 'Ether', type: 'BASE_ASSET', nativeAsset: 'ETH', decimals: 18 },
      { id: 'BTC', name: 'Bitcoin', type: 'BASE_ASSET', nativeAsset: 'BTC', decimals: 8 },
    ]);
    expect(res.body).not.toContain('rpc.example');
  });
});
