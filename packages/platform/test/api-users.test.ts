import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKey } from './helpers/keys.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const PATH = '/v1/management/api_users';

describe('API users', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'api-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  it('an admin creates an API user from a 4096-bit CSR; it is ready at once with quorum 1', async () => {
    const key = await testKey('signer-4096', 4096);
    const res = await signedRequest(p, admin, 'POST', PATH, {
      body: { name: 'signer-1', role: 'SIGNER', csrPem: key.csrPem },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      name: 'signer-1',
      role: 'SIGNER',
      status: 'READY',
      enabled: true,
      warnings: [],
    });
    expect(body.apiKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.approvalRequest.status).toBe('APPROVED');

    const list = await signedRequest(p, admin, 'GET', PATH);
    expect(list.statusCode).toBe(200);
    const created = (list.json().users as { id: string }[]).find(
      (u: { id: string }) => u.id === body.apiKey,
    );
    expect(created).toMatchObject({
      name: 'signer-1',
      role: 'SIGNER',
      userType: 'API',
      csrSubject: 'O=Countersign Tests,CN=signer-4096',
    });

    // The new key authenticates.
    const signer = { id: body.apiKey as string, role: 'SIGNER' as const, key };
    expect((await signedRequest(p, signer, 'GET', '/v1/countersign/session')).json()).toMatchObject(
      { role: 'SIGNER' },
    );
  });

  it('accepts a 2048-bit key with a warning', async () => {
    const key = await testKey('viewer-2048', 2048);
    const res = await signedRequest(p, admin, 'POST', PATH, {
      body: { name: 'viewer-1', role: 'VIEWER', csrPem: key.csrPem },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual([expect.stringMatching(/4096/)]);
  });

  it('refuses OWNER as an API user role, unknown roles and duplicate names', async () => {
    const key = await testKey('dup', 2048);
    for (const role of ['OWNER', 'ROOT']) {
      const res = await signedRequest(p, admin, 'POST', PATH, {
        body: { name: `r-${role}`, role, csrPem: key.csrPem },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe(1003);
    }
    expect(
      (
        await signedRequest(p, admin, 'POST', PATH, {
          body: { name: 'dup', role: 'VIEWER', csrPem: key.csrPem },
        })
      ).statusCode,
    ).toBe(200);
    const again = await signedRequest(p, admin, 'POST', PATH, {
      body: { name: 'dup', role: 'VIEWER', csrPem: key.csrPem },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe(1107);
  });

  it('rejects a CSR that is not PEM with a specific code and writes nothing', async () => {
    const before = await p.app.services.database.db.selectFrom('api_users').select('id').execute();
    const res = await signedRequest(p, admin, 'POST', PATH, {
      body: { name: 'bad-csr', role: 'VIEWER', csrPem: 'hello' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(1101);
    const after = await p.app.services.database.db.selectFrom('api_users').select('id').execute();
    expect(after.length).toBe(before.length);
  });

  it('with a quorum of 2, a new API user waits for a second admin; one rejection ends it', async () => {
    await p.app.services.database.db
      .updateTable('workspaces')
      .set({ admin_quorum: 2 })
      .where('id', '=', p.workspaceId)
      .execute();
    try {
      const second = await createApiUser(p, 'second-admin', 'ADMIN'); // pending: only the Owner approved
      await p.app.services.approvals.decide(
        principalOf(admin),
        await pendingRequestFor(second.id),
        'APPROVE',
      );

      const key = await testKey('pending-signer', 2048);
      const res = await signedRequest(p, admin, 'POST', PATH, {
        body: { name: 'needs-two', role: 'SIGNER', csrPem: key.csrPem },
      });
      expect(res.json()).toMatchObject({
        status: 'PENDING_APPROVAL',
        enabled: false,
        approvalRequest: { status: 'PENDING' },
      });
      const pendingUser = { id: res.json().apiKey as string, role: 'SIGNER' as const, key };
      expect(
        (await signedRequest(p, pendingUser, 'GET', '/v1/countersign/session')).json().code,
      ).toBe(-7);

      const requestId = res.json().approvalRequest.id as string;
      // The creator cannot vote twice.
      const twice = await signedRequest(
        p,
        admin,
        'POST',
        `/v1/countersign/approval_requests/${requestId}/approve`,
      );
      expect(twice.statusCode).toBe(409);
      const approved = await signedRequest(
        p,
        second,
        'POST',
        `/v1/countersign/approval_requests/${requestId}/approve`,
      );
      expect(approved.statusCode).toBe(200);
      expect(approved.json()).toMatchObject({
        status: 'APPROVED',
        votes: [{ decision: 'APPROVE' }, { decision: 'APPROVE' }],
      });
      expect(
        (await signedRequest(p, pendingUser, 'GET', '/v1/countersign/session')).statusCode,
      ).toBe(200);

      const key2 = await testKey('rejected-signer', 2048);
      const res2 = await signedRequest(p, admin, 'POST', PATH, {
        body: { name: 'rejected', role: 'SIGNER', csrPem: key2.csrPem },
      });
      const rejected = await signedRequest(
        p,
        second,
        'POST',
        `/v1/countersign/approval_requests/${res2.json().approvalRequest.id}/reject`,
      );
      expect(rejected.json().status).toBe('REJECTED');
      const users = (await signedRequest(p, admin, 'GET', PATH)).json().users as { name: string }[];
      expect(users.find((u: { name: string }) => u.name === 'rejected')).toMatchObject({
        status: 'REJECTED',
        enabled: false,
      });
      const late = await signedRequest(
        p,
        admin,
        'POST',
        `/v1/countersign/approval_requests/${res2.json().approvalRequest.id}/approve`,
      );
      expect(late.statusCode).toBe(409);
    } finally {
      await p.app.services.database.db
        .updateTable('workspaces')
        .set({ admin_quorum: 1 })
        .where('id', '=', p.workspaceId)
        .execute();
    }
  });

  function principalOf(user: TestApiUser) {
    return {
      kind: 'api_user' as const,
      id: user.id,
      workspaceId: p.workspaceId,
      role: user.role,
      name: 'admin',
    };
  }
  async function pendingRequestFor(apiUserId: string): Promise<string> {
    const row = await p.app.services.database.db
      .selectFrom('api_users')
      .select('approval_request_id')
      .where('id', '=', apiUserId)
      .executeTakeFirstOrThrow();
    return row.approval_request_id!;
  }
});
