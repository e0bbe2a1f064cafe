/** IP allowlist changes are approval requests: nobody changes their own alone. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('IP allowlist approvals', () => {
  let p: TestPlatform;
  let alice: TestApiUser;
  let bob: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    alice = await createApiUser(p, 'alice-admin', 'ADMIN');
    bob = await createApiUser(p, 'bob-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  const allowlistOf = async (user: TestApiUser) =>
    (
      await signedRequest(
        p,
        bob, // Bob's own allowlist (set first) keeps the test's address, 127.0.0.1.
        'GET',
        `/v1/management/api_users/${user.id}/whitelist_ip_addresses`,
      )
    ).json().whitelistedIps as string[];

  it("another admin's change completes at once with quorum 1", async () => {
    const res = await signedRequest(
      p,
      alice,
      'PUT',
      `/v1/countersign/api_users/${bob.id}/ip_allowlist`,
      {
        body: { addresses: ['198.51.100.7', '127.0.0.1'] },
      },
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      whitelistedIps: ['198.51.100.7', '127.0.0.1'],
      approvalRequest: { status: 'APPROVED' },
    });
    expect(await allowlistOf(bob)).toEqual(['198.51.100.7', '127.0.0.1']);
  });

  it('a change to your own allowlist waits for another admin', async () => {
    const res = await signedRequest(
      p,
      alice,
      'PUT',
      `/v1/countersign/api_users/${alice.id}/ip_allowlist`,
      {
        body: { addresses: ['203.0.113.5'] },
      },
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      whitelistedIps: [],
      requested: ['203.0.113.5'],
      approvalRequest: { status: 'PENDING' },
    });
    expect(await allowlistOf(alice)).toEqual([]);
    const id = res.json().approvalRequest.id as string;
    // Alice cannot approve it herself.
    const self = await signedRequest(
      p,
      alice,
      'POST',
      `/v1/countersign/approval_requests/${id}/approve`,
    );
    expect(self.statusCode).toBe(403);
    const approved = await signedRequest(
      p,
      bob,
      'POST',
      `/v1/countersign/approval_requests/${id}/approve`,
    );
    expect(approved.json().status).toBe('APPROVED');
    expect(await allowlistOf(alice)).toEqual(['203.0.113.5']);
    // And now it is enforced: Alice, calling from 127.0.0.1, is refused.
    expect((await signedRequest(p, alice, 'GET', '/v1/countersign/session')).json().code).toBe(-7);
  });
});
