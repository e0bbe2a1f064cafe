/**
 * Several platform instances on one database: a long poll waiting on instance A sees work and
 * messages written through instance B, whose in-process notifier A never hears, through A's
 * periodic re-check of the database.
 */
import { buildApp, defaultConfig } from '../src/index.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairNewCosigner, refresh } from './helpers/cosigner.js';
import { keygenSession } from './helpers/relay-party.js';
import { createApiUser, startTestPlatform, type TestPlatform } from './helpers/test-platform.js';

describe('MPC relay across platform instances', () => {
  let b: TestPlatform;
  let a: FastifyInstance;
  const parties: { cosignerId: string; accessToken: string; apiUserId: string }[] = [];

  beforeAll(async () => {
    b = await startTestPlatform();
    a = await buildApp({
      config: { ...defaultConfig, logLevel: 'silent', database: {} },
      database: b.app.services.database,
      ownsDatabase: false,
      relay: { recheckMs: 100 },
    });
    await a.ready();
    const admin = await createApiUser(b, 'instances-admin', 'ADMIN');
    for (let i = 0; i < 3; i++) {
      const user = await createApiUser(b, `instances-signer-${i}`, 'SIGNER');
      const paired = await pairNewCosigner(b, admin, user.id);
      const tokens = (await refresh(b, paired.refreshToken)).json<{ accessToken: string }>();
      parties.push({
        cosignerId: paired.cosignerId,
        accessToken: tokens.accessToken,
        apiUserId: user.id,
      });
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('a poll on instance A answers with work and messages written through instance B', async () => {
    const headers = { authorization: `Bearer ${parties[0]!.accessToken}` };
    const polled = a.inject({ method: 'GET', url: '/cosigner/v1/work?wait=20', headers });
    const sessionId = await keygenSession(b, {
      apiUserId: parties[2]!.apiUserId,
      shareSetId: 'instances-test',
      cosignerIds: parties.map((p) => p.cosignerId),
      ttlMs: 60_000,
    });
    b.app.services.mpcSessions.announce(parties.map((p) => p.cosignerId));
    const work = (await polled).json<{ jobs: { sessionId: string }[] }>();
    expect(work.jobs.map((j) => j.sessionId)).toEqual([sessionId]);

    const url = `/cosigner/v1/sessions/${sessionId}/messages`;
    const reading = a.inject({ method: 'GET', url: `${url}?after=0&wait=20`, headers });
    const posted = await b.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${parties[1]!.accessToken}` },
      payload: {
        messages: [{ round: 1, to: null, payload: Buffer.from('hi').toString('base64') }],
      },
    });
    expect(posted.statusCode, posted.body).toBe(200);
    const read = (await reading).json<{ messages: { from: number }[] }>();
    expect(read.messages.map((m) => m.from)).toEqual([2]);
  });
});
