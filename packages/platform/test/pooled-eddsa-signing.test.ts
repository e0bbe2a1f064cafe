/**
 * EdDSA from pooled FROST nonce sets (docs/decisions/0006), with real FROST: the three parties
 * are played here with the mpc package (DKG, preprocessing, signature shares), the platform is
 * the real one. A PRESIGN session's entry is READY with the commitment list every party reported;
 * a SIGN session names it; the Cloud Co-signers' jobs are offered only once the signer's
 * co-signer has reported its share or said it will sign (a cloud that asks for held jobs may
 * lease its own earlier, once the signer leased, but reports nothing before that release); each
 * party reports its signature share, and the platform
 * aggregates them into a signature that verifies under the derived key (OpenSSL) — or, for a
 * wrong share, fails the message INVALID_SIGNATURE and audits the party at fault.
 */
import {
  createHash,
  createPublicKey,
  randomBytes,
  randomUUID,
  verify as nodeVerify,
} from 'node:crypto';
import {
  beginFrostPreprocess,
  derivePublicKey,
  dkg,
  encodeMessage,
  decodeMessage,
  encodePublicShareSet,
  frostAggregate,
  frostCommitmentList,
  frostPooledSignatureShare,
  publicShareSet,
  type FrostNonceSet,
  type KeyShare,
  type Session,
} from '@countersign/mpc';
import { decodeSignedSigningAuthorization } from '@countersign/protocol';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ERASED_SHARE, READY_MARGIN_MS } from '../src/mpc/cosigner-job-service.js';
import { HELD_UNTIL } from '../src/mpc/mpc-session-service.js';
import { PRESIGN_DEFER_MS } from '../src/mpc/presignature-pool.js';
import {
  PreparedAggregations,
  type AggregationInputs,
} from '../src/transactions/prepared-aggregations.js';
import { MAX_SIGN_ATTEMPTS } from '../src/transactions/signing-orchestrator.js';
import { fakeClock, pairNewCosigner, refresh } from './helpers/cosigner.js';
import {
  messageSession,
  registerClouds,
  relayCalls,
  type RelayJob,
  type RelayParty,
} from './helpers/relay-party.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

/** Delivers every message among in-process sessions until all are done. */
function runAll<R>(sessions: Map<number, Session<R>>): Map<number, R> {
  const queue: { to: number; bytes: Uint8Array }[] = [];
  const post = (messages: ReturnType<Session<R>['start']>) => {
    for (const m of messages) {
      const bytes = encodeMessage(m);
      const to = m.to === 'broadcast' ? [...sessions.keys()].filter((i) => i !== m.from) : [m.to];
      for (const i of to) queue.push({ to: i, bytes });
    }
  };
  for (const s of sessions.values()) post(s.start());
  while (queue.length > 0) {
    const { to, bytes } = queue.shift()!;
    void decodeMessage(bytes);
    post(sessions.get(to)!.receive(bytes));
  }
  return new Map([...sessions].map(([i, s]) => [i, s.result()]));
}

function opensslVerifies(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
  return nodeVerify(
    null,
    message,
    createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    signature,
  );
}

