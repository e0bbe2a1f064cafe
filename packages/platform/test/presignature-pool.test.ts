/**
 * The presignature pool on the platform (mpc/presignature-pool.ts): once the key exists each of
 * the signer's share sets gets PRESIGN sessions (two at a time, up to the pool size), an entry
 * is READY only when every party pooled the same one (EdDSA: the same commitment list, kept for
 * aggregation), a SIGN session's authorization names the
 * oldest READY one and marks it TAKEN so no other session names it, PRESIGN jobs are offered in
 * the one order every party leases in, a fresh session after a failure presigns inline, and only
 * a party reporting the named presignature missing drops the rest of the pool (audited). Parties
 * are played by hand (the daemons run PRESIGN for real in packages/cli/test/cosigner-sign.test.ts
 * and cosigner-crash.test.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  decodeSignedSigningAuthorization,
  decodeSignedRoster,
  type KeyAlgorithm,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAKING_AT_ONCE, PRESIGN_DEFER_MS } from '../src/mpc/presignature-pool.js';
import { fakeClock, pairNewCosigner, refresh } from './helpers/cosigner.js';
import {
  messageSession,
  registerClouds,
  relayCalls,
  type RelayJob,
  type RelayParty,
} from './helpers/relay-party.js';
import { DISCARDS_PER_MINUTE } from '../src/routes/mpc-relay-routes.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const POOL_SIZE = 3;

describe('the presignature pool', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let parties: RelayParty[];
  const root = HDKey.fromMasterSeed(randomBytes(32));
  const clock = fakeClock();
  const { call, jobsOf } = relayCalls(() => p);

  const report = (who: RelayParty, job: RelayJob, body: object) =>
    call(who, 'POST', `/cosigner/v1/jobs/${job.jobId}/result`, { leaseId: job.leaseId, ...body });
  /** The pool of one algorithm's share set of the test's workspace (ECDSA unless said). */
  const pool = (algorithm = 'ECDSA_SECP256K1') =>
    p.app.services.database.db
      .selectFrom('presignatures as x')
      .innerJoin('share_sets as s', 's.id', 'x.share_set_id')
      .select(['x.session_id', 'x.status', 'x.taken_by_session_id', 'x.commitments'])
      .where('x.workspace_id', '=', p.workspaceId)
      .where('s.algorithm', '=', algorithm)
      .orderBy('x.created_at')
      .orderBy('x.session_id')
      .execute();
  const statuses = async (algorithm?: string) =>
    (await pool(algorithm)).map((r) => r.status).sort();
  /**
   * A FROST commitment list as the parties report it (mpc frost-nonce-set.ts: version 1,
   * ciphersuite 1 = Ed25519, then each signer's index and two points), with fresh random points.
   */
  const commitmentList = (): string =>
    Buffer.concat([
      Buffer.from([1, 1, 3]),
      ...[1, 2, 3].flatMap((index) => [
        Buffer.from([0, index]),
        ...[0, 1].map(() =>
          ed25519.Point.BASE.multiply(
            BigInt(`0x${randomBytes(31).toString('hex')}`) + 1n,
          ).toBytes(),
        ),
      ]),
    ]).toString('hex');
  /** An EdDSA PRESIGN result: a commitment list and its SHA-256. */
  const frostResult = (commitments = commitmentList()) => ({
    presignatureId: createHash('sha256').update(Buffer.from(commitments, 'hex')).digest('hex'),
    commitments,
  });
  /**
   * Every party's jobs once PRESIGN jobs made until now are offered (they wait PRESIGN_DEFER_MS
   * after the signing that asked for them), by session.
   */
  const leaseAll = async (
    among = parties,
  ): Promise<Map<string, { party: RelayParty; job: RelayJob }[]>> => {
    clock.advance(PRESIGN_DEFER_MS);
    const bySession = new Map<string, { party: RelayParty; job: RelayJob }[]>();
    for (const party of among)
      for (const job of await jobsOf(party))
        bySession.set(job.sessionId, [...(bySession.get(job.sessionId) ?? []), { party, job }]);
    return bySession;
  };
  const presignatureId = () => randomBytes(32).toString('hex');
  /** What every party of a KEYGEN reports: the same root key of each algorithm. */
  const keygenResult = (algorithm: string) =>
    algorithm === 'EDDSA_ED25519'
      ? { publicKey: 'ab'.repeat(32), chainCode: 'cc'.repeat(32) }
      : {
          publicKey: Buffer.from(root.publicKey!).toString('hex'),
          chainCode: Buffer.from(root.chainCode!).toString('hex'),
        };
  /** Every party of each PRESIGN session reports the same id (or `ids` per party). */
  const finishPresigns = async (
    sessions: Map<string, { party: RelayParty; job: RelayJob }[]>,
    ids?: () => string[],
  ) => {
    for (const jobs of sessions.values()) {
      const eddsa = jobs[0]!.job.algorithm === 'EDDSA_ED25519';
      const agreed = eddsa ? frostResult() : { presignatureId: presignatureId() };
      const chosen = ids?.().map((id) => (eddsa ? frostResult(id) : { presignatureId: id }));
      for (const [i, { party, job }] of jobs.entries()) {
        expect(job.type).toBe('PRESIGN');
        const res = await report(party, job, { status: 'DONE', result: chosen?.[i] ?? agreed });
        expect(res.statusCode, res.body).toBe(200);
      }
    }
  };
  /**
   * Runs the parties until no job is left: PRESIGN jobs make a presignature, SIGN jobs end their
   * transaction (a refusal that no fresh session follows). `work` first, if given.
   */
  const settle = async (
    work?: Map<string, { party: RelayParty; job: RelayJob }[]>,
  ): Promise<void> => {
    for (let batch = work ?? (await leaseAll()); batch.size > 0; batch = await leaseAll()) {
      for (const jobs of batch.values()) {
        if (jobs[0]!.job.type === 'PRESIGN') await finishPresigns(new Map([['', jobs]]));
        else
          for (const { party, job } of jobs)
            await report(party, job, {
              status: 'FAILED',
              reason: 'test: cleared away',
              subStatus: 'SIGNATURE_MAY_EXIST',
            });
      }
    }
  };
  /**
   * Takes the EdDSA pool's READY entries away so that it makes new ones: its share set, and the
   * PRESIGN sessions started (MAKING_AT_ONCE), each with its parties' jobs.
   */
  const remakeEddsaEntries = async () => {
    const { db } = p.app.services.database;
    const shareSetId = (
      await db
        .selectFrom('share_sets')
        .select('id')
        .where('algorithm', '=', 'EDDSA_ED25519')
        .executeTakeFirstOrThrow()
    ).id;
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('presignatures')
        .set({ status: 'DISCARDED' })
        .where('share_set_id', '=', shareSetId)
        .where('status', '=', 'READY')
        .execute();
      await p.app.services.presignatures.topUpWorkspace(trx, p.workspaceId, 'EDDSA_ED25519');
    });
    const made = [...(await leaseAll()).values()];
    expect(made).toHaveLength(MAKING_AT_ONCE);
    return { shareSetId, made };
  };
  /** Fresh, agreeing PRESIGN results fill one algorithm's pool again (EdDSA unless said). */
  const refill = async (algorithm: KeyAlgorithm = 'EDDSA_ED25519') => {
    await p.app.services.database.db
      .transaction()
      .execute((trx) => p.app.services.presignatures.topUpWorkspace(trx, p.workspaceId, algorithm));
    await settle();
    expect(await statuses(algorithm)).toContain('READY');
  };
  const authorizationOf = async (sessionId: string) => {
    const published = (await call(parties[0]!, 'GET', `/cosigner/v1/sessions/${sessionId}`)).json<{
      signedAuthorization: string;
    }>();
    return decodeSignedSigningAuthorization(Buffer.from(published.signedAuthorization, 'base64'))
      .authorization;
  };
  /**
   * A RAW transaction of one message on the ECDSA root key (or the EdDSA one); its id, once the
   * pool top-up its signing starts after its commit has ended.
   */
  const createRaw = async (algorithm = 'ECDSA_SECP256K1') => {
    const eddsa = algorithm === 'EDDSA_ED25519';
    const res = await signedRequest(p, admin, 'POST', '/v1/transactions', {
      body: {
        operation: 'RAW',
        ...(eddsa ? {} : { assetId: 'ETH' }),
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        extraParameters: {
          rawMessageData: {
            ...(eddsa ? { algorithm: 'MPC_EDDSA_ED25519' } : {}),
            messages: [{ content: randomBytes(32).toString('hex') }],
          },
        },
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    await p.app.services.presignatures.topUpsSettled();
    return res.json<{ id: string }>().id;
  };

  beforeAll(async () => {
    p = await startTestPlatform({}, undefined, undefined, clock.now, {
      presignaturePoolSize: POOL_SIZE,
    });
    admin = await createApiUser(p, 'pool-admin', 'ADMIN');
    const signer = await createApiUser(p, 'pool-signer', 'SIGNER');
    const paired = await pairNewCosigner(p, admin, signer.id);
    const access = (await refresh(p, paired.refreshToken)).json<{ accessToken: string }>();
    parties = [
      ...(await registerClouds(p)),
      { cosignerId: paired.cosignerId, accessToken: access.accessToken },
    ];
  });
  afterAll(() => p.close());

  it('fills once the key exists: two PRESIGN sessions at a time, among the signing parties', async () => {
    expect(await pool()).toEqual([]);
    const announced = vi.spyOn(p.app.services.mpcSessions, 'announceAfter');
    // KEYGEN: every party reports the same root key of each algorithm.
    for (const jobs of (await leaseAll()).values())
      for (const { party, job } of jobs) {
        expect(job.type).toBe('KEYGEN');
        const result = keygenResult(job.algorithm);
        expect((await report(party, job, { status: 'DONE', result })).statusCode).toBe(200);
      }
    expect(await statuses()).toEqual(Array(MAKING_AT_ONCE).fill('MAKING'));
    expect(await statuses('EDDSA_ED25519')).toEqual(Array(MAKING_AT_ONCE).fill('MAKING'));
    // Each party is woken once per job when the jobs are offered, not left to its re-check.
    const partyIds = parties.map((x) => x.cosignerId);
    expect(announced.mock.calls).toEqual(
      Array(2).fill([Array(MAKING_AT_ONCE).fill(partyIds).flat(), PRESIGN_DEFER_MS]),
    );
    announced.mockRestore();
    // Not offered yet: the pool waits its turn behind the work that asked for it.
    for (const party of parties) expect(await jobsOf(party)).toEqual([]);
    const sessions = await leaseAll();
    expect(sessions.size).toBe(2 * MAKING_AT_ONCE);
    const algorithms = [...sessions.values()].map((jobs) => jobs[0]!.job.algorithm).sort();
    expect(algorithms).toEqual([
      ...Array<string>(MAKING_AT_ONCE).fill('ECDSA_SECP256K1'),
      ...Array<string>(MAKING_AT_ONCE).fill('EDDSA_ED25519'),
    ]);
    for (const [sessionId, jobs] of sessions) {
      // Each party of the share set got one, under a PRESIGN roster.
      expect(jobs.map((j) => j.party.cosignerId)).toEqual(parties.map((x) => x.cosignerId));
      expect(new Set(jobs.map((j) => j.job.algorithm)).size).toBe(1);
      const published = (
        await call(parties[0]!, 'GET', `/cosigner/v1/sessions/${sessionId}`)
      ).json<{ signedRoster: string; signedAuthorization?: string }>();
      const { roster } = decodeSignedRoster(Buffer.from(published.signedRoster, 'base64'));
      expect(roster.purpose).toBe('PRESIGN');
      expect(published.signedAuthorization).toBeUndefined();
    }
    // A result that is not a PRESIGN result is refused.
    const [first] = [...sessions.values()];
    const wrong = await report(first![0]!.party, first![0]!.job, {
      status: 'DONE',
      result: { publicKey: 'ab'.repeat(32) },
    });
    expect(wrong.statusCode).toBe(400);
    await finishPresigns(sessions);
    // Both READY; the pool tops up to its size, never more.
    expect(await statuses()).toEqual(['MAKING', 'READY', 'READY']);
    expect(await statuses('EDDSA_ED25519')).toEqual(['MAKING', 'READY', 'READY']);
    await finishPresigns(await leaseAll());
    expect(await statuses()).toEqual(['READY', 'READY', 'READY']);
    expect(await statuses('EDDSA_ED25519')).toEqual(['READY', 'READY', 'READY']);
    expect(await leaseAll()).toEqual(new Map());
    // EdDSA entries keep the commitment list every party reported; ECDSA ones have none.
    expect((await pool('EDDSA_ED25519')).every((r) => r.commitments?.length === 402)).toBe(true);
    expect((await pool()).every((r) => r.commitments === null)).toBe(true);
  });

  it('EdDSA parties that report different lists, a list under another id, or none, make none', async () => {
    const sameId = presignatureId();
    for (const results of [
      // One id, but each party's own list.
      parties.map(() => ({ ...frostResult(), presignatureId: sameId })),
      // One list and one id, but not the list's SHA-256.
      parties.map(() => ({ ...frostResult('aa'.repeat(201)), presignatureId: sameId })),
      // No list at all: nothing to aggregate with.
      parties.map(() => ({ presignatureId: sameId })),
    ]) {
      const { made } = await remakeEddsaEntries();
      for (const jobs of made)
        for (const [i, { party, job }] of jobs.entries())
          expect(
            (await report(party, job, { status: 'DONE', result: results[i] })).statusCode,
          ).toBe(200);
      expect(await statuses('EDDSA_ED25519')).not.toContain('READY');
      expect(await statuses('EDDSA_ED25519')).not.toContain('MAKING');
    }
    await refill();
  });

  it('an EdDSA entry offering a nonce commitment point seen before is never READY, naming every repeating slot and its first offer (nonce-set review L6)', async () => {
    const earlierEntry = (await pool('EDDSA_ED25519')).find((r) => r.commitments !== null)!;
    const earlier = earlierEntry.commitments!;
    // Within one list: signer 2's hiding point is signer 1's binding point (66 bytes a signer).
    const fresh = Buffer.from(commitmentList(), 'hex');
    Buffer.from(fresh.subarray(37, 69)).copy(fresh, 71);
    const lists = [earlier, fresh.toString('hex')];
    const { shareSetId, made } = await remakeEddsaEntries();
    for (const [n, jobs] of made.entries())
      for (const { party, job } of jobs)
        expect(
          (await report(party, job, { status: 'DONE', result: frostResult(lists[n]) })).statusCode,
        ).toBe(200);
    expect(await statuses('EDDSA_ED25519')).not.toContain('READY');
    const audit = await p.app.services.database.db
      .selectFrom('audit_log')
      .select(['subject', 'details'])
      .where('action', '=', 'mpc.nonce_commitments_refused')
      .orderBy('seq')
      .execute();
    // Every repeating slot, with where its point was offered first: the replayed list, slot by
    // slot by the same parties (a repeating random source would look so); the list repeating a
    // point, signer 1 then signer 2 (one of them copied the other's).
    const [replayed, copied] = made.map((jobs) => jobs[0]!.job.sessionId);
    expect(audit.map((a) => [a.subject, a.details])).toEqual([
      [
        shareSetId,
        {
          presignSessionId: replayed,
          reason: 'REPEATED',
          repeats: [1, 1, 2, 2, 3, 3].map((i) => ({
            partyIndex: i,
            firstSession: earlierEntry.session_id,
            firstPartyIndex: i,
          })),
        },
      ],
      [
        shareSetId,
        {
          presignSessionId: copied,
          reason: 'REPEATED',
          repeats: [{ partyIndex: 2, firstSession: copied, firstPartyIndex: 1 }],
        },
      ],
    ]);
    // Lists every party agrees on but that are no commitment lists: not READY either.
    const { made: malformed } = await remakeEddsaEntries();
    for (const [n, jobs] of malformed.entries())
      for (const { party, job } of jobs)
        expect(
          (
            await report(party, job, {
              status: 'DONE',
              result: frostResult(['aa'.repeat(201), '010100'][n]),
            })
          ).statusCode,
        ).toBe(200);
    expect(await statuses('EDDSA_ED25519')).not.toContain('READY');
    const refusedAgain = await p.app.services.database.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'mpc.nonce_commitments_refused')
      .orderBy('seq')
      .execute();
    expect(refusedAgain.slice(2).map((a) => (a.details as { reason: string }).reason)).toEqual([
      'MALFORMED',
      'MALFORMED',
    ]);
    await refill();
  });

  it('parties that pooled different presignatures make none', async () => {
    const before = (await pool()).length;
    // Take one so the pool makes another.
    await createRaw();
    const work = await leaseAll();
    const presigns = new Map([...work].filter(([, jobs]) => jobs[0]!.job.type === 'PRESIGN'));
    expect(presigns.size).toBe(1);
    await finishPresigns(presigns, () => parties.map(() => presignatureId()));
    const [added] = (await pool()).slice(before);
    expect(added?.status).toBe('DISCARDED');
    await settle(new Map([...work].filter(([id]) => !presigns.has(id))));
  });

  it('a SIGN session names the oldest READY presignature, which no other session names', async () => {
    // The failed SIGN session of the last case dropped the READY ones: refill.
    await createRaw();
    await settle();
    const ready = (await pool()).filter((r) => r.status === 'READY');
    expect(ready).toHaveLength(POOL_SIZE);
    const id = await createRaw();
    // The top-up's PRESIGN is made with the SIGN and offered in the same one order to every party.
    const work = new Map<string, { party: RelayParty; job: RelayJob }[]>();
    const orders: string[][] = [];
    clock.advance(PRESIGN_DEFER_MS);
    for (const party of parties) {
      const jobs = await jobsOf(party);
      orders.push(jobs.map((j) => j.sessionId));
      expect(jobs.map((j) => j.type).sort()).toEqual(['PRESIGN', 'SIGN']);
      for (const job of jobs)
        work.set(job.sessionId, [...(work.get(job.sessionId) ?? []), { party, job }]);
    }
    expect(new Set(orders.map((o) => o.join()))).toHaveLength(1);
    const [signSession] = [...work].find(([, jobs]) => jobs[0]!.job.type === 'SIGN')!;
    const auth = await authorizationOf(signSession);
    expect(auth.transactionId).toBe(id);
    expect(Buffer.from(auth.presignSessionId!).toString('hex')).toBe(ready[0]!.session_id);
    const row = (await pool()).find((r) => r.session_id === ready[0]!.session_id);
    expect(row).toMatchObject({ status: 'TAKEN', taken_by_session_id: signSession });
    // Never named again: the TAKEN one stays TAKEN whatever follows.
    await settle(work);
    expect((await pool()).find((r) => r.session_id === ready[0]!.session_id)?.status).toBe('TAKEN');

    // /metrics shows each algorithm's entries apart, by state, as the table holds them; here
    // the two algorithms' counts differ, so a sum or a swap would show.
    const metrics = (await p.app.inject({ url: '/metrics' })).body;
    const counts = new Map<string, number[]>();
    for (const algorithm of ['ECDSA_SECP256K1', 'EDDSA_ED25519']) {
      const rows = await p.app.services.database.db
        .selectFrom('presignatures as x')
        .innerJoin('share_sets as s', 's.id', 'x.share_set_id')
        .select('x.status')
        .where('s.algorithm', '=', algorithm)
        .execute();
      const byStatus = ['MAKING', 'READY', 'TAKEN', 'DISCARDED'].map(
        (status) => rows.filter((r) => r.status === status).length,
      );
      counts.set(algorithm, byStatus);
      for (const [i, status] of ['MAKING', 'READY', 'TAKEN', 'DISCARDED'].entries())
        expect(metrics).toContain(
          `countersign_presignatures{algorithm="${algorithm}",status="${status}"} ${byStatus[i]}\n`,
        );
    }
    expect(counts.get('ECDSA_SECP256K1')).not.toEqual(counts.get('EDDSA_ED25519'));
  });

  it('a fresh session after a failure presigns inline; only a party missing it drops the pool', async () => {
    const readyCount = async () => (await pool()).filter((r) => r.status === 'READY').length;
    expect(await readyCount()).toBe(POOL_SIZE);
    // Any failure (a handler's REJECT, a lost lease): the pool stays, less the one taken.
    await createRaw();
    const work = await leaseAll();
    const plain = [...work].find(([, jobs]) => jobs[0]!.job.type === 'SIGN')!;
    await report(plain[1][0]!.party, plain[1][0]!.job, { status: 'FAILED', reason: 'test: other' });
    expect(await readyCount()).toBe(POOL_SIZE - 1);
    await settle(new Map([...work].filter(([sessionId]) => sessionId !== plain[0])));
    expect(await readyCount()).toBe(POOL_SIZE);

    const id = await createRaw();
    const first = [...(await leaseAll())].find(([, jobs]) => jobs[0]!.job.type === 'SIGN')!;
    expect((await authorizationOf(first[0])).presignSessionId).toBeDefined();
    const { party, job } = first[1][0]!;
    // A party that no longer holds it (a restored backup) fails before any share leaves.
    const missing = await report(party, job, {
      status: 'FAILED',
      reason: 'ERR_COSIGNER_NO_PRESIGNATURE: not in this store',
      subStatus: 'PRESIGNATURE_MISSING',
    });
    expect(missing.statusCode, missing.body).toBe(200);
    expect(await readyCount()).toBe(0);
    const audit = await p.app.services.database.db
      .selectFrom('audit_log')
      .select(['subject', 'details'])
      .where('action', '=', 'mpc.presignatures_discarded')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.subject).toBe(first[1][0]!.job.shareSetId);
    const retry = [...(await leaseAll())].find(([, jobs]) => jobs[0]!.job.type === 'SIGN')!;
    const auth = await authorizationOf(retry[0]);
    expect(auth.transactionId).toBe(id);
    expect(auth.presignSessionId).toBeUndefined();
    // The retry signs: a signature under the derived key completes the transaction.
    const child = root.derive('m/44/60/0/0/0');
    const recovered = secp256k1.sign(auth.content, child.privateKey!, {
      prehash: false,
      format: 'recovered',
    });
    const result = {
      signature: Buffer.from(recovered.slice(1)).toString('hex'),
      publicKey: Buffer.from(child.publicKey!).toString('hex'),
      recoveryId: recovered[0],
    };
    for (const { party: who, job: j } of retry[1])
      expect((await report(who, j, { status: 'DONE', result })).statusCode).toBe(200);
    const tx = (await signedRequest(p, admin, 'GET', `/v1/transactions/${id}`)).json<{
      status: string;
    }>();
    expect(tx.status).toBe('COMPLETED');
  });
  it("a co-signer whose pool is gone (a restored store) has nothing made with it named again, and no one else's pool is touched", async () => {
    await settle();
    const { db } = p.app.services.database;
    // Another workspace, whose signer's co-signer shares the clouds: its pool must survive.
    const ws2 = await p.app.services.workspaces.create({
      name: 'Second workspace',
      ownerEmail: 'second@example.test',
    });
    const p2 = { ...p, workspaceId: ws2.workspaceId, owner: ws2.owner };
    const admin2 = await createApiUser(p2, 'pool-admin-2', 'ADMIN');
    const signer2 = await createApiUser(p2, 'pool-signer-2', 'SIGNER');
    const paired2 = await pairNewCosigner(p2, admin2, signer2.id);
    const api2: RelayParty = {
      cosignerId: paired2.cosignerId,
      accessToken: (await refresh(p, paired2.refreshToken)).json<{ accessToken: string }>()
        .accessToken,
    };
    const among2 = [parties[0]!, parties[1]!, api2];
    for (let batch = await leaseAll(among2); batch.size > 0; batch = await leaseAll(among2))
      for (const jobs of batch.values()) {
        if (jobs[0]!.job.type === 'PRESIGN') await finishPresigns(new Map([['', jobs]]));
        else
          for (const { party, job } of jobs) {
            expect(job.type).toBe('KEYGEN');
            const result = keygenResult(job.algorithm);
            expect((await report(party, job, { status: 'DONE', result })).statusCode).toBe(200);
          }
      }
    const live = async (workspaceId: string) =>
      (
        await db
          .selectFrom('presignatures')
          .select('status')
          .where('workspace_id', '=', workspaceId)
          .where('status', 'in', ['READY', 'MAKING'])
          .execute()
      ).length;
    const before = await live(p.workspaceId);
    expect(before).toBeGreaterThan(0);
    expect(await live(ws2.workspaceId)).toBe(2 * POOL_SIZE);
    const res = await call(parties[2]!, 'POST', '/cosigner/v1/presignatures/discard');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ discarded: before });
    expect(await live(p.workspaceId)).toBe(0);
    // Made among the same clouds, but not with this co-signer (pooled EdDSA review T2).
    expect(await live(ws2.workspaceId)).toBe(2 * POOL_SIZE);
    const audit = await db
      .selectFrom('audit_log')
      .select(['details', 'actor_kind', 'actor_id', 'workspace_id'])
      .where('action', '=', 'mpc.presignatures_discarded')
      .execute();
    const lost = audit.filter((a) => (a.details as { reason?: string }).reason === 'POOL_LOST');
    expect(lost).toHaveLength(2); // one per share set: ECDSA and EdDSA
    // The co-signer's call did it: it is the actor (pooled EdDSA review I1).
    for (const a of lost)
      expect([a.actor_kind, a.actor_id, a.workspace_id, a.details]).toMatchObject([
        'cosigner',
        parties[2]!.cosignerId,
        p.workspaceId,
        { cosignerId: parties[2]!.cosignerId },
      ]);
    // Told again, nothing is left to drop. The pools fill again with the next top-ups.
    expect((await call(parties[2]!, 'POST', '/cosigner/v1/presignatures/discard')).json()).toEqual({
      discarded: 0,
    });
    for (const algorithm of ['ECDSA_SECP256K1', 'EDDSA_ED25519'] as const)
      await db
        .transaction()
        .execute((trx) =>
          p.app.services.presignatures.topUpWorkspace(trx, p.workspaceId, algorithm),
        );
    await settle();
    expect(await live(p.workspaceId)).toBe(2 * POOL_SIZE);
  });

  it.each<KeyAlgorithm>(['ECDSA_SECP256K1', 'EDDSA_ED25519'])(
    'a %s signing that named an entry made with a co-signer whose pool is gone gets a fresh session, unless a party started it (pooled EdDSA review M3 b)',
    async (algorithm) => {
      // The ECDSA case's discard took the EdDSA pool too.
      await refill(algorithm);
      const { db } = p.app.services.database;
      const session = (id: string) =>
        db
          .selectFrom('mpc_sessions')
          .select(['status', 'failure_reason'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
      // Started before a Cloud Co-signer said its pool is gone: the signer's co-signer leased
      // its job (an EdDSA session holds the clouds' back), or also reported its part (DONE).
      const started = await createRaw(algorithm);
      expect((await jobsOf(parties[2]!)).map((j) => j.type)).toEqual(['SIGN']);
      const reported = await createRaw(algorithm);
      const [job] = await jobsOf(parties[2]!);
      const part =
        algorithm === 'EDDSA_ED25519'
          ? { signatureShare: 'cc'.repeat(32) }
          : { signature: 'aa'.repeat(64), publicKey: `02${'bb'.repeat(32)}`, recoveryId: 0 };
      expect((await report(parties[2]!, job!, { status: 'DONE', result: part })).statusCode).toBe(
        200,
      );
      // Not started: nobody has leased its jobs.
      const unstarted = await createRaw(algorithm);
      const named = (await messageSession(p, unstarted)).session_id!;
      expect((await authorizationOf(named)).presignSessionId).toBeDefined();

      const startedSessions = [
        (await messageSession(p, started)).session_id!,
        (await messageSession(p, reported)).session_id!,
      ];

      const res = await call(parties[0]!, 'POST', '/cosigner/v1/presignatures/discard');
      expect(res.statusCode, res.body).toBe(200);
      expect(await session(named)).toEqual({
        status: 'FAILED',
        failure_reason: expect.stringMatching(/lost its pool/) as unknown,
      });
      // Its message has a fresh session that names no pooled entry; the transaction goes on.
      const retry = await messageSession(p, unstarted);
      expect(retry.attempts).toBe(2);
      expect(retry.session_id).not.toBe(named);
      expect(await session(retry.session_id!)).toMatchObject({ status: 'OPEN' });
      expect((await authorizationOf(retry.session_id!)).presignSessionId).toBeUndefined();
      const tx = (await signedRequest(p, admin, 'GET', `/v1/transactions/${unstarted}`)).json<{
        status: string;
      }>();
      expect(tx.status).toBe('PENDING_SIGNATURE');
      // The started ones run on, as they would have: the same sessions, still OPEN.
      for (const [i, id] of [started, reported].entries()) {
        expect(await messageSession(p, id)).toEqual({
          session_id: startedSessions[i],
          attempts: 1,
        });
        expect(await session(startedSessions[i]!)).toMatchObject({ status: 'OPEN' });
      }
      await settle();
      // Both pools full again for the cases that follow (the discard took both).
      for (const other of ['ECDSA_SECP256K1', 'EDDSA_ED25519'] as const) await refill(other);
    },
  );

  it('a co-signer asking for discards in a loop is refused past the limit, with nothing done (pooled EdDSA review I1)', async () => {
    const cloud = parties[1]!;
    const discard = () => call(cloud, 'POST', '/cosigner/v1/presignatures/discard');
    for (let n = 0; n < DISCARDS_PER_MINUTE; n++) expect((await discard()).statusCode).toBe(200);
    // Entries made with it again, for the refused calls to leave alone.
    await refill('EDDSA_ED25519');
    const pooled = await statuses('EDDSA_ED25519');
    const { db } = p.app.services.database;
    const audited = async () =>
      (
        await db
          .selectFrom('audit_log')
          .select('id')
          .where('action', '=', 'mpc.presignatures_discarded')
          .where('actor_id', '=', cloud.cosignerId)
          .execute()
      ).length;
    const before = await audited();
    for (let n = 0; n < 2; n++) {
      const refused = await discard();
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ code: expect.any(Number), message: /pool discards/ });
    }
    expect(await statuses('EDDSA_ED25519')).toEqual(pooled);
    expect(await audited()).toBe(before);
    // Another co-signer is not held back by it (and its call does drop them).
    const other = await call(parties[0]!, 'POST', '/cosigner/v1/presignatures/discard');
    expect(other.statusCode).toBe(200);
    expect(other.json<{ discarded: number }>().discarded).toBeGreaterThan(0);
    await refill('ECDSA_SECP256K1'); // for the case that follows
  });

  it('a share set whose pairing ended keeps no presignature to name', async () => {
    await settle();
    const live = async () =>
      (await pool()).filter((r) => r.status === 'READY' || r.status === 'MAKING').length;
    expect(await live()).toBeGreaterThan(0);
    const signer = parties[2]!;
    const { db } = p.app.services.database;
    const apiUserId = (
      await db
        .selectFrom('share_sets')
        .select('api_user_id')
        .where('cosigner_id', '=', signer.cosignerId)
        .executeTakeFirstOrThrow()
    ).api_user_id;
    // As the Owner's unpair does, in the transaction that ends the pairing.
    await db
      .transaction()
      .execute((trx) =>
        p.app.services.destruction.pairingEnded(
          trx,
          { workspaceId: p.workspaceId, apiUserId, cosignerId: signer.cosignerId },
          'UNPAIRED_BY_OWNER',
        ),
      );
    expect(await live()).toBe(0);
    // A signing's top-up that comes after (it started before the pairing ended) makes none.
    const presignatures = p.app.services.presignatures;
    presignatures.topUpSoon(p.workspaceId, 'ECDSA_SECP256K1');
    await presignatures.topUpsSettled();
    expect(await live()).toBe(0);
  });

  it("a signing's top-up, run after its commit, that fails is reported and writes nothing; none starts once stopping", async () => {
    const presignatures = p.app.services.presignatures;
    const { db } = p.app.services.database;
    const failures: unknown[] = [];
    presignatures.onTopUpFailure((error) => failures.push(error));
    const rows = async () =>
      Number(
        (
          await db
            .selectFrom('mpc_sessions')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const sessionsBefore = await rows();
    // A workspace id the database cannot even compare: the transaction fails and rolls back.
    const gone = ['not a workspace id', 'EDDSA_ED25519'] as const;
    presignatures.topUpSoon(...gone);
    expect(failures).toEqual([]); // not before the caller's turn ends
    await presignatures.topUpsSettled();
    expect(failures).toHaveLength(1);
    expect(await rows()).toBe(sessionsBefore);
    // Stopping (the app closing) waits for a top-up that began (its turn came first)...
    presignatures.topUpSoon(...gone);
    await new Promise((resolve) => setImmediate(resolve));
    presignatures.topUpSoon(...gone); // still waiting its turn when the stop comes
    await presignatures.stopTopUps();
    expect(failures).toHaveLength(2);
    // ...and none begins after it: neither the one that was waiting nor one asked for later.
    presignatures.topUpSoon(...gone);
    await presignatures.topUpsSettled();
    expect(failures).toHaveLength(2);
  });
});
