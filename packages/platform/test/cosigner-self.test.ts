/**
 * A co-signer's changes to itself from its host (`cosigner unpair`, `cosigner rename`; issue #5)
 * over `/cosigner/v1`: authenticated by its access token, audited with the co-signer as actor.
 * Unpair ends the pairing at once and is repeatable; only the caller's own pairings count.
 * Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairNewCosigner, refresh } from './helpers/cosigner.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('co-signer self-service: unpair and rename', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let signer: TestApiUser;
  let other: TestApiUser;
  let cosignerId: string;
  let token: string;
  let otherToken: string;

  const call = (method: 'POST' | 'PUT', url: string, bearer?: string, payload?: object) =>
    p.app.inject({
      method,
      url,
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      ...(payload ? { payload: payload as Record<string, unknown> } : {}),
    });
  const auditOf = (action: string) =>
    p.app.services.database.db
      .selectFrom('audit_log')
      .select(['actor_kind', 'actor_id', 'subject', 'details'])
      .where('action', '=', action)
      .execute();

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'self-admin', 'ADMIN');
    signer = await createApiUser(p, 'self-signer', 'SIGNER');
    other = await createApiUser(p, 'self-other', 'SIGNER');
    const paired = await pairNewCosigner(p, admin, signer.id, 'host one');
    cosignerId = paired.cosignerId;
    token = (await refresh(p, paired.refreshToken)).json<{ accessToken: string }>().accessToken;
    const second = await pairNewCosigner(p, admin, other.id, 'host two');
    otherToken = (await refresh(p, second.refreshToken)).json<{ accessToken: string }>()
      .accessToken;
  });
  afterAll(() => p.close());

  it('unpair: UNPAIRED at once, audited, repeatable; another co-signer cannot unpair it', async () => {
    const url = `/cosigner/v1/api_keys/${signer.id}/unpair`;
    expect((await call('POST', url)).statusCode).toBe(401);
    // Not this co-signer's pairing: as if it did not exist.
    expect((await call('POST', url, otherToken)).statusCode).toBe(404);
    const pairedBefore = await signedRequest(
      p,
      admin,
      'GET',
      `/v1/cosigners/${cosignerId}/api_keys/${signer.id}`,
    );
    expect(pairedBefore.statusCode).toBe(200);

    const res = await call('POST', url, token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ apiKeyId: signer.id, status: 'UNPAIRED' });
    const pairedAfter = await signedRequest(
      p,
      admin,
      'GET',
      `/v1/cosigners/${cosignerId}/api_keys/${signer.id}`,
    );
    expect(pairedAfter.statusCode).toBe(404);
    expect(await auditOf('cosigner.api_key_unpaired')).toEqual([
      {
        actor_kind: 'cosigner',
        actor_id: cosignerId,
        subject: cosignerId,
        details: { apiUserId: signer.id, by: 'cosigner' },
      },
    ]);

    const again = await call('POST', url, token);
    expect(again.statusCode).toBe(200);
    expect(await auditOf('cosigner.api_key_unpaired')).toHaveLength(1);
    // An API key never paired to it, and a malformed id.
    expect((await call('POST', `/cosigner/v1/api_keys/${admin.id}/unpair`, token)).statusCode).toBe(
      404,
    );
    expect((await call('POST', '/cosigner/v1/api_keys/nope/unpair', token)).statusCode).toBe(400);
  });

  it('rename: the record changes, audited; a bad name is a 400 and changes nothing', async () => {
    const res = await call('PUT', '/cosigner/v1/name', otherToken, { name: '  host two east ' });
    expect(res.statusCode, res.body).toBe(200);
    const renamedId = res.json<{ cosignerId: string }>().cosignerId;
    expect(res.json()).toEqual({ cosignerId: renamedId, name: 'host two east' });
    const record = await signedRequest(p, admin, 'GET', `/v1/cosigners/${renamedId}`);
    expect(record.json()).toMatchObject({ name: 'host two east' });
    expect(await auditOf('cosigner.renamed')).toEqual([
      {
        actor_kind: 'cosigner',
        actor_id: renamedId,
        subject: renamedId,
        details: { from: 'host two', to: 'host two east', by: 'cosigner' },
      },
    ]);
    for (const name of ['', '\u0007bell', 'x'.repeat(101)])
      expect((await call('PUT', '/cosigner/v1/name', otherToken, { name })).statusCode).toBe(400);
    expect(
      (await call('PUT', '/cosigner/v1/name', otherToken, { name: 'ok', extra: 1 })).statusCode,
    ).toBe(400);
    expect((await call('PUT', '/cosigner/v1/name', undefined, { name: 'x' })).statusCode).toBe(401);
    const after = await signedRequest(p, admin, 'GET', `/v1/cosigners/${renamedId}`);
    expect(after.json()).toMatchObject({ name: 'host two east' });
  });
});
