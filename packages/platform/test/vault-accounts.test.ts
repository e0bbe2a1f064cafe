/**
 * Vault accounts, asset wallets and addresses through the REST API, on PGlite
 * (default) and PostgreSQL (DATABASE_URL): sequential ids, cursor pages both
 * ways with filters, rename, hide, wallets whose addresses independent
 * libraries derive from the same root secrets, roles, audit entries, and
 * workspace isolation.
 */
import { NETWORK, p2wpkh } from '@scure/btc-signer';
import { privateKeyToAddress } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';
import { insertRootKeys, secpMaster } from './vault-helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('vault accounts', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let signer: TestApiUser;
  let editor: TestApiUser;
  let viewer: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'vault-admin', 'ADMIN');
    signer = await createApiUser(p, 'vault-signer', 'SIGNER');
    editor = await createApiUser(p, 'vault-editor', 'EDITOR');
    viewer = await createApiUser(p, 'vault-viewer', 'VIEWER');
  });
  afterAll(() => p.close());

  const create = (user: TestApiUser, body: unknown) =>
    signedRequest(p, user, 'POST', '/v1/vault/accounts', { body });

  it('creates accounts with sequential decimal ids, concurrent creations included', async () => {
    const first = await create(admin, { name: 'Treasury', customerRefId: 'cust-1' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      id: '0',
      name: 'Treasury',
      assets: [],
      hiddenOnUI: false,
      customerRefId: 'cust-1',
      autoFuel: false,
    });
    const parallel = await Promise.all(
      ['Ops 1', 'Ops 2', 'Ops 3', 'Ops 4'].map((name) => create(signer, { name })),
    );
    const ids = parallel.map((r) => Number(r.json().id)).sort((a, b) => a - b);
    expect(ids).toEqual([1, 2, 3, 4]);
    const hidden = await create(editor, { name: 'Deposits user 17', hiddenOnUI: true });
    expect(hidden.json()).toMatchObject({ id: '5', hiddenOnUI: true });
  });

  it('refuses what it does not offer, and a viewer', async () => {
    for (const body of [
      { name: 'x', autoFuel: true },
      { name: 'x', vaultType: 'KEY_LINK' },
      { name: 'x', autoAssign: true },
      { name: 'x', tags: [] },
      {},
      { name: '   ' },
      { name: 'tab\there' },
    ]) {
      const res = await create(admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    const res = await create(viewer, { name: 'nope' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: -8 });
  });

  it('gets an account; 404 for an unknown id, 400 for a malformed one', async () => {
    const res = await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/0');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: '0', name: 'Treasury' });
    expect((await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/999')).statusCode).toBe(404);
    expect((await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/01')).statusCode).toBe(400);
    expect((await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/-1')).statusCode).toBe(400);
  });

  it('pages with before/after cursors in both orders, with name and asset filters', async () => {
    const page = async (query: string) => {
      const res = await signedRequest(p, viewer, 'GET', `/v1/vault/accounts_paged${query}`);
      expect(res.statusCode, query).toBe(200);
      return res.json<{
        accounts: { id: string }[];
        paging: { before?: string; after?: string };
      }>();
    };
    const ids = (r: { accounts: { id: string }[] }) => r.accounts.map((a) => a.id);

    const all = await page('');
    expect(ids(all)).toEqual(['5', '4', '3', '2', '1', '0']);
    expect(all.paging).toEqual({});

    const p1 = await page('?orderBy=ASC&limit=2');
    expect(ids(p1)).toEqual(['0', '1']);
    expect(p1.paging.before).toBeUndefined();
    const p2 = await page(`?orderBy=ASC&limit=2&after=${p1.paging.after}`);
    expect(ids(p2)).toEqual(['2', '3']);
    const p3 = await page(`?orderBy=ASC&limit=2&after=${p2.paging.after}`);
    expect(ids(p3)).toEqual(['4', '5']);
    expect(p3.paging.after).toBeUndefined();
    const back = await page(`?orderBy=ASC&limit=2&before=${p3.paging.before}`);
    expect(ids(back)).toEqual(['2', '3']);
    expect(back.paging.before).toBeDefined();
    expect(back.paging.after).toBeDefined();

    const d1 = await page('?limit=4');
    expect(ids(d1)).toEqual(['5', '4', '3', '2']);
    const d2 = await page(`?limit=4&after=${d1.paging.after}`);
    expect(ids(d2)).toEqual(['1', '0']);

    expect(ids(await page('?namePrefix=Ops'))).toEqual(['4', '3', '2', '1']);
    expect(ids(await page('?nameSuffix=user%2017'))).toEqual(['5']);
    expect(ids(await page('?namePrefix=%25'))).toEqual([]);

    // A cursor of one order is refused in the other; garbage is refused.
    const wrong = await signedRequest(
      p,
      viewer,
      'GET',
      `/v1/vault/accounts_paged?orderBy=DESC&after=${p1.paging.after}`,
    );
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 1005 });
    const garbage = await signedRequest(p, viewer, 'GET', '/v1/vault/accounts_paged?after=abc');
    expect(garbage.statusCode).toBe(400);
    const both = await signedRequest(
      p,
      viewer,
      'GET',
      `/v1/vault/accounts_paged?orderBy=ASC&after=${p1.paging.after}&before=${p3.paging.before}`,
    );
    expect(both.statusCode).toBe(400);
  });

  it('renames (not an editor) and hides/unhides, each audited', async () => {
    const renamed = await signedRequest(p, signer, 'PUT', '/v1/vault/accounts/1', {
      body: { name: 'Operations' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toEqual({ id: '1', name: 'Operations' });
    const byEditor = await signedRequest(p, editor, 'PUT', '/v1/vault/accounts/1', {
      body: { name: 'Nope' },
    });
    expect(byEditor.statusCode).toBe(403);

    const hide = await signedRequest(p, editor, 'POST', '/v1/vault/accounts/1/hide');
    expect(hide.statusCode).toBe(200);
    expect(hide.json()).toEqual({ success: true });
    const got = await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/1');
    expect(got.json()).toMatchObject({ name: 'Operations', hiddenOnUI: true });
    await signedRequest(p, editor, 'POST', '/v1/vault/accounts/1/unhide', { body: {} });
    expect((await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/1')).json()).toMatchObject({
      hiddenOnUI: false,
    });
    const withBody = await signedRequest(p, editor, 'POST', '/v1/vault/accounts/1/hide', {
      body: { hidden: true },
    });
    expect(withBody.statusCode).toBe(400);

    const records = await p.app.services.audit.page({ workspaceId: p.workspaceId, limit: 500 });
    const actions = records.filter((r) => r.action.startsWith('vault_')).map((r) => r.action);
    expect(actions.filter((a) => a === 'vault_account.created')).toHaveLength(6);
    expect(actions).toContain('vault_account.renamed');
    expect(actions).toContain('vault_account.hidden');
    expect(actions).toContain('vault_account.unhidden');
    const rename = records.find((r) => r.action === 'vault_account.renamed');
    expect(rename).toMatchObject({
      subject: '1',
      actorId: signer.id,
      details: { from: expect.stringMatching(/^Ops [1-4]$/), to: 'Operations' },
    });
  });

  it('asset wallets: refused before the workspace has root keys, then derived addresses', async () => {
    const before = await signedRequest(p, admin, 'POST', '/v1/vault/accounts/0/BTC');
    expect(before.statusCode).toBe(409);
    expect(before.json()).toMatchObject({ code: 1703 });
    expect(before.json().message).toMatch(/no ECDSA_SECP256K1 root key yet/);

    await insertRootKeys(p, admin.id);
    const master = secpMaster();

    const eth = await signedRequest(p, editor, 'POST', '/v1/vault/accounts/2/ETH');
    expect(eth.statusCode).toBe(200);
    const ethKey = master.derive('m/44/60/2/0/0');
    expect(eth.json()).toEqual({
      id: '2',
      address: privateKeyToAddress(`0x${hex(ethKey.privateKey!)}`),
      legacyAddress: '',
      enterpriseAddress: '',
      tag: '',
    });

    const btc = await signedRequest(p, admin, 'POST', '/v1/vault/accounts/2/BTC', { body: {} });
    expect(btc.statusCode).toBe(200);
    expect(btc.json().address).toBe(
      p2wpkh(master.derive('m/44/0/2/0/0').publicKey!, NETWORK).address,
    );
    expect((await signedRequest(p, admin, 'POST', '/v1/vault/accounts/2/SOL')).statusCode).toBe(
      200,
    );

    const again = await signedRequest(p, admin, 'POST', '/v1/vault/accounts/2/ETH');
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 1702 });
    const unknown = await signedRequest(p, admin, 'POST', '/v1/vault/accounts/2/DOGE');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 1701 });
    expect(unknown.json().message).toMatch(/supported: ETH, ETH_TEST/);
    const eos = await signedRequest(p, admin, 'POST', '/v1/vault/accounts/2/ETH_TEST', {
      body: { eosAccountName: 'x' },
    });
    expect(eos.statusCode).toBe(400);
    expect(
      (await signedRequest(p, viewer, 'POST', '/v1/vault/accounts/2/ETH_TEST')).statusCode,
    ).toBe(403);
    expect((await signedRequest(p, admin, 'POST', '/v1/vault/accounts/77/ETH')).statusCode).toBe(
      404,
    );

    const account = await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/2');
    expect(account.json().assets).toEqual([{ id: 'ETH' }, { id: 'BTC' }, { id: 'SOL' }]);
    const wallet = await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/2/BTC');
    expect(wallet.statusCode).toBe(200);
    expect(wallet.json()).toEqual({ id: 'BTC' });
    expect((await signedRequest(p, viewer, 'GET', '/v1/vault/accounts/0/BTC')).statusCode).toBe(
      404,
    );

    const withEth = await signedRequest(p, viewer, 'GET', '/v1/vault/accounts_paged?assetId=ETH');
    expect(withEth.json<{ accounts: { id: string }[] }>().accounts.map((a) => a.id)).toEqual(['2']);

    const created = (
      await p.app.services.audit.page({ workspaceId: p.workspaceId, limit: 500 })
    ).find((r) => r.action === 'vault_wallet.created' && r.subject === '2/BTC');
    expect(created?.details).toEqual({
      vaultAccountId: '2',
      assetId: 'BTC',
      address: btc.json().address,
      derivationPath: 'm/44/0/2/0/0',
    });
  });

  it('lists a wallet’s addresses (paginated)', async () => {
    const res = await signedRequest(
      p,
      viewer,
      'GET',
      '/v1/vault/accounts/2/BTC/addresses_paginated?limit=1',
    );
    expect(res.statusCode).toBe(200);
    const master = secpMaster();
    expect(res.json()).toEqual({
      addresses: [
        {
          assetId: 'BTC',
          address: p2wpkh(master.derive('m/44/0/2/0/0').publicKey!, NETWORK).address,
          description: '',
          tag: '',
          type: 'Permanent',
          legacyAddress: '',
          enterpriseAddress: '',
          addressFormat: 'SEGWIT',
          bip44AddressIndex: 0,
          userDefined: false,
        },
      ],
      paging: {},
    });
    const eth = await signedRequest(
      p,
      viewer,
      'GET',
      '/v1/vault/accounts/2/ETH/addresses_paginated',
    );
    expect(eth.json().addresses[0]).not.toHaveProperty('addressFormat');
    const none = await signedRequest(
      p,
      viewer,
      'GET',
      '/v1/vault/accounts/2/ETH_TEST/addresses_paginated',
    );
    expect(none.statusCode).toBe(404);
  });

  it('another workspace sees none of these accounts and starts its ids at 0', async () => {
    const other = await p.app.services.workspaces.create({
      name: 'Other workspace',
      ownerEmail: 'other@example.test',
    });
    const q: TestPlatform = { ...p, workspaceId: other.workspaceId, owner: other.owner };
    const otherAdmin = await createApiUser(q, 'other-vault-admin', 'ADMIN');
    expect((await signedRequest(q, otherAdmin, 'GET', '/v1/vault/accounts/2')).statusCode).toBe(
      404,
    );
    const created = await signedRequest(q, otherAdmin, 'POST', '/v1/vault/accounts', {
      body: { name: 'Theirs' },
    });
    expect(created.json().id).toBe('0');
    const list = await signedRequest(q, otherAdmin, 'GET', '/v1/vault/accounts_paged');
    expect(list.json<{ accounts: { name: string }[] }>().accounts.map((a) => a.name)).toEqual([
      'Theirs',
    ]);
  });
});
