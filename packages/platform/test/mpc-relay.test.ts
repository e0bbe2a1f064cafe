/**
 * The MPC relay: signed rosters, membership on every call, message routing (mine or broadcast
 * only), bounds, leases that expire and re-offer the job, results only from the lease holder,
 * session deadlines. Time moves with a fake clock, never with sleeps.
 */
import { createPublicKey, verify } from 'node:crypto';
import { decodeSignedRoster } from '@countersign/protocol';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeClock, pairNewCosigner, refresh, type PairedCosigner } from './helpers/cosigner.js';
import { keygenSession } from './helpers/relay-party.js';
import {
  createApiUser,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const clock = fakeClock();
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

interface Party extends PairedCosigner {
  accessToken: string;
  apiUserId: string;
}

interface Job {
  jobId: string;
  leaseId: string;
  attempt: number;
  sessionId: string;
  algorithm: string;
}

describe('MPC relay', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  const parties: Party[] = [];
  let outsider: Party;

  const call = (
    who: Party,
    method: 'GET' | 'POST',
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse> =>
    p.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${who.accessToken}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  /** A fresh 3-party KEYGEN session among `parties`, as the orchestrator would create it. */
  const newSession = (): Promise<string> =>
    keygenSession(p, {
      apiUserId: parties[2]!.apiUserId,
      shareSetId: `test-${Math.random().toString(36).slice(2)}`,
      cosignerIds: parties.map((party) => party.cosignerId),
    });

  const work = async (who: Party): Promise<Job | undefined> => {
    const res = await call(who, 'GET', '/cosigner/v1/work?wait=0');
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ jobs: Job[] }>().jobs[0];
  };

  const b64 = (s: string): string => Buffer.from(s).toString('base64');

  beforeAll(async () => {
    p = await startTestPlatform({}, undefined, undefined, clock.now);
    admin = await createApiUser(p, 'relay-admin', 'ADMIN');
    for (let i = 0; i < 4; i++) {
      const user = await createApiUser(p, `relay-signer-${i}`, 'SIGNER');
      const paired = await pairNewCosigner(p, admin, user.id);
      const tokens = (await refresh(p, paired.refreshToken)).json<{
        accessToken: string;
        refreshToken: string;
      }>();
      parties.push({
        ...paired,
        refreshToken: tokens.refreshToken,
        accessToken: tokens.accessToken,
        apiUserId: user.id,
      });
    }
    outsider = parties.pop()!;
  });
  afterAll(() => p.close());

  it('publishes the roster signed by the authorization key, to members only', async () => {
    const sessionId = await newSession();
    const res = await call(parties[0]!, 'GET', `/cosigner/v1/sessions/${sessionId}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ signedRoster: string; status: string }>();
    expect(body.status).toBe('OPEN');
    const signed = decodeSignedRoster(Buffer.from(body.signedRoster, 'base64'));
    expect(Buffer.from(signed.roster.sessionId).toString('hex')).toBe(sessionId);
    expect(signed.roster.parties.map((x) => x.cosignerId)).toEqual(
      parties.map((x) => x.cosignerId),
    );
    expect(Buffer.from(signed.roster.parties[0]!.identityKey).toString('base64url')).toBe(
      parties[0]!.identity.ed25519,
    );
    const platformKey = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(parties[0]!.platformKey, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    expect(verify(null, signed.signedBytes, platformKey, signed.signature)).toBe(true);

    expect(
      (await call(outsider, 'GET', `/cosigner/v1/sessions/${sessionId}`)).json(),
    ).toMatchObject({ code: 1601 });
    const unknown = await call(parties[0]!, 'GET', `/cosigner/v1/sessions/${'0'.repeat(64)}`);
    expect(unknown.statusCode).toBe(404);
    const noToken = await p.app.inject({
      method: 'GET',
      url: `/cosigner/v1/sessions/${sessionId}`,
    });
    expect(noToken.statusCode).toBe(401);
  });

  it('relays messages to their recipient or to all, never back to the sender; outsiders get nothing', async () => {
    const sessionId = await newSession();
    const url = `/cosigner/v1/sessions/${sessionId}/messages`;
    const [a, b, c] = parties as [Party, Party, Party];
    const posted = await call(a, 'POST', url, {
      messages: [
        { round: 1, to: null, payload: b64('broadcast from 1') },
        { round: 1, to: 2, payload: b64('secret for 2') },
      ],
    });
    expect(posted.statusCode, posted.body).toBe(200);
    expect(posted.json()).toEqual({ accepted: 2 });

    const forB = (await call(b, 'GET', `${url}?after=0`)).json<{
      messages: { seq: number; from: number; to: number | null; payload: string }[];
      next: number;
    }>();
    expect(
      forB.messages.map((m) => [m.from, m.to, Buffer.from(m.payload, 'base64').toString()]),
    ).toEqual([
      [1, null, 'broadcast from 1'],
      [1, 2, 'secret for 2'],
    ]);
    const forC = (await call(c, 'GET', `${url}?after=0`)).json<{
      messages: { to: number | null }[];
    }>();
    expect(forC.messages.map((m) => m.to)).toEqual([null]);
    const forA = (await call(a, 'GET', `${url}?after=0&wait=0`)).json<{ messages: unknown[] }>();
    expect(forA.messages).toEqual([]);
    const afterAll2 = (await call(b, 'GET', `${url}?after=${forB.next}`)).json<{
      messages: unknown[];
    }>();
    expect(afterAll2.messages).toEqual([]);

    // A non-member can neither post nor read.
    const outsiderPost = await call(outsider, 'POST', url, {
      messages: [{ round: 1, to: 1, payload: b64('let me in') }],
    });
    expect(outsiderPost.statusCode).toBe(403);
    expect(outsiderPost.json()).toMatchObject({ code: 1601 });
    expect((await call(outsider, 'GET', `${url}?after=0`)).statusCode).toBe(403);
  });

  it('a long poll wakes when a message arrives', async () => {
    const sessionId = await newSession();
    const url = `/cosigner/v1/sessions/${sessionId}/messages`;
    const waiting = call(parties[1]!, 'GET', `${url}?after=0&wait=30`);
    const post = await call(parties[0]!, 'POST', url, {
      messages: [{ round: 1, to: null, payload: b64('wake up') }],
    });
    expect(post.statusCode).toBe(200);
    const res = await waiting;
    expect(res.json<{ messages: unknown[] }>().messages).toHaveLength(1);
  });

  it('refuses bad recipients, non-canonical base64, oversize payloads and unknown fields', async () => {
    const sessionId = await newSession();
    const url = `/cosigner/v1/sessions/${sessionId}/messages`;
    const a = parties[0]!;
    const refused = async (message: Record<string, unknown>, status = 400): Promise<void> => {
      const res = await call(a, 'POST', url, { messages: [message] });
      expect(res.statusCode, res.body).toBe(status);
    };
    await refused({ round: 1, to: 1, payload: b64('to myself') });
    await refused({ round: 1, to: 9, payload: b64('to nobody') });
    await refused({ round: 0, to: null, payload: b64('round 0') });
    await refused({ round: 1, to: null, payload: 'aGk' });
    await refused({ round: 1, to: null, payload: '' });
    await refused({ round: 1, to: null, payload: b64('x'), from: 2 });
    const big = Buffer.alloc(2 * 1024 * 1024 + 3).toString('base64');
    await refused({ round: 1, to: null, payload: big }, 400);
    const tooMany = Array.from({ length: 17 }, () => ({ round: 1, to: null, payload: b64('m') }));
    expect((await call(a, 'POST', url, { messages: tooMany })).statusCode).toBe(400);
    // Nothing of the refused posts was stored.
    const seen = (await call(parties[1]!, 'GET', `${url}?after=0`)).json<{ messages: unknown[] }>();
    expect(seen.messages).toEqual([]);
  });

  it('leases a job to one poller; an expired lease re-offers it; only the lease holder reports', async () => {
    const sessionId = await newSession();
    const a = parties[0]!;
    let job = await work(a);
    while (job && job.sessionId !== sessionId) job = await work(a); // older sessions' jobs
    expect(job).toMatchObject({ sessionId, attempt: 1, algorithm: 'EDDSA_ED25519' });
    const first = job!;
    // Leased: not offered again while the lease runs.
    let again = await work(a);
    while (again && again.sessionId !== sessionId) again = await work(a);
    expect(again).toBeUndefined();

    clock.advance(61_000);
    let reoffered = await work(a);
    while (reoffered && reoffered.sessionId !== sessionId) reoffered = await work(a);
    expect(reoffered).toMatchObject({ jobId: first.jobId, attempt: 2 });
    expect(reoffered!.leaseId).not.toBe(first.leaseId);

    const report = (leaseId: string, who = a) =>
      call(who, 'POST', `/cosigner/v1/jobs/${first.jobId}/result`, {
        leaseId,
        status: 'DONE',
        result: { publicKey: 'ab'.repeat(32) },
      });
    const stale = await report(first.leaseId);
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 1603 });
    expect((await report(reoffered!.leaseId, parties[1])).statusCode).toBe(404);
    const done = await report(reoffered!.leaseId);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toEqual({ jobId: first.jobId, status: 'DONE' });
    expect((await report(reoffered!.leaseId)).statusCode).toBe(409);
  });

  it("a party's reads and posts renew its lease at most every 10 s", async () => {
    const sessionId = await newSession();
    const a = parties[0]!;
    let job = await work(a);
    while (job && job.sessionId !== sessionId) job = await work(a);
    expect(job).toBeDefined();
    const { db } = p.app.services.database;
    const expiry = async (): Promise<number> =>
      (
        await db
          .selectFrom('cosigner_jobs')
          .select('lease_expires_at')
          .where('id', '=', job!.jobId)
          .executeTakeFirstOrThrow()
      ).lease_expires_at!.getTime();
    const read = async (): Promise<void> => {
      const res = await call(a, 'GET', `/cosigner/v1/sessions/${sessionId}/messages?after=0`);
      expect(res.statusCode, res.body).toBe(200);
    };
    clock.advance(30_000);
    await read();
    const renewed = await expiry();
    expect(renewed).toBe(clock.now().getTime() + 60_000);
    clock.advance(5_000);
    await read(); // within 10 s of the last renewal: the lease keeps its expiry
    expect(await expiry()).toBe(renewed);
    clock.advance(6_000);
    await read();
    expect(await expiry()).toBe(clock.now().getTime() + 60_000);
    const post = async (text: string): Promise<void> => {
      const posted = await call(a, 'POST', `/cosigner/v1/sessions/${sessionId}/messages`, {
        messages: [{ round: 1, to: null, payload: b64(text) }],
      });
      expect(posted.statusCode, posted.body).toBe(200);
    };
    clock.advance(1_000);
    const readRenewal = await expiry();
    await post('within 10 s of the read'); // a post counts as the same kind of renewal
    expect(await expiry()).toBe(readRenewal);
    clock.advance(10_000);
    await post('10 s later');
    const postRenewal = await expiry();
    expect(postRenewal).toBe(clock.now().getTime() + 60_000);
    clock.advance(3_000);
    await read(); // and a post's renewal holds off the reads' for 10 s
    expect(await expiry()).toBe(postRenewal);
  });

  it('a co-signer that hung up mid-poll is leased nothing: the job waits for its next poll', async () => {
    const a = parties[0]!;
    while ((await work(a)) !== undefined); // older sessions' jobs
    const hungUp = new AbortController();
    const abandoned = p.app.services.cosignerJobs.next(a.cosignerId, 30_000, hungUp.signal);
    hungUp.abort();
    // Work arrives while the abandoned poll is still winding down: it must not take it.
    const sessionId = await newSession();
    p.app.services.mpcSessions.announce(parties.map((x) => x.cosignerId));
    expect(await abandoned).toBeUndefined();
    const job = await work(a);
    expect(job).toMatchObject({ sessionId, attempt: 1 });
  });

  it("a starting daemon hands back its predecessor's leases: offered again at once, others' untouched", async () => {
    const [a, b] = [parties[0]!, parties[1]!];
    while ((await work(a)) !== undefined); // older sessions' jobs
    while ((await work(b)) !== undefined);
    const sessionId = await newSession();
    const first = await work(a);
    const other = await work(b);
    expect(first).toMatchObject({ sessionId, attempt: 1 });
    expect(other).toMatchObject({ sessionId, attempt: 1 });
    expect(await work(a)).toBeUndefined();

    const release = await call(a, 'POST', '/cosigner/v1/leases/release');
    expect(release.statusCode, release.body).toBe(200);
    // Earlier tests' leases of a's are handed back too.
    expect(release.json<{ released: number }>().released).toBeGreaterThanOrEqual(1);
    let again = await work(a);
    while (again && again.sessionId !== sessionId) again = await work(a);
    expect(again).toMatchObject({ jobId: first!.jobId, attempt: 2 });
    expect(again!.leaseId).not.toBe(first!.leaseId);
    // b's lease still holds: b reports with it.
    expect(await work(b)).toBeUndefined();
    const report = await call(b, 'POST', `/cosigner/v1/jobs/${other!.jobId}/result`, {
      leaseId: other!.leaseId,
      status: 'FAILED',
      reason: 'test',
    });
    expect(report.statusCode, report.body).toBe(200);
  });

  it('a party that fails its job fails the session for everyone', async () => {
    const sessionId = await newSession();
    const b = parties[1]!;
    let job = await work(b);
    while (job && job.sessionId !== sessionId) job = await work(b);
    const res = await call(b, 'POST', `/cosigner/v1/jobs/${job!.jobId}/result`, {
      leaseId: job!.leaseId,
      status: 'FAILED',
      reason: 'ERR_CHANNEL_SIGNATURE_INVALID',
    });
    expect(res.statusCode, res.body).toBe(200);
    const url = `/cosigner/v1/sessions/${sessionId}/messages`;
    const read = (await call(parties[0]!, 'GET', `${url}?after=0&wait=5`)).json<{
      sessionStatus: string;
    }>();
    expect(read.sessionStatus).toBe('FAILED');
    const post = await call(parties[0]!, 'POST', url, {
      messages: [{ round: 1, to: null, payload: b64('too late') }],
    });
    expect(post.json()).toMatchObject({ code: 1602 });
  });

  /** Moves the clock past a session's deadline; access tokens live 5 minutes: fresh ones. */
  const pastDeadline = async (): Promise<void> => {
    clock.advance(10 * 60_000 + 1);
    for (const party of parties) {
      const r = await refresh(p, party.refreshToken);
      const t = r.json<{ accessToken: string; refreshToken: string }>();
      party.accessToken = t.accessToken;
      party.refreshToken = t.refreshToken;
    }
  };

  const sessionStatus = async (sessionId: string): Promise<string> =>
    (
      await p.app.services.database.db
        .selectFrom('mpc_sessions')
        .select('status')
        .where('id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).status;

  it('a session past its deadline takes no messages and offers no jobs', async () => {
    const sessionId = await newSession();
    await pastDeadline();
    const url = `/cosigner/v1/sessions/${sessionId}/messages`;
    const post = await call(parties[0]!, 'POST', url, {
      messages: [{ round: 1, to: null, payload: b64('late') }],
    });
    expect(post.statusCode).toBe(409);
    expect(post.json()).toMatchObject({ code: 1602 });
    const read = (await call(parties[1]!, 'GET', `${url}?after=0&wait=1`)).json<{
      sessionStatus: string;
    }>();
    expect(read.sessionStatus).toBe('EXPIRED');
    expect(await work(parties[2]!)).toBeUndefined();
    expect(await sessionStatus(sessionId)).toBe('EXPIRED');
  });

  it('a job whose lease ran out three times fails with its session — once no report holds the session', async () => {
    await pastDeadline(); // every older session is over: only the new one offers jobs
    const sessionId = await newSession();
    const a = parties[0]!;
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await work(a)).toMatchObject({ sessionId, attempt });
      clock.advance(61_000);
    }
    const { db } = p.app.services.database;
    if (process.env['DATABASE_URL'] !== undefined)
      // A report in progress holds the session (leasedJob): the poll neither waits for it nor
      // fails the job under it. (PGlite runs one transaction at a time: nothing to hold.)
      await db.transaction().execute(async (trx) => {
        await trx
          .selectFrom('mpc_sessions')
          .select('id')
          .where('id', '=', sessionId)
          .forUpdate()
          .execute();
        expect(await work(a)).toBeUndefined();
      });
    expect(await sessionStatus(sessionId)).toBe('OPEN');
    expect(await work(a)).toBeUndefined();
    expect(await sessionStatus(sessionId)).toBe('FAILED');
    const job = await db
      .selectFrom('cosigner_jobs')
      .select(['status', 'failure_reason'])
      .where('session_id', '=', sessionId)
      .where('cosigner_id', '=', a.cosignerId)
      .executeTakeFirstOrThrow();
    expect(job).toEqual({ status: 'FAILED', failure_reason: 'lease expired too many times' });
  });

  // Last in the file: it replaces the platform's session-end handler.
  it('a session that cannot be ended holds up no other expiry and fails no poll (session review I2)', async () => {
    const stuck = await newSession();
    const other = await newSession();
    p.app.services.cosignerJobs.whenSessionEnds((_trx, sessionId) =>
      sessionId === stuck ? Promise.reject(new Error('end handler failed')) : Promise.resolve(),
    );
    await pastDeadline();
    // The poll sweeps first: it answers, and the other session expired beside the stuck one.
    expect(await work(parties[0]!)).toBeUndefined();
    expect(await sessionStatus(other)).toBe('EXPIRED');
    expect(await sessionStatus(stuck)).toBe('OPEN');
    // The periodic sweep names it, and tries it again each time (its end rolled back).
    await expect(p.app.services.cosignerJobs.expireSessions()).rejects.toThrow(stuck);
    expect(await sessionStatus(stuck)).toBe('OPEN');
  });
});
