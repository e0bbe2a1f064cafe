/**
 * Work long polls and their wake-ups (src/mpc/cosigner-job-service.ts `next`): a co-signer keeps
 * two polls open, and a new job wakes one of them. The one woken leases the co-signer's oldest
 * due job, which need not be the one it was woken for (a signing announced while the pool's
 * top-up jobs wait); when another job is still due, it wakes the co-signer's other poll rather
 * than leave that job to the re-check. Jobs offered later (the pool's PRESIGN jobs) wake a poll
 * when they are offered. The re-check here is ten minutes away: only a wake-up can answer in time.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { workKey } from '../src/mpc/relay-notifier.js';
import { pairNewCosigner, refresh } from './helpers/cosigner.js';
import { keygenSession } from './helpers/relay-party.js';
import { createApiUser, startTestPlatform, type TestPlatform } from './helpers/test-platform.js';

interface Job {
  jobId: string;
  sessionId: string;
}

describe('work wake-ups', () => {
  let p: TestPlatform;
  let token: string;
  let cosignerId: string;
  let otherCosignerId: string;
  let apiUserId: string;

  /** A long poll for work of up to `waitSeconds`; the jobs it answered. */
  const poll = async (waitSeconds: number): Promise<Job[]> => {
    const res: LightMyRequestResponse = await p.app.inject({
      method: 'GET',
      url: `/cosigner/v1/work?wait=${waitSeconds}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ jobs: Job[] }>().jobs;
  };

  /** Polls asleep for the co-signer's work now. */
  const asleep = (): number => p.app.services.relayNotifier.waiting(workKey(cosignerId));

  /** Until `n` polls of the co-signer are asleep (vitest's own wait). */
  const untilAsleep = (n: number) => vi.waitFor(() => expect(asleep()).toBe(n));

  beforeAll(async () => {
    p = await startTestPlatform({}, undefined, undefined, undefined, {
      presignaturePoolSize: 0,
      recheckMs: 600_000,
    });
    const admin = await createApiUser(p, 'wake-admin', 'ADMIN');
    const signer = await createApiUser(p, 'wake-signer', 'SIGNER');
    const other = await createApiUser(p, 'wake-other', 'SIGNER');
    apiUserId = signer.id;
    const paired = await pairNewCosigner(p, admin, signer.id);
    cosignerId = paired.cosignerId;
    otherCosignerId = (await pairNewCosigner(p, admin, other.id)).cosignerId;
    token = (await refresh(p, paired.refreshToken)).json<{ accessToken: string }>().accessToken;
  });
  afterAll(() => p?.close());

  it('a poll that leases one job while another is due wakes the co-signer’s other poll', async () => {
    const first = poll(30); // finds nothing, sleeps: the longest waiter
    await untilAsleep(1);
    const second = poll(30); // sleeps at once, beside the first
    await untilAsleep(2);

    const sessions: string[] = [];
    for (const shareSetId of ['wake-a', 'wake-b'])
      sessions.push(
        await keygenSession(p, {
          apiUserId,
          shareSetId,
          cosignerIds: [cosignerId, otherCosignerId],
        }),
      );
    // One wake-up for the two jobs: the other's went to a poll that leased an older job.
    p.app.services.mpcSessions.announce([cosignerId]);

    const leased = [...(await first), ...(await second)];
    expect(leased.map((j) => j.sessionId).sort()).toEqual([...sessions].sort());
    expect(asleep()).toBe(0);
  });

  it('jobs offered later wake a poll of their co-signer once they are offered', async () => {
    const polled = poll(30);
    await untilAsleep(1);
    const sessionId = await keygenSession(p, {
      apiUserId,
      shareSetId: 'wake-later',
      cosignerIds: [cosignerId, otherCosignerId],
      offerAfterMs: 200,
    });
    p.app.services.mpcSessions.announceAfter([cosignerId], 200);
    expect((await polled).map((j) => j.sessionId)).toEqual([sessionId]);
  });
});
