/**
 * Sandbox workspaces and the communal test co-signer (docs/sandbox.md): the flag is chosen at
 * creation and never changes; the operator registers the communal co-signer with a sandbox
 * token; a sandbox workspace's SIGNER and ADMIN API users are paired to it as soon as they are
 * ready (audited) and get their share sets like any signer, while a production workspace's never
 * are — it is offered no job of theirs even when a session names it — and unpairing stops it.
 */
import { decodeSignedRoster } from '@countersign/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignerApiKeys,
  newIdentity,
  pair,
  pairingTokenFor,
  pairNewCosigner,
  refresh,
} from './helpers/cosigner.js';
import { keygenSession } from './helpers/relay-party.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('sandbox workspaces and the communal test co-signer', () => {
  let p: TestPlatform;
  /** The same platform, acting in the sandbox workspace (its Owner). */
  let sandbox: TestPlatform;
  let communal: { cosignerId: string; accessToken: string };
  let earlySigner: TestApiUser;

  const db = () => p.app.services.database.db;
  const accessFor = async (refreshToken: string): Promise<string> =>
    (await refresh(p, refreshToken)).json<{ accessToken: string }>().accessToken;
  /** The communal co-signer's identity (its secrets prove possession at pairing). */
  const communalIdentity = newIdentity();
  const registerOperator = async (token: string, identity = newIdentity()) =>
    pair(p, { pairingToken: token, identity, cosignerName: 'op', version: '1' });
  const pairingsOf = (apiUserId: string) =>
    db()
      .selectFrom('cosigner_api_keys')
      .select(['cosigner_id', 'status', 'approval_request_id'])
      .where('api_user_id', '=', apiUserId)
      .execute();
  const keygenParties = async (workspaceId: string) => {
    const sessions = await db()
      .selectFrom('mpc_sessions')
      .select(['signed_roster', 'algorithm'])
      .where('workspace_id', '=', workspaceId)
      .where('purpose', '=', 'KEYGEN')
      .execute();
    return sessions.map(
      (s) =>
        decodeSignedRoster(Buffer.from(s.signed_roster, 'base64')).roster.parties.map(
          (x) => x.cosignerId,
        )[2],
    );
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    const ws = await p.app.services.workspaces.create({
      name: 'Sandbox',
      ownerEmail: 'sandbox-owner@example.test',
      sandbox: true,
    });
    expect(ws.sandbox).toBe(true);
    sandbox = { ...p, workspaceId: ws.workspaceId, owner: ws.owner };
    for (const slot of [1, 2] as const) {
      const { token } = await p.app.services.cloudCosigners.issueToken(slot);
      expect((await registerOperator(token)).statusCode).toBe(200);
    }
  });
  afterAll(() => p.close());

  it('the flag is set at creation and can never be changed, either way', async () => {
    const rows = await db()
      .selectFrom('workspaces')
      .select(['id', 'sandbox'])
      .where('id', 'in', [p.workspaceId, sandbox.workspaceId])
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.sandbox]))).toEqual({
      [p.workspaceId]: false,
      [sandbox.workspaceId]: true,
    });
    for (const [id, to] of [
      [p.workspaceId, true],
      [sandbox.workspaceId, false],
    ] as const) {
      await expect(
        db().updateTable('workspaces').set({ sandbox: to }).where('id', '=', id).execute(),
      ).rejects.toThrow(/sandbox flag is set at creation and never changes/);
    }
    // Other columns stay writable.
    await db()
      .updateTable('workspaces')
      .set({ name: 'Sandbox (renamed)' })
      .where('id', '=', sandbox.workspaceId)
      .execute();
    expect(await p.app.services.workspaces.isSandbox(sandbox.workspaceId)).toBe(true);
    expect(await p.app.services.workspaces.isSandbox(p.workspaceId)).toBe(false);
  });

  it('a sandbox signer made before the communal co-signer exists is paired when it registers', async () => {
    earlySigner = await createApiUser(sandbox, 'early-signer', 'SIGNER');
    expect(await pairingsOf(earlySigner.id)).toEqual([]);

    const { token } = await p.app.services.cloudCosigners.issueToken('sandbox');
    const res = await registerOperator(token, communalIdentity);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ status: string; cosignerId: string; refreshToken: string }>();
    expect(body.status).toBe('PAIRED');
    communal = { cosignerId: body.cosignerId, accessToken: await accessFor(body.refreshToken) };
    expect(
      await db()
        .selectFrom('cosigners')
        .select(['type', 'mode', 'workspace_id', 'cloud_slot'])
        .where('id', '=', communal.cosignerId)
        .executeTakeFirstOrThrow(),
    ).toEqual({ type: 'SANDBOX', mode: 'API', workspace_id: null, cloud_slot: null });

    const [pairing] = await pairingsOf(earlySigner.id);
    expect(pairing).toMatchObject({ cosigner_id: communal.cosignerId, status: 'PAIRED' });
    // The decision it stands on: the API user's creation approval.
    const user = await p.app.services.apiUsers.get(sandbox.workspaceId, earlySigner.id);
    expect(pairing!.approval_request_id).toBe(user.approval_request_id);
    // First signer: KEYGEN with the communal co-signer as the third party, both algorithms.
    expect(await keygenParties(sandbox.workspaceId)).toEqual([
      communal.cosignerId,
      communal.cosignerId,
    ]);

    // One communal co-signer per platform.
    const again = await p.app.services.cloudCosigners.issueToken('sandbox');
    expect((await registerOperator(again.token)).statusCode).toBe(409);
  });

  it('a new SIGNER or ADMIN of a sandbox is paired at once and audited; other roles are not', async () => {
    const admin = await createApiUser(sandbox, 'sandbox-admin', 'ADMIN');
    const viewer = await createApiUser(sandbox, 'sandbox-viewer', 'VIEWER');
    expect(await pairingsOf(admin.id)).toEqual([
      expect.objectContaining({ cosigner_id: communal.cosignerId, status: 'PAIRED' }),
    ]);
    expect(await pairingsOf(viewer.id)).toEqual([]);
    const audit = await db()
      .selectFrom('audit_log')
      .select(['subject', 'details'])
      .where('workspace_id', '=', sandbox.workspaceId)
      .where('action', '=', 'cosigner.api_key_paired')
      .orderBy('seq')
      .execute();
    expect(audit.map((a) => [a.subject, a.details])).toEqual([
      [communal.cosignerId, expect.objectContaining({ apiUserId: earlySigner.id, sandbox: true })],
      [communal.cosignerId, expect.objectContaining({ apiUserId: admin.id, sandbox: true })],
    ]);

    // The co-signer's own list says which workspaces are sandboxes.
    const listed = await cosignerApiKeys(p, communal.accessToken);
    expect(listed.json<{ apiKeys: unknown[] }>().apiKeys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          apiKeyId: admin.id,
          workspaceId: sandbox.workspaceId,
          workspaceSandbox: true,
          status: 'PAIRED',
        }),
      ]),
    );
    // Its API users see they are in a sandbox; the management API reports the type.
    const session = await signedRequest(sandbox, admin, 'GET', '/v1/countersign/session');
    expect(session.json()).toMatchObject({
      workspaceId: sandbox.workspaceId,
      workspaceSandbox: true,
    });
    const cosigner = await signedRequest(
      sandbox,
      admin,
      'GET',
      `/v1/cosigners/${communal.cosignerId}`,
    );
    expect(cosigner.statusCode, cosigner.body).toBe(200);
    expect(cosigner.json()).toMatchObject({ type: 'SANDBOX' });
  });

  it('a production workspace is never paired to it, and is offered none of its work', async () => {
    const admin = await createApiUser(p, 'prod-admin', 'ADMIN');
    const signer = await createApiUser(p, 'prod-signer', 'SIGNER');
    expect(await pairingsOf(admin.id)).toEqual([]);
    expect(await pairingsOf(signer.id)).toEqual([]);
    const session = await signedRequest(p, admin, 'GET', '/v1/countersign/session');
    expect(session.json()).toMatchObject({ workspaceSandbox: false });

    // Not with a pairing token either: the platform alone pairs the communal co-signer.
    const byToken = await pair(
      p,
      {
        pairingToken: await pairingTokenFor(p, admin, signer.id),
        identity: communalIdentity,
        cosignerName: 'communal',
        version: '1',
        cosignerId: communal.cosignerId,
      },
      communal.accessToken,
    );
    expect(byToken.statusCode).toBe(403);
    expect(await pairingsOf(signer.id)).toEqual([]);

    // Even a session that names it (a platform bug) is never leased to it.
    const own = await pairNewCosigner(p, admin, signer.id);
    const [cloud1, cloud2] = await db()
      .selectFrom('cosigners')
      .select('id')
      .where('mode', '=', 'CLOUD')
      .orderBy('cloud_slot')
      .execute();
    await keygenSession(p, {
      apiUserId: signer.id,
      shareSetId: 'misrouted',
      cosignerIds: [cloud1!.id, cloud2!.id, communal.cosignerId],
      ttlMs: 60_000,
    });
    const offered = [];
    for (;;) {
      const res = await p.app.inject({
        method: 'GET',
        url: '/cosigner/v1/work?wait=0',
        headers: { authorization: `Bearer ${communal.accessToken}` },
      });
      const job = res.json<{ jobs: { workspaceId: string }[] }>().jobs[0];
      if (!job) break;
      offered.push(job.workspaceId);
    }
    // Only the sandbox's KEYGEN jobs, never the production workspace's.
    expect(offered.length).toBeGreaterThan(0);
    expect(new Set(offered)).toEqual(new Set([sandbox.workspaceId]));
    expect(own.cosignerId).not.toBe(communal.cosignerId);
  });

  it('unpairing an API user from it (the Owner decides) ends its pairing', async () => {
    const command = await p.app.services.cosigners.requestUnpair(
      sandbox.owner,
      communal.cosignerId,
      earlySigner.id,
    );
    expect(command.status).toBe('COMPLETED');
    expect(await pairingsOf(earlySigner.id)).toEqual([
      expect.objectContaining({ cosigner_id: communal.cosignerId, status: 'UNPAIRED' }),
    ]);
    const listed = await cosignerApiKeys(p, communal.accessToken);
    expect(listed.json<{ apiKeys: unknown[] }>().apiKeys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ apiKeyId: earlySigner.id, status: 'UNPAIRED' }),
      ]),
    );
  });
});
