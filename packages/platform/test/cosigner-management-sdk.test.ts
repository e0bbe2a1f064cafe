/**
 * Wire compatibility: the official `@fireblocks/ts-sdk` `CosignersBetaApi`,
 * unchanged and pointed at a listening platform, lists, reads and renames
 * co-signers, pages their API keys, pairs (202 + Location, Owner approval),
 * unpairs, and reads request statuses.
 */
import { Fireblocks } from '@fireblocks/ts-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairNewCosigner, type PairedCosigner } from './helpers/cosigner.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('official @fireblocks/ts-sdk CosignersBetaApi against Countersign', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let viewer: TestApiUser;
  let fireblocks: Fireblocks;
  const signers: TestApiUser[] = [];
  const cosigners: PairedCosigner[] = [];

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'sdk-cosigner-admin', 'ADMIN');
    viewer = await createApiUser(p, 'sdk-cosigner-viewer', 'VIEWER');
    for (let i = 0; i < 5; i++) signers.push(await createApiUser(p, `sdk-signer-${i}`, 'SIGNER'));
    for (let i = 0; i < 3; i++)
      cosigners.push(await pairNewCosigner(p, admin, signers[i]!.id, `co-signer ${i}`));
    const address = await p.app.listen({ host: '127.0.0.1', port: 0 });
    fireblocks = new Fireblocks({
      apiKey: admin.id,
      secretKey: admin.key.privateKeyPem,
      basePath: `${address}/v1`,
    });
  });
  afterAll(() => p.close());

  it('pages co-signers with opaque cursors, in both orders', async () => {
    const first = await fireblocks.cosignersBeta.getCosigners({ pageSize: 2 });
    expect(first.statusCode).toBe(200);
    expect(first.data.data.map((c) => c.id)).toEqual([
      cosigners[0]!.cosignerId,
      cosigners[1]!.cosignerId,
    ]);
    expect(first.data.data[0]).toEqual({
      archived: false,
      id: cosigners[0]!.cosignerId,
      name: 'co-signer 0',
      type: 'PLAIN',
      version: { hash: expect.stringMatching(/^[0-9a-f]{64}$/), name: '0.1.0' },
    });
    expect(first.data.next).toEqual(expect.any(String));
    expect(first.data.next).not.toMatch(/^\d+$/);
    const second = await fireblocks.cosignersBeta.getCosigners({
      pageSize: 2,
      pageCursor: first.data.next!,
    });
    expect(second.data.data.map((c) => c.id)).toEqual([cosigners[2]!.cosignerId]);
    expect(second.data.next).toBeNull();

    const desc = await fireblocks.cosignersBeta.getCosigners({ order: 'DESC', pageSize: 100 });
    expect(desc.data.data.map((c) => c.id)).toEqual(cosigners.map((c) => c.cosignerId).reverse());

    // A cursor is valid only for the listing and order that issued it.
    await expect(
      fireblocks.cosignersBeta.getCosigners({ order: 'DESC', pageCursor: first.data.next! }),
    ).rejects.toMatchObject({ response: { statusCode: 400, data: { code: 1005 } } });
    await expect(
      fireblocks.cosignersBeta.getCosigners({ pageCursor: 'bm90IGEgY3Vyc29y' }),
    ).rejects.toMatchObject({ response: { statusCode: 400, data: { code: 1005 } } });
    for (const pageSize of [0, 101]) {
      await expect(fireblocks.cosignersBeta.getCosigners({ pageSize })).rejects.toMatchObject({
        response: { statusCode: 400 },
      });
    }
  });

  it('gets and renames a co-signer', async () => {
    const id = cosigners[0]!.cosignerId;
    const got = await fireblocks.cosignersBeta.getCosigner({ cosignerId: id });
    expect(got.data).toMatchObject({ id, name: 'co-signer 0', archived: false });
    const renamed = await fireblocks.cosignersBeta.renameCosigner({
      cosignerId: id,
      renameCosigner: { name: 'treasury co-signer' },
    });
    expect(renamed.data).toMatchObject({ id, name: 'treasury co-signer' });
    await expect(
      fireblocks.cosignersBeta.getCosigner({ cosignerId: '00000000-0000-4000-8000-000000000000' }),
    ).rejects.toMatchObject({ response: { statusCode: 404 } });
  });

  it('lists and gets paired API keys', async () => {
    const cosignerId = cosigners[1]!.cosignerId;
    const keys = await fireblocks.cosignersBeta.getApiKeys({ cosignerId, pageSize: 10 });
    expect(keys.data).toEqual({ data: [{ id: signers[1]!.id }], next: null });
    const key = await fireblocks.cosignersBeta.getApiKey({ cosignerId, apiKeyId: signers[1]!.id });
    expect(key.data).toEqual({ id: signers[1]!.id });
    await expect(
      fireblocks.cosignersBeta.getApiKey({ cosignerId, apiKeyId: signers[0]!.id }),
    ).rejects.toMatchObject({ response: { statusCode: 404 } });
  });

  it('pairs an API key: 202 + Location, waits for the Owner, then pages with the others', async () => {
    const cosignerId = cosigners[1]!.cosignerId;
    const apiKeyId = signers[3]!.id;
    const res = await fireblocks.cosignersBeta.pairApiKey({
      cosignerId,
      apiKeyId,
      pairApiKeyRequest: {},
    });
    expect(res.statusCode).toBe(202);
    expect(res.data).toEqual({ id: apiKeyId });
    const location = res.headers['location'] as string;
    const requestId = location.split('/').pop()!;
    expect(location).toBe(`/v1/cosigners/${cosignerId}/api_keys/${apiKeyId}/${requestId}`);
    const pending = await fireblocks.cosignersBeta.getRequestStatus({
      cosignerId,
      apiKeyId,
      requestId,
    });
    expect(pending.data).toEqual({ status: 'WAITING_FOR_APPROVAL', type: 'PAIR_API_KEY' });
    // Pairing it a second time while it waits is refused.
    await expect(
      fireblocks.cosignersBeta.pairApiKey({ cosignerId, apiKeyId, pairApiKeyRequest: {} }),
    ).rejects.toMatchObject({ response: { statusCode: 409, data: { code: 1312 } } });

    await p.app.services.approvals.decide(p.owner, requestId, 'APPROVE');
    const done = await fireblocks.cosignersBeta.getRequestStatus({
      cosignerId,
      apiKeyId,
      requestId,
    });
    expect(done.data).toEqual({ status: 'COMPLETED', type: 'PAIR_API_KEY' });

    const page1 = await fireblocks.cosignersBeta.getApiKeys({ cosignerId, pageSize: 1 });
    expect(page1.data.data).toEqual([{ id: signers[1]!.id }]);
    const page2 = await fireblocks.cosignersBeta.getApiKeys({
      cosignerId,
      pageSize: 1,
      pageCursor: page1.data.next!,
    });
    expect(page2.data).toEqual({ data: [{ id: apiKeyId }], next: null });
    const desc = await fireblocks.cosignersBeta.getApiKeys({ cosignerId, order: 'DESC' });
    expect(desc.data.data.map((k) => k.id)).toEqual([apiKeyId, signers[1]!.id]);
  });

  it('refuses to pair a VIEWER API user, and a callback handler is not supported yet (501)', async () => {
    const cosignerId = cosigners[2]!.cosignerId;
    await expect(
      fireblocks.cosignersBeta.pairApiKey({
        cosignerId,
        apiKeyId: viewer.id,
        pairApiKeyRequest: {},
      }),
    ).rejects.toMatchObject({ response: { statusCode: 409, data: { code: 1311 } } });
    await expect(
      fireblocks.cosignersBeta.pairApiKey({
        cosignerId,
        apiKeyId: signers[4]!.id,
        pairApiKeyRequest: { callbackHandler: { url: 'https://handler.example' } },
      }),
    ).rejects.toMatchObject({ response: { statusCode: 501, data: { code: 1501 } } });
    await expect(
      fireblocks.cosignersBeta.updateCallbackHandler({
        cosignerId,
        apiKeyId: signers[2]!.id,
        updateCallbackHandlerRequest: { callbackHandler: { url: 'https://handler.example' } },
      }),
    ).rejects.toMatchObject({
      response: { statusCode: 501, data: { code: 1501, message: expect.any(String) } },
    });
  });

  it('unpairs an API key: 202 + Location; an admin asks, only the Owner completes it', async () => {
    const cosignerId = cosigners[2]!.cosignerId;
    const apiKeyId = signers[2]!.id;
    const res = await fireblocks.cosignersBeta.unpairApiKey({ cosignerId, apiKeyId });
    expect(res.statusCode).toBe(202);
    expect(res.data).toEqual({ id: apiKeyId });
    const requestId = (res.headers['location'] as string).split('/').pop()!;
    const statusOf = async () =>
      (await fireblocks.cosignersBeta.getRequestStatus({ cosignerId, apiKeyId, requestId })).data;
    // The requesting admin's own vote does not decide it (pairing review H3).
    expect(await statusOf()).toEqual({ status: 'WAITING_FOR_APPROVAL', type: 'UNPAIR_API_KEY' });
    expect((await fireblocks.cosignersBeta.getApiKeys({ cosignerId })).data.data).toHaveLength(1);
    await p.app.services.approvals.decide(p.owner, requestId, 'APPROVE');
    expect(await statusOf()).toEqual({ status: 'COMPLETED', type: 'UNPAIR_API_KEY' });
    const keys = await fireblocks.cosignersBeta.getApiKeys({ cosignerId });
    expect(keys.data).toEqual({ data: [], next: null });
    await expect(
      fireblocks.cosignersBeta.unpairApiKey({ cosignerId, apiKeyId }),
    ).rejects.toMatchObject({ response: { statusCode: 404 } });
    // A request id is only found under its own co-signer and API key.
    await expect(
      fireblocks.cosignersBeta.getRequestStatus({
        cosignerId: cosigners[0]!.cosignerId,
        apiKeyId,
        requestId,
      }),
    ).rejects.toMatchObject({ response: { statusCode: 404 } });
    const actions = (
      await p.app.services.audit.page({ workspaceId: p.workspaceId, limit: 500 })
    ).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'cosigner.renamed',
        'cosigner.api_key_paired',
        'cosigner.api_key_unpaired',
      ]),
    );
  });

  it('a VIEWER reads nothing; another workspace on the same platform sees none of these co-signers', async () => {
    const res = await signedRequest(p, viewer, 'GET', '/v1/cosigners');
    expect(res.statusCode).toBe(403);
    const ws = await p.app.services.workspaces.create({
      name: 'Other workspace',
      ownerEmail: 'other-owner@example.test',
    });
    const otherAdmin = await p.app.services.apiUsers.create(ws.owner, {
      name: 'other-admin',
      role: 'ADMIN',
      csrPem: admin.key.csrPem,
    });
    const asOther = { id: otherAdmin.user.id, role: 'ADMIN' as const, key: admin.key };
    const list = await signedRequest(p, asOther, 'GET', '/v1/cosigners');
    expect(list.json()).toEqual({ data: [], next: null });
    const get = await signedRequest(p, asOther, 'GET', `/v1/cosigners/${cosigners[0]!.cosignerId}`);
    expect(get.statusCode).toBe(404);
  });
});
