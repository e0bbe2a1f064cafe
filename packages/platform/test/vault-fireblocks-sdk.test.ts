/**
 * Wire compatibility: the official Fireblocks TypeScript SDK, unchanged and
 * pointed at a listening platform, drives vault accounts, asset wallets,
 * addresses and supported assets.
 */
import { Fireblocks } from '@fireblocks/ts-sdk';
import bs58 from 'bs58';
import { privateKeyToAddress } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '@countersign/mpc/derivation';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  createApiUser,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';
import {
  DEFAULT_ASSET_IDS,
  ED_CHAIN_CODE,
  ED_SECRET,
  edRootPublicKey,
  insertRootKeys,
  secpMaster,
} from './vault-helpers.js';

describe('official @fireblocks/ts-sdk: vaults and supported assets', () => {
  let p: TestPlatform;
  let signer: TestApiUser;
  let fireblocks: Fireblocks;

  beforeAll(async () => {
    p = await startTestPlatform();
    signer = await createApiUser(p, 'fireblocks-sdk-vault-signer', 'SIGNER');
    await insertRootKeys(p, signer.id);
    const address = await p.app.listen({ host: '127.0.0.1', port: 0 });
    fireblocks = new Fireblocks({
      apiKey: signer.id,
      secretKey: signer.key.privateKeyPem,
      basePath: `${address}/v1`,
    });
  });
  afterAll(() => p.close());

  it('creates, gets, pages, renames and hides vault accounts', async () => {
    const created = await fireblocks.vaults.createVaultAccount({
      createVaultAccountRequest: { name: 'SDK treasury', customerRefId: 'ref-1' },
    });
    expect(created.statusCode).toBe(200);
    expect(created.data).toMatchObject({ id: '0', name: 'SDK treasury', assets: [] });
    await fireblocks.vaults.createVaultAccount({
      createVaultAccountRequest: { name: 'SDK ops', hiddenOnUI: false },
    });

    const got = await fireblocks.vaults.getVaultAccount({ vaultAccountId: '0' });
    expect(got.data).toMatchObject({ id: '0', customerRefId: 'ref-1', hiddenOnUI: false });

    const first = await fireblocks.vaults.getPagedVaultAccounts({
      namePrefix: 'SDK',
      orderBy: 'ASC',
      limit: 1,
    });
    expect(first.data.accounts?.map((a) => a.id)).toEqual(['0']);
    const second = await fireblocks.vaults.getPagedVaultAccounts({
      namePrefix: 'SDK',
      orderBy: 'ASC',
      limit: 1,
      after: first.data.paging!.after!,
    });
    expect(second.data.accounts?.map((a) => a.name)).toEqual(['SDK ops']);
    expect(second.data.paging?.after).toBeUndefined();

    const renamed = await fireblocks.vaults.updateVaultAccount({
      vaultAccountId: '1',
      updateVaultAccountRequest: { name: 'SDK operations' },
    });
    expect(renamed.data).toEqual({ id: '1', name: 'SDK operations' });

    const hidden = await fireblocks.vaults.hideVaultAccount({ vaultAccountId: '1' });
    expect(hidden.data).toEqual({ success: true });
    expect((await fireblocks.vaults.getVaultAccount({ vaultAccountId: '1' })).data).toMatchObject({
      name: 'SDK operations',
      hiddenOnUI: true,
    });
    await fireblocks.vaults.unhideVaultAccount({ vaultAccountId: '1' });
    expect((await fireblocks.vaults.getVaultAccount({ vaultAccountId: '1' })).data.hiddenOnUI).toBe(
      false,
    );
  });

  it('creates asset wallets whose addresses are the derived keys’, and lists them', async () => {
    const eth = await fireblocks.vaults.createVaultAccountAsset({
      vaultAccountId: '1',
      assetId: 'ETH_TEST',
    });
    const child = secpMaster().derive('m/44/1/1/0/0');
    expect(eth.data.address).toBe(
      privateKeyToAddress(`0x${Buffer.from(child.privateKey!).toString('hex')}`),
    );

    const sol = await fireblocks.vaults.createVaultAccountAsset({
      vaultAccountId: '1',
      assetId: 'SOL',
    });
    const { tweak } = deriveKey(
      { curve: 'ed25519', publicKey: edRootPublicKey(), chainCode: ED_CHAIN_CODE },
      [44, 501, 1, 0, 0],
    );
    const signingKey = ed25519.Point.BASE.multiply(ed25519.Point.Fn.create(ED_SECRET + tweak));
    expect(sol.data.address).toBe(bs58.encode(signingKey.toBytes()));

    const addresses = await fireblocks.vaults.getVaultAccountAssetAddressesPaginated({
      vaultAccountId: '1',
      assetId: 'SOL',
    });
    expect(addresses.data.addresses).toEqual([
      expect.objectContaining({ assetId: 'SOL', address: sol.data.address, bip44AddressIndex: 0 }),
    ]);

    const account = await fireblocks.vaults.getVaultAccount({ vaultAccountId: '1' });
    expect(account.data.assets?.map((a) => a.id)).toEqual(['ETH_TEST', 'SOL']);
  });

  it('lists supported assets', async () => {
    const res = await fireblocks.blockchainsAssets.getSupportedAssets();
    expect(res.statusCode).toBe(200);
    expect(res.data.map((a) => a.id)).toEqual(DEFAULT_ASSET_IDS);
    expect(res.data[0]).toEqual({
      id: 'ETH',
      name: 'Ether',
      type: 'BASE_ASSET',
      nativeAsset: 'ETH',
      decimals: 18,
    });
  });

  it('surfaces a vault error code through the SDK', async () => {
    await expect(
      fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '1', assetId: 'SOL' }),
    ).rejects.toMatchObject({ response: { statusCode: 409, data: { code: 1702 } } });
  });
});
