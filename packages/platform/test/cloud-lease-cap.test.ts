/**
 * Fairness on the shared Cloud Co-signers (raw-signing review H2): a cloud co-signer holds at
 * most `cloudLeasesPerWorkspace` leased jobs of one workspace; that workspace's further jobs
 * wait while another workspace's are leased, and one finished job lets the next one in. An API
 * co-signer, which serves its own workspace, is not capped.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, defaultConfig } from '../src/index.js';
import { newIdentity, pair, pairNewCosigner, refresh } from './helpers/cosigner.js';
import { keygenSession } from './helpers/relay-party.js';
import { createApiUser, startTestPlatform, type TestPlatform } from './helpers/test-platform.js';

interface Job {
  jobId: string;
  leaseId: string;
  sessionId: string;
  workspaceId: string;
}

describe('leases of one workspace on a Cloud Co-signer are capped', () => {
  let p: TestPlatform;
  let capped: FastifyInstance;
  let cloudToken: string;
  let cloudId: string;
  let apiToken: string;
  let apiCosignerId: string;
  let apiUserId: string;

  const work = async (accessToken: string): Promise<Job | undefined> => {
    const res: LightMyRequestResponse = await capped.inject({
      method: 'GET',
      url: '/cosigner/v1/work?wait=0',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ jobs: Job[] }>().jobs[0];
  };

  const newSession = (workspaceId: string, shareSetId: string): Promise<string> =>
    keygenSession(p, { workspaceId, apiUserId, shareSetId, cosignerIds: [cloudId, apiCosignerId] });

  beforeAll(async () => {
    p = await startTestPlatform();
    // A second instance on the same database with a cap of 2 (the default is 16).
    capped = await buildApp({
      config: { ...defaultConfig, logLevel: 'silent', database: {} },
      database: p.app.services.database,
      ownsDatabase: false,
      relay: { cloudLeasesPerWorkspace: 2 },
    });
    await capped.ready();
    // One cloud co-signer only: with both registered, pairing a signer would start KEYGEN.
    const { token } = await p.app.services.cloudCosigners.issueToken(1);
    const registered = (
      await pair(p, {
        pairingToken: token,
        identity: newIdentity(),
        cosignerName: 'cloud-1',
        version: '0.1.0',
      })
    ).json<{ cosignerId: string; refreshToken: string }>();
    cloudId = registered.cosignerId;
    cloudToken = (await refresh(p, registered.refreshToken)).json<{ accessToken: string }>()
      .accessToken;
    const admin = await createApiUser(p, 'cap-admin', 'ADMIN');
    const signer = await createApiUser(p, 'cap-signer', 'SIGNER');
    apiUserId = signer.id;
    const paired = await pairNewCosigner(p, admin, signer.id);
    apiCosignerId = paired.cosignerId;
    apiToken = (await refresh(p, paired.refreshToken)).json<{ accessToken: string }>().accessToken;
  });
  afterAll(async () => {
    await capped?.close();
    await p?.close();
  });

  it("a workspace at its cap waits; another workspace's job is leased; a finished job frees a place", async () => {
    const other = await p.app.services.workspaces.create({
      name: 'Other workspace',
      ownerEmail: 'other@example.test',
    });
    const busy = [];
    for (let i = 0; i < 3; i++) busy.push(await newSession(p.workspaceId, `cap-a-${i}`));
    const otherSession = await newSession(other.workspaceId, 'cap-b-0');

    const leased: Job[] = [];
    for (let i = 0; i < 4; i++) {
      const job = await work(cloudToken);
      if (job) leased.push(job);
    }
    // Two of the busy workspace (its cap), then the other workspace's, though it is newer.
    expect(leased.filter((j) => j.workspaceId === p.workspaceId)).toHaveLength(2);
    expect(
      leased.filter((j) => j.workspaceId === other.workspaceId).map((j) => j.sessionId),
    ).toEqual([otherSession]);
    expect(leased).toHaveLength(3);

    // One of the busy workspace's jobs finishes: the third is leased next.
    const done = leased.find((j) => j.workspaceId === p.workspaceId)!;
    const reported = await capped.inject({
      method: 'POST',
      url: `/cosigner/v1/jobs/${done.jobId}/result`,
      headers: { authorization: `Bearer ${cloudToken}` },
      payload: {
        leaseId: done.leaseId,
        status: 'DONE',
        result: { publicKey: 'ab'.repeat(32), chainCode: 'cd'.repeat(32) },
      },
    });
    expect(reported.statusCode, reported.body).toBe(200);
    const third = await work(cloudToken);
    const held = new Set(leased.map((j) => j.sessionId));
    expect(third?.sessionId).toBe(busy.find((s) => !held.has(s)));
    expect(await work(cloudToken)).toBeUndefined();

    // The API co-signer is not capped: all three of its workspace's jobs.
    const apiJobs = [];
    for (let i = 0; i < 3; i++) apiJobs.push(await work(apiToken));
    expect(apiJobs.map((j) => j?.sessionId).sort()).toEqual([...busy].sort());
  });
});