describe('EdDSA signing from pooled FROST nonce sets', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let parties: RelayParty[];
  /** Each party's FROST key share, by party index. */
  let shares: Map<number, KeyShare>;
  /** Each pooled nonce set, by PRESIGN session and party index. */
  const pooled = new Map<string, Map<number, FrostNonceSet>>();
  const clock = fakeClock();
  /** The API co-signer's current refresh token (they rotate). */
  let apiRefreshToken: string;
  const { call, jobsOf, reauthenticate } = relayCalls(() => p);
  const root = HDKey.fromMasterSeed(randomBytes(32));

  const report = (who: RelayParty, job: RelayJob, body: object) =>
    call(who, 'POST', `/cosigner/v1/jobs/${job.jobId}/result`, { leaseId: job.leaseId, ...body });
  const seatOf = async (sessionId: string, cosignerId: string): Promise<number> =>
    (
      await p.app.services.database.db
        .selectFrom('mpc_session_parties')
        .select('party_index')
        .where('session_id', '=', sessionId)
        .where('cosigner_id', '=', cosignerId)
        .executeTakeFirstOrThrow()
    ).party_index;
  /** The transaction completed, its signature verifying (OpenSSL) under its public key. */
  const expectSignedAndVerifying = async (id: string, content: string) => {
    const tx = await transaction(id);
    expect(tx.status).toBe('COMPLETED');
    const signed = tx.signedMessages![0]!;
    expect(
      opensslVerifies(
        Buffer.from(signed.publicKey, 'hex'),
        Buffer.from(content, 'hex'),
        Buffer.from(signed.signature.fullSig, 'hex'),
      ),
    ).toBe(true);
  };
  /** One work poll as a Cloud Co-signer's daemon makes it (`held=true`): what it leased. */
  const heldPoll = async (who: RelayParty) =>
    (await call(who, 'GET', '/cosigner/v1/work?wait=0&held=true')).json<{
      jobs: (RelayJob & { attempt: number })[];
    }>().jobs;
  /** A party's signature share for SIGN session `sessionId`, from the nonce set it names. */
  const pooledShareOf = async (sessionId: string, party: RelayParty) => {
    const authorization = await authorizationOf(party, sessionId);
    const sets = pooled.get(Buffer.from(authorization.presignSessionId!).toString('hex'))!;
    const index = await seatOf(sessionId, party.cosignerId);
    const z = frostPooledSignatureShare({
      nonceSet: sets.get(index)!,
      keyShare: shares.get(index)!,
      message: authorization.content,
      path: [...authorization.derivationPath],
    });
    return { index, z };
  };
  /** The DONE result a party reports for SIGN session `sessionId`: its share, hex. */
  const shareResultOf = async (sessionId: string, party: RelayParty) => ({
    signatureShare: Buffer.from((await pooledShareOf(sessionId, party)).z).toString('hex'),
  });
  /**
   * Each party reports its share of SIGN session `sessionId` under its job; then the transaction
   * `id` is COMPLETED with a verifying signature of `content`, and the pool is topped up again.
   */
  const reportSharesAndVerify = async (
    sessionId: string,
    reports: readonly (readonly [RelayParty, RelayJob])[],
    id: string,
    content: string,
  ) => {
    for (const [party, job] of reports) {
      const result = await shareResultOf(sessionId, party);
      expect((await report(party, job, { status: 'DONE', result })).statusCode).toBe(200);
    }
    await expectSignedAndVerifying(id, content);
    await presign(await leaseAll()); // the pool's top-up
  };
  /** The signing authorization a SIGN session published, as a party reads it. */
  const authorizationOf = async (party: RelayParty, sessionId: string) => {
    const published = (await call(party, 'GET', `/cosigner/v1/sessions/${sessionId}`)).json<{
      signedAuthorization: string;
    }>();
    return decodeSignedSigningAuthorization(Buffer.from(published.signedAuthorization, 'base64'))
      .authorization;
  };
  /** One FROST preprocessing among `seats` with their key shares: each seat's nonce set. */
  const nonceSets = (sid: Uint8Array, seats: number[]): Map<number, FrostNonceSet> => {
    const committers = new Map(
      seats.map((i) => [
        i,
        beginFrostPreprocess({ sid, keyShare: shares.get(i)!, signers: seats }),
      ]),
    );
    return new Map(
      seats.map((i) => [
        i,
        committers
          .get(i)!
          .complete(
            new Map(seats.filter((j) => j !== i).map((j) => [j, committers.get(j)!.message])),
          ),
      ]),
    );
  };
  /** Every job available now, by session, PRESIGN ones included (they wait a moment). */
  const leaseAll = async () => {
    clock.advance(PRESIGN_DEFER_MS);
    const bySession = new Map<string, { party: RelayParty; job: RelayJob }[]>();
    for (const party of parties)
      for (const job of await jobsOf(party))
        bySession.set(job.sessionId, [...(bySession.get(job.sessionId) ?? []), { party, job }]);
    return bySession;
  };
  /** Runs PRESIGN sessions as the parties would: ECDSA ones with a made-up id, EdDSA for real. */
  const presign = async (sessions: Map<string, { party: RelayParty; job: RelayJob }[]>) => {
    for (const [sessionId, jobs] of sessions) {
      expect(jobs[0]!.job.type).toBe('PRESIGN');
      if (jobs[0]!.job.algorithm === 'ECDSA_SECP256K1') {
        const presignatureId = randomBytes(32).toString('hex');
        for (const { party, job } of jobs)
          expect(
            (await report(party, job, { status: 'DONE', result: { presignatureId } })).statusCode,
          ).toBe(200);
        continue;
      }
      const seats = await Promise.all(jobs.map((j) => seatOf(sessionId, j.party.cosignerId)));
      const sets = nonceSets(Buffer.from(sessionId, 'hex'), seats);
      pooled.set(sessionId, sets);
      const list = frostCommitmentList(sets.get(seats[0]!)!);
      const result = {
        presignatureId: createHash('sha256').update(list).digest('hex'),
        commitments: Buffer.from(list).toString('hex'),
      };
      for (const { party, job } of jobs)
        expect((await report(party, job, { status: 'DONE', result })).statusCode).toBe(200);
    }
  };
  /** A RAW EdDSA transaction; its id, once the pool top-up its signing starts has ended. */
  const createEddsa = async (content: string) => {
    const res = await signedRequest(p, admin, 'POST', '/v1/transactions', {
      body: {
        operation: 'RAW',
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        extraParameters: {
          rawMessageData: {
            algorithm: 'MPC_EDDSA_ED25519',
            messages: [{ content, derivationPath: [44, 501, 0, 0, 3] }],
          },
        },
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    await p.app.services.presignatures.topUpsSettled();
    return res.json<{ id: string }>().id;
  };
  const messageTransaction = async (sessionId: string): Promise<string> =>
    (
      await p.app.services.database.db
        .selectFrom('transaction_messages')
        .select('transaction_id')
        .where('session_id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).transaction_id;
  const transaction = async (id: string) =>
    (await signedRequest(p, admin, 'GET', `/v1/transactions/${id}`)).json<{
      status: string;
      subStatus: string;
      signedMessages?: { publicKey: string; signature: { fullSig: string } }[];
    }>();
  /**
   * Signs as the parties would: the signer's co-signer alone is offered its job (the clouds' are
   * held, even once it has leased it), reports its share, and only then are the clouds offered
   * theirs — or, `ready`, says it will sign first, and the clouds report before it does (and
   * `apiFails`: it then reports FAILED instead of its share). The share of party `spoil`, a cloud,
   * is reported with one bit flipped.
   */
  const signPooled = async (spoil?: number, ready = false, apiFails = false) => {
    const [cloud1, cloud2, api] = parties as [RelayParty, RelayParty, RelayParty];
    expect(await jobsOf(cloud1)).toEqual([]);
    expect(await jobsOf(cloud2)).toEqual([]);
    const [apiJob] = await jobsOf(api);
    expect(apiJob?.type).toBe('SIGN');
    const sessionId = apiJob!.sessionId;
    // Leased is not enough: its Callback Handler may still refuse, or tell it to retry.
    expect(await jobsOf(cloud1)).toEqual([]);
    expect((await authorizationOf(api, sessionId)).presignSessionId).toBeDefined();
    const shareOf = async (party: RelayParty) => {
      const { index, z } = await pooledShareOf(sessionId, party);
      if (index === spoil) z[0]! ^= 1;
      return { index, signatureShare: Buffer.from(z).toString('hex') };
    };
    const reportApi = async () => {
      const apiShare = await shareOf(api);
      expect(
        (
          await report(api, apiJob!, {
            status: 'DONE',
            result: { signatureShare: apiShare.signatureShare },
          })
        ).statusCode,
      ).toBe(200);
    };
    const readyPath = `/cosigner/v1/jobs/${apiJob!.jobId}/ready`;
    if (ready) {
      // Only the lease holder says so, under its lease.
      expect((await call(cloud1, 'POST', readyPath, { leaseId: apiJob!.leaseId })).statusCode).toBe(
        404,
      );
      expect((await call(api, 'POST', readyPath, { leaseId: randomUUID() })).statusCode).toBe(409);
      expect(await jobsOf(cloud1)).toEqual([]);
      const said = await call(api, 'POST', readyPath, { leaseId: apiJob!.leaseId });
      expect([said.statusCode, said.json()]).toEqual([200, { jobId: apiJob!.jobId, released: 2 }]);
      const saidAt = clock.now();
      expect(await readyAt(apiJob!.jobId)).toEqual(saidAt);
      // Said twice (a re-offered job): nothing more to release, and the first call stays on record.
      clock.advance(1); // a later call, not so late that the pool's top-up is offered
      const again = await call(api, 'POST', readyPath, { leaseId: apiJob!.leaseId });
      expect(again.json()).toEqual({ jobId: apiJob!.jobId, released: 0 });
      expect(await readyAt(apiJob!.jobId)).toEqual(saidAt);
    } else {
      await reportApi();
      expect(await readyAt(apiJob!.jobId), 'released by its report, not by a ready call').toBe(
        null,
      );
    }
    for (const cloud of [cloud1, cloud2]) {
      const [job] = await jobsOf(cloud);
      expect(job?.sessionId).toBe(sessionId);
      const { signatureShare } = await shareOf(cloud);
      expect(
        (await report(cloud, job!, { status: 'DONE', result: { signatureShare } })).statusCode,
      ).toBe(200);
    }
    if (ready) {
      // The clouds' shares alone end nothing: the session waits for the signer's.
      expect((await transaction(await messageTransaction(sessionId))).status).toBe(
        'PENDING_SIGNATURE',
      );
      if (apiFails)
        expect(
          (await report(api, apiJob!, { status: 'FAILED', reason: 'its store broke' })).statusCode,
        ).toBe(200);
      else await reportApi();
      expect(
        (await call(api, 'POST', readyPath, { leaseId: apiJob!.leaseId })).statusCode,
        'a finished job is ready no more',
      ).toBe(409);
    }
    return { sessionId };
  };
  /** The co-signers whose jobs of session `sessionId` are held back now. */
  const heldIn = async (sessionId: string) =>
    (
      await p.app.services.database.db
        .selectFrom('cosigner_jobs')
        .select('cosigner_id')
        .where('session_id', '=', sessionId)
        .where('available_at', '>=', HELD_UNTIL)
        .execute()
    ).map((j) => j.cosigner_id);
  /** When a job said it is ready (ready-call review I2). */
  const readyAt = async (jobId: string) =>
    (
      await p.app.services.database.db
        .selectFrom('cosigner_jobs')
        .select('ready_at')
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow()
    ).ready_at;
  /** What the jobs of a session hold as results: every reported share erased once it ended. */
  const resultsOf = async (sessionId: string) =>
    (
      await p.app.services.database.db
        .selectFrom('cosigner_jobs')
        .select('result')
        .where('session_id', '=', sessionId)
        .execute()
    ).map((j) => j.result);

  beforeAll(async () => {
    // A re-check far away: a long poll that is not woken (a release) would not answer in time.
    p = await startTestPlatform({}, undefined, undefined, clock.now, {
      presignaturePoolSize: 2,
      recheckMs: 600_000,
    });
    admin = await createApiUser(p, 'frost-admin', 'ADMIN');
    const signer = await createApiUser(p, 'frost-signer', 'SIGNER');
    const paired = await pairNewCosigner(p, admin, signer.id);
    const access = (await refresh(p, paired.refreshToken)).json<{
      accessToken: string;
      refreshToken: string;
    }>();
    apiRefreshToken = access.refreshToken;
    parties = [
      ...(await registerClouds(p)),
      { cosignerId: paired.cosignerId, accessToken: access.accessToken },
    ];
    // KEYGEN: a real FROST key among the seats the roster gives; a made-up ECDSA one.
    const keygen = await leaseAll();
    for (const [sessionId, jobs] of keygen) {
      expect(jobs[0]!.job.type).toBe('KEYGEN');
      if (jobs[0]!.job.algorithm === 'ECDSA_SECP256K1') {
        const result = {
          publicKey: Buffer.from(root.publicKey!).toString('hex'),
          chainCode: Buffer.from(root.chainCode!).toString('hex'),
        };
        for (const { party, job } of jobs)
          expect((await report(party, job, { status: 'DONE', result })).statusCode).toBe(200);
        continue;
      }
      const seats = await Promise.all(jobs.map((j) => seatOf(sessionId, j.party.cosignerId)));
      shares = runAll(
        new Map(
          seats.map((me) => [
            me,
            dkg({
              curve: 'ed25519',
              sid: Buffer.from(sessionId, 'hex'),
              parties: seats,
              me,
              threshold: 3,
            }),
          ]),
        ),
      );
      const first = shares.get(seats[0]!)!;
      const result = {
        publicKey: Buffer.from(first.publicKey).toString('hex'),
        chainCode: Buffer.from(first.chainCode).toString('hex'),
        shareSet: Buffer.from(encodePublicShareSet(publicShareSet(first))).toString('hex'),
      };
      for (const { party, job } of jobs)
        expect((await report(party, job, { status: 'DONE', result })).statusCode, 'keygen').toBe(
          200,
        );
    }
    // Both pools fill (two each).
    await presign(await leaseAll());
    expect(await leaseAll()).toEqual(new Map());
  });
  afterAll(() => p.close());

  it('signs with no relay round: the platform aggregates the three shares into a verifying signature', async () => {
    const content = Buffer.from('hello pooled frost').toString('hex');
    const id = await createEddsa(content);
    const { sessionId } = await signPooled();
    const tx = await transaction(id);
    expect(tx.status).toBe('COMPLETED');
    // Summed into the signature, the shares are kept no more (pooled EdDSA review L5).
    expect(await resultsOf(sessionId)).toEqual([ERASED_SHARE, ERASED_SHARE, ERASED_SHARE]);
    // Shares are what a pooled session's parties report: no anomaly to audit.
    const audited = await p.app.services.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('subject', '=', id)
      .orderBy('seq')
      .execute();
    expect(audited.map((a) => a.action)).toEqual(['transaction.created', 'transaction.completed']);
    const signed = tx.signedMessages![0]!;
    const expected = derivePublicKey(
      {
        curve: 'ed25519',
        publicKey: shares.get(1)!.publicKey,
        chainCode: shares.get(1)!.chainCode,
      },
      [44, 501, 0, 0, 3],
    ).publicKey;
    expect(signed.publicKey).toBe(Buffer.from(expected).toString('hex'));
    expect(
      opensslVerifies(
        expected,
        Buffer.from(content, 'hex'),
        Buffer.from(signed.signature.fullSig, 'hex'),
      ),
    ).toBe(true);
    await presign(await leaseAll()); // the pool's top-up
  });

  it('prepares the aggregation while the shares are made, and uses it for the same inputs only', async () => {
    const prepared = p.app.services.preparedAggregations;
    // The test's own takes, below, go past the spy: it counts the orchestrator's.
    const takeDirectly = PreparedAggregations.prototype.take.bind(prepared);
    const take = vi.spyOn(prepared, 'take');
    const usedPrepared = () =>
      take.mock.results.map((r) => (r.value as { prepared: boolean }).prepared);
    try {
      const content = Buffer.from('aggregation made ahead').toString('hex');
      const id = await createEddsa(content);
      await vi.waitFor(() => expect(prepared.size).toBe(1));
      await signPooled();
      await expectSignedAndVerifying(id, content);
      expect(usedPrepared()).toEqual([true]);
      expect(prepared.size).toBe(0);
      await presign(await leaseAll()); // the pool's top-up

      // Inputs other than those it was prepared from, in any one of them, get a fresh one.
      const changes = [
        (i: AggregationInputs) => ({ ...i, content }),
        (i: AggregationInputs) => ({ ...i, commitments: `${i.commitments.slice(0, -2)}00` }),
        (i: AggregationInputs) => ({ ...i, path: [44, 501, 0, 0, 99] }),
        (i: AggregationInputs) => ({ ...i, publicShareSet: `${i.publicShareSet}00` }),
      ];
      for (const [n, change] of changes.entries()) {
        const next = Buffer.from(`aggregation of another message ${n}`).toString('hex');
        const nextId = await createEddsa(next);
        await vi.waitFor(() => expect(prepared.size).toBe(1));
        const { session_id: sessionId } = await messageSession(p, nextId);
        const stored = await p.app.services.database.db
          .selectFrom('mpc_sessions as s')
          .innerJoin('share_sets as ss', 'ss.id', 's.share_set_id')
          .innerJoin('presignatures as ps', 'ps.taken_by_session_id', 's.id')
          .innerJoin('transaction_messages as m', 'm.session_id', 's.id')
          .select(['ss.public_share_set', 'ps.commitments', 'm.content', 'm.derivation_path'])
          .where('s.id', '=', sessionId!)
          .executeTakeFirstOrThrow();
        const inputs: AggregationInputs = {
          publicShareSet: stored.public_share_set!,
          commitments: stored.commitments!,
          content: stored.content,
          path: stored.derivation_path,
        };
        let taken: boolean | undefined;
        try {
          taken = takeDirectly(sessionId!, change(inputs)).prepared;
        } catch {
          taken = false; // inputs that make no aggregator were not the prepared one's either
        }
        expect(taken).toBe(false);
        // Taken, it is gone: the signing's own aggregation is made afresh, and signs all the same.
        await signPooled();
        await expectSignedAndVerifying(nextId, next);
        expect(prepared.size).toBe(0);
        await presign(await leaseAll()); // the pool's top-up
      }
      expect(usedPrepared()).toEqual([true, false, false, false, false]);
    } finally {
      take.mockRestore();
    }
  });

  it("the signer's co-signer saying it will sign lets the clouds compute beside it", async () => {
    const content = Buffer.from('pooled, ready first').toString('hex');
    const id = await createEddsa(content);
    await signPooled(undefined, true);
    await expectSignedAndVerifying(id, content);
    await presign(await leaseAll()); // the pool's top-up
  });

  it('a Cloud Co-signer asking for held jobs leases one once the signer leased its own, and computes it only once released', async () => {
    const [cloud1, cloud2, api] = parties as [RelayParty, RelayParty, RelayParty];
    const content = Buffer.from('pooled, leased while held').toString('hex');
    const id = await createEddsa(content);
    // Not before the signer holds its job: a signer that is down ties up no cloud slot.
    expect(await heldPoll(cloud1)).toEqual([]);
    const [apiJob] = await jobsOf(api);
    const sessionId = apiJob!.sessionId;
    const [early] = await heldPoll(cloud1);
    expect([early?.sessionId, early?.held]).toEqual([sessionId, true]);
    // Only for the co-signer that asks: cloud-2's plain poll gets nothing yet.
    expect(await jobsOf(cloud2)).toEqual([]);
    const releasePath = (job: RelayJob, leaseId = job.leaseId, wait = 0) =>
      `/cosigner/v1/jobs/${job.jobId}/release?leaseId=${leaseId}&wait=${wait}`;
    const waited = await call(cloud1, 'GET', releasePath(early!));
    expect([waited.statusCode, waited.json()]).toEqual([
      200,
      { jobId: early!.jobId, released: false },
    ]);
    expect((await call(cloud1, 'GET', releasePath(early!, randomUUID()))).statusCode).toBe(409);
    expect((await call(cloud2, 'GET', releasePath(early!))).statusCode).toBe(404);
    const cloud1Share = await shareResultOf(sessionId, cloud1);
    // A share from a job still held is refused: it would be out before the signer is bound.
    const tooEarly = await report(cloud1, early!, { status: 'DONE', result: cloud1Share });
    expect([tooEarly.statusCode, tooEarly.json<{ message: string }>().message]).toEqual([
      400,
      'this job is held: it reports a result only once released',
    ]);
    // The release answers a waiting poll; cloud-2 is offered its job as before.
    const release = call(cloud1, 'GET', releasePath(early!, early!.leaseId, 30));
    const said = await call(api, 'POST', `/cosigner/v1/jobs/${apiJob!.jobId}/ready`, {
      leaseId: apiJob!.leaseId,
    });
    expect(said.json()).toEqual({ jobId: apiJob!.jobId, released: 2 });
    // Woken by the release, not answered at its 30 s deadline (the re-check is 10 minutes away).
    const answered = await Promise.race([
      release.then((r) => r.json<unknown>()),
      new Promise((resolve) => setTimeout(() => resolve('not woken'), 5_000)),
    ]);
    expect(answered).toEqual({ jobId: early!.jobId, released: true });
    const [late] = await jobsOf(cloud2);
    expect([late?.sessionId, late?.held]).toEqual([sessionId, undefined]);
    expect((await report(cloud1, early!, { status: 'DONE', result: cloud1Share })).statusCode).toBe(
      200,
    );
    expect(
      (
        await report(cloud2, late!, {
          status: 'DONE',
          result: await shareResultOf(sessionId, cloud2),
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (await report(api, apiJob!, { status: 'DONE', result: await shareResultOf(sessionId, api) }))
        .statusCode,
    ).toBe(200);
    await expectSignedAndVerifying(id, content);
    // A finished job's holder is told so.
    const over = await call(cloud1, 'GET', releasePath(early!));
    expect([over.statusCode, over.json<{ code: number }>().code]).toEqual([409, 1602]);
    await presign(await leaseAll()); // the pool's top-up
  });

  it('a held job leased early is told when its session fails, and was never released', async () => {
    const [cloud1, , api] = parties as [RelayParty, RelayParty, RelayParty];
    await createEddsa(Buffer.from('pooled, its signer fails').toString('hex'));
    const [apiJob] = await jobsOf(api);
    const early = (await heldPoll(cloud1))[0]!;
    expect(early.sessionId).toBe(apiJob!.sessionId);
    const waiting = call(
      cloud1,
      'GET',
      `/cosigner/v1/jobs/${early.jobId}/release?leaseId=${early.leaseId}&wait=10`,
    );
    expect(
      (await report(api, apiJob!, { status: 'FAILED', reason: 'its handler broke' })).statusCode,
    ).toBe(200);
    const answer = await waiting;
    expect([answer.statusCode, answer.json<{ code: number }>().code]).toEqual([409, 1602]);
    expect(await heldIn(apiJob!.sessionId)).toContain(cloud1.cosignerId);
    // The fresh session presigns inline and holds nobody; fail it to end the message.
    for (let round = 1; round < MAX_SIGN_ATTEMPTS; round++)
      for (const job of await jobsOf(api))
        expect(
          (await report(api, job, { status: 'FAILED', reason: 'still broken' })).statusCode,
        ).toBe(200);
    await presign(await leaseAll()); // the pool's top-up
  });

  it("a restarting cloud's hand-back leaves its held job held: leased again while held, released only by the ready call", async () => {
    const [cloud1, cloud2, api] = parties as [RelayParty, RelayParty, RelayParty];
    const content = Buffer.from('pooled, held lease handed back').toString('hex');
    const id = await createEddsa(content);
    const [apiJob] = await jobsOf(api);
    const [before] = await heldPoll(cloud1);
    expect([before?.held, before?.attempt]).toEqual([true, 1]);
    // The daemon restarts: it hands back its predecessor's leases.
    const handedBack = await call(cloud1, 'POST', '/cosigner/v1/leases/release');
    expect(handedBack.json<{ released: number }>().released).toBeGreaterThanOrEqual(1);
    expect(await heldIn(apiJob!.sessionId)).toContain(cloud1.cosignerId);
    expect(await jobsOf(cloud1), 'a plain poll still gets nothing').toEqual([]);
    const [again] = await heldPoll(cloud1);
    expect([again?.jobId, again?.held, again?.attempt]).toEqual([before!.jobId, true, 2]);
    const releasePath = (leaseId: string) =>
      `/cosigner/v1/jobs/${before!.jobId}/release?leaseId=${leaseId}&wait=0`;
    expect((await call(cloud1, 'GET', releasePath(before!.leaseId))).statusCode).toBe(409);
    expect((await call(cloud1, 'GET', releasePath(again!.leaseId))).json()).toEqual({
      jobId: before!.jobId,
      released: false,
    });
    expect(
      (
        await call(api, 'POST', `/cosigner/v1/jobs/${apiJob!.jobId}/ready`, {
          leaseId: apiJob!.leaseId,
        })
      ).json(),
    ).toEqual({ jobId: apiJob!.jobId, released: 2 });
    expect((await call(cloud1, 'GET', releasePath(again!.leaseId))).json()).toEqual({
      jobId: before!.jobId,
      released: true,
    });
    const [late] = await jobsOf(cloud2);
    await reportSharesAndVerify(
      apiJob!.sessionId,
      [
        [cloud1, again!],
        [cloud2, late!],
        [api, apiJob!],
      ],
      id,
      content,
    );
  });

  it("a held job leased early is released by the signer's report as well, which wakes its waiting holder", async () => {
    const [cloud1, cloud2, api] = parties as [RelayParty, RelayParty, RelayParty];
    const content = Buffer.from('pooled, released by the report').toString('hex');
    const id = await createEddsa(content);
    const [apiJob] = await jobsOf(api);
    const sessionId = apiJob!.sessionId;
    const [early] = await heldPoll(cloud1);
    expect(early?.held).toBe(true);
    const release = call(
      cloud1,
      'GET',
      `/cosigner/v1/jobs/${early!.jobId}/release?leaseId=${early!.leaseId}&wait=30`,
    );
    // No ready call: the signer reports its share (as a re-offered job answering from its record).
    expect(
      (await report(api, apiJob!, { status: 'DONE', result: await shareResultOf(sessionId, api) }))
        .statusCode,
    ).toBe(200);
    const answered = await Promise.race([
      release.then((r) => r.json<unknown>()),
      new Promise((resolve) => setTimeout(() => resolve('not woken'), 5_000)),
    ]);
    expect(answered).toEqual({ jobId: early!.jobId, released: true });
    const [late] = await jobsOf(cloud2);
    await reportSharesAndVerify(
      sessionId,
      [
        [cloud1, early!],
        [cloud2, late!],
      ],
      id,
      content,
    );
  });

  it('a PRESIGN job cannot release anything by saying it is ready', async () => {
    const [, , api] = parties as [RelayParty, RelayParty, RelayParty];
    // A pooled signing's start tops the pool up; its PRESIGN job is the one to try.
    const id = await createEddsa(Buffer.from('a signing to top the pool up').toString('hex'));
    await signPooled();
    expect((await transaction(id)).status).toBe('COMPLETED');
    const presigns = await leaseAll();
    const mine = [...presigns.values()].flat().find((j) => j.party === api);
    expect(mine?.job.type).toBe('PRESIGN');
    const said = await call(api, 'POST', `/cosigner/v1/jobs/${mine!.job.jobId}/ready`, {
      leaseId: mine!.job.leaseId,
    });
    expect(said.statusCode).toBe(400);
    await presign(presigns);
  });

  it('shares that make no signature end the message SIGNATURE_MAY_EXIST, naming the party in the audit log', async () => {
    const id = await createEddsa(Buffer.from('a message a cloud spoils').toString('hex'));
    // Cloud-1's share is off by one bit; every share has left by then, so a fresh session would
    // be refused by every party: the message ends at once.
    const { sessionId } = await signPooled(1);
    const tx = await transaction(id);
    expect([tx.status, tx.subStatus]).toEqual(['FAILED', 'SIGNATURE_MAY_EXIST']);
    const anomaly = await p.app.services.database.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'transaction.signing_anomaly')
      .where('subject', '=', id)
      .executeTakeFirstOrThrow();
    expect(anomaly.details).toMatchObject({
      sessionId,
      aggregation: 'ERR_MPC_INVALID_SIGNATURE_SHARE',
      partyIndex: 1,
    });
    expect(await resultsOf(sessionId)).toEqual([ERASED_SHARE, ERASED_SHARE, ERASED_SHARE]);
  });

  it("the clouds' shares of a session that failed are erased with its end (pooled EdDSA review L5)", async () => {
    const id = await createEddsa(Buffer.from('a signing its signer fails').toString('hex'));
    const { sessionId } = await signPooled(undefined, true, true);
    // The session failed with the clouds' shares in; the message goes on in a fresh session.
    expect((await transaction(id)).status).toBe('PENDING_SIGNATURE');
    const results = await resultsOf(sessionId);
    expect(results).toHaveLength(3);
    expect(results.filter((r) => r !== null)).toEqual([ERASED_SHARE, ERASED_SHARE]);
    expect(JSON.stringify(results)).not.toMatch(/signatureShare"/);
    // The fresh sessions (inline, nothing held) fail too, until the message has had its attempts.
    const api = parties[2]!;
    for (let attempt = 1; attempt < MAX_SIGN_ATTEMPTS; attempt++) {
      const [job] = await jobsOf(api);
      expect(job?.type).toBe('SIGN');
      expect(
        (await report(api, job!, { status: 'FAILED', reason: 'still broken' })).statusCode,
      ).toBe(200);
    }
    expect((await transaction(id)).status).toBe('FAILED');
    await presign(await leaseAll()); // the pool's top-ups
  });
  it("a ready call releases its own session's clouds only, and none once the session failed (ready-call review T3)", async () => {
    const [cloud1, cloud2, api] = parties as [RelayParty, RelayParty, RelayParty];
    const a = await createEddsa(Buffer.from('session A').toString('hex'));
    const b = await createEddsa(Buffer.from('session B').toString('hex'));
    const apiJobs = await jobsOf(api);
    expect(apiJobs.map((j) => j.type)).toEqual(['SIGN', 'SIGN']);
    const sessionOf = async (txId: string) =>
      (
        await p.app.services.database.db
          .selectFrom('transaction_messages')
          .select('session_id')
          .where('transaction_id', '=', txId)
          .executeTakeFirstOrThrow()
      ).session_id!;
    const [sessionA, sessionB] = [await sessionOf(a), await sessionOf(b)];
    const jobA = apiJobs.find((j) => j.sessionId === sessionA)!;
    const jobB = apiJobs.find((j) => j.sessionId === sessionB)!;
    const readyPath = (job: RelayJob) => `/cosigner/v1/jobs/${job.jobId}/ready`;
    const said = await call(api, 'POST', readyPath(jobA), { leaseId: jobA.leaseId });
    expect(said.json()).toEqual({ jobId: jobA.jobId, released: 2 });
    // Session A's clouds are offered their jobs; session B's stay held.
    const cloudJobs = [];
    for (const cloud of [cloud1, cloud2]) {
      const jobs = await jobsOf(cloud);
      expect(jobs.map((j) => j.sessionId)).toEqual([sessionA]);
      cloudJobs.push(jobs[0]!);
    }
    // A released cloud saying it is ready releases no one, and leaves no ready time on record.
    const cloudSaid = await call(cloud1, 'POST', readyPath(cloudJobs[0]!), {
      leaseId: cloudJobs[0]!.leaseId,
    });
    expect(cloudSaid.json()).toEqual({ jobId: cloudJobs[0]!.jobId, released: 0 });
    expect(await readyAt(cloudJobs[0]!.jobId)).toBe(null);
    expect(await readyAt(jobA.jobId)).not.toBe(null);
    const held = await p.app.services.database.db
      .selectFrom('cosigner_jobs')
      .select('session_id')
      .where('session_id', 'in', [sessionA, sessionB])
      .where('available_at', '>=', HELD_UNTIL)
      .execute();
    expect(held.map((j) => j.session_id)).toEqual([sessionB, sessionB]);
    // B's signer fails its job: the session fails, and its job says ready no more.
    expect(
      (await report(api, jobB, { status: 'FAILED', reason: 'its store broke' })).statusCode,
    ).toBe(200);
    const late = await call(api, 'POST', readyPath(jobB), { leaseId: jobB.leaseId });
    expect(late.statusCode).toBe(409);
    expect(
      await p.app.services.database.db
        .selectFrom('cosigner_jobs')
        .select('session_id')
        .where('session_id', '=', sessionB)
        .where('available_at', '>=', HELD_UNTIL)
        .where('status', '<>', 'FAILED')
        .execute(),
    ).toEqual([]);
    // A's too, after it released its clouds. Then every fresh session fails as well, until both
    // messages have had their attempts.
    expect(
      (await report(api, jobA, { status: 'FAILED', reason: 'its store broke' })).statusCode,
    ).toBe(200);
    expect((await call(api, 'POST', readyPath(jobA), { leaseId: jobA.leaseId })).statusCode).toBe(
      409,
    );
    for (let round = 1; round < MAX_SIGN_ATTEMPTS; round++)
      for (const job of await jobsOf(api))
        expect(
          (await report(api, job, { status: 'FAILED', reason: 'still broken' })).statusCode,
        ).toBe(200);
    expect([(await transaction(a)).status, (await transaction(b)).status]).toEqual([
      'FAILED',
      'FAILED',
    ]);
    await presign(await leaseAll()); // the pool's top-ups
  });

  it('an inline session whose parties report a share and two signatures completes with the signature (pooled EdDSA review M2 b)', async () => {
    const [cloud1, cloud2, api] = parties as [RelayParty, RelayParty, RelayParty];
    const id = await createEddsa(Buffer.from('inline, mixed shapes').toString('hex'));
    const [pooledJob] = await jobsOf(api);
    // The signer fails the pooled session before it says it is ready: a fresh, inline one follows.
    expect(
      (await report(api, pooledJob!, { status: 'FAILED', reason: 'its store broke' })).statusCode,
    ).toBe(200);
    const jobs = [];
    for (const party of [cloud1, cloud2, api]) {
      const [job] = await jobsOf(party);
      expect(job?.type).toBe('SIGN');
      jobs.push(job!);
    }
    const sessionId = jobs[2]!.sessionId;
    expect(sessionId).not.toBe(pooledJob!.sessionId);
    const authorization = await authorizationOf(api, sessionId);
    expect(authorization.presignSessionId).toBeUndefined();
    // The signature the parties would have made, made here with the same key shares.
    const signers = [1, 2, 3];
    const sets = nonceSets(randomBytes(32), signers);
    const list = frostCommitmentList(sets.get(1)!);
    const signed = frostAggregate({
      shareSet: publicShareSet(shares.get(1)!),
      commitments: list,
      message: authorization.content,
      path: [...authorization.derivationPath],
      shares: new Map(
        signers.map((i) => [
          i,
          frostPooledSignatureShare({
            nonceSet: sets.get(i)!,
            keyShare: shares.get(i)!,
            message: authorization.content,
            path: [...authorization.derivationPath],
          }),
        ]),
      ),
    });
    const full = {
      signature: Buffer.from(signed.signature).toString('hex'),
      publicKey: Buffer.from(signed.publicKey).toString('hex'),
    };
    // A share where a signature belongs is ignored: the two signatures are not thrown away.
    for (const [n, party] of [cloud1, cloud2].entries())
      expect((await report(party, jobs[n]!, { status: 'DONE', result: full })).statusCode).toBe(
        200,
      );
    expect(
      (
        await report(api, jobs[2]!, {
          status: 'DONE',
          result: { signatureShare: randomBytes(32).toString('hex') },
        })
      ).statusCode,
    ).toBe(200);
    const tx = await transaction(id);
    expect(tx.status).toBe('COMPLETED');
    expect(tx.signedMessages![0]!.signature.fullSig).toBe(full.signature);
    expect(await resultsOf(sessionId)).toEqual(expect.arrayContaining([full, full, ERASED_SHARE]));
    await presign(await leaseAll()); // the pool's top-up
  });

  it('a ready call too near the session end releases nothing (ready-call review L2)', async () => {
    const [cloud1, cloud2, api] = parties as [RelayParty, RelayParty, RelayParty];
    await createEddsa(Buffer.from('a signing that starts too late').toString('hex'));
    const [apiJob] = await jobsOf(api);
    expect(apiJob?.type).toBe('SIGN');
    const { expires_at } = await p.app.services.database.db
      .selectFrom('mpc_sessions')
      .select('expires_at')
      .where('id', '=', apiJob!.sessionId)
      .executeTakeFirstOrThrow();
    clock.advance(expires_at.getTime() - clock.now().getTime() - READY_MARGIN_MS + 1);
    // Its access token has expired meanwhile; the lease has not been offered to anyone else.
    api.accessToken = (await refresh(p, apiRefreshToken)).json<{
      accessToken: string;
    }>().accessToken;
    const said = await call(api, 'POST', `/cosigner/v1/jobs/${apiJob!.jobId}/ready`, {
      leaseId: apiJob!.leaseId,
    });
    expect(said.statusCode).toBe(409);
    expect(said.json<{ message: string }>().message).toMatch(/ending/);
    expect((await heldIn(apiJob!.sessionId)).sort()).toEqual(
      [cloud1.cosignerId, cloud2.cosignerId].sort(),
    );
  });

  it('a held session its signer never starts expires, and the message is signed again inline with nobody held (pooled EdDSA review T4)', async () => {
    const [cloud1, cloud2] = parties as [RelayParty, RelayParty, RelayParty];
    const { db } = p.app.services.database;
    const id = await createEddsa(Buffer.from('a signing nobody starts').toString('hex'));
    // (The clock moved past their access tokens in the test before.)
    for (const cloud of [cloud1, cloud2]) await reauthenticate(cloud);
    const first = await messageSession(p, id);
    expect(first.attempts).toBe(1);
    expect((await authorizationOf(cloud1, first.session_id!)).presignSessionId).toBeDefined();
    expect(await heldIn(first.session_id!)).toHaveLength(2);
    // The signer's co-signer never polls. Past the session's deadline a cloud's poll records it
    // EXPIRED, and the message gets a fresh session.
    const { expires_at } = await db
      .selectFrom('mpc_sessions')
      .select('expires_at')
      .where('id', '=', first.session_id!)
      .executeTakeFirstOrThrow();
    clock.advance(expires_at.getTime() - clock.now().getTime() + 1);
    for (const cloud of [cloud1, cloud2]) await reauthenticate(cloud);
    const offered = (await jobsOf(cloud1)).filter((j) => j.type === 'SIGN');
    const { status } = await db
      .selectFrom('mpc_sessions')
      .select('status')
      .where('id', '=', first.session_id!)
      .executeTakeFirstOrThrow();
    expect(status).toBe('EXPIRED');
    const second = await messageSession(p, id);
    expect(second.attempts).toBe(2);
    expect(second.session_id).not.toBe(first.session_id);
    // Inline: no pooled set named, nobody held; each cloud is offered its job at once.
    expect((await authorizationOf(cloud1, second.session_id!)).presignSessionId).toBeUndefined();
    expect(await heldIn(second.session_id!)).toEqual([]);
    // (The signing the test before left expired and was retried too: it is offered beside it.)
    for (const sessions of [
      offered.map((j) => j.sessionId),
      (await jobsOf(cloud2)).filter((j) => j.type === 'SIGN').map((j) => j.sessionId),
    ]) {
      expect(sessions).toContain(second.session_id);
      expect(sessions).not.toContain(first.session_id);
    }
  });
});
