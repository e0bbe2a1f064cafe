/**
 * RESHARE orchestration (ARCHITECTURE §3 "Next signer"): once the root keys exist, each later
 * signer gets one RESHARE session per algorithm — dealers {cloud-1, cloud-2, an existing signer},
 * receivers {cloud-1, cloud-2, the new signer at a fresh index} — with a signed roster and a
 * signed reshare authorization naming the Owner's approval; the new share set is recorded only
 * if every party's report fits its role (else refused and audited, naming the party: a receiver
 * blocks the pairing, the leaving dealer alone is retried with another dealer — review L1); a
 * failed attempt falls back to another existing signer, but a dealer's refusal ends the
 * pairing's attempts and shows on its approval request (review M1).
 * The parties are driven through the co-signer protocol by hand (results only, no MPC).
 */
import {
  decodeSignedReshareAuthorization,
  decodeSignedRoster,
  type KeygenResult,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairNewCosigner, refresh } from './helpers/cosigner.js';
import { publicShareSetHex } from './helpers/public-share-set.js';
import { registerClouds } from './helpers/relay-party.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

interface Party {
  cosignerId: string;
  accessToken: string;
}

interface Job {
  jobId: string;
  type: string;
  leaseId: string;
  sessionId: string;
  algorithm: string;
  threshold: number;
  apiKeyId: string;
}

const ROOT: Record<string, KeygenResult> = {
  EDDSA_ED25519: { publicKey: '11'.repeat(32), chainCode: 'cc'.repeat(32) },
  ECDSA_SECP256K1: { publicKey: '02' + '22'.repeat(32), chainCode: 'dd'.repeat(32) },
};
const shareSetHex = (tag: string) => tag.repeat(70);
/** A well-formed public share set of the root key, as a receiver reports it. */
const receivedShareSet = (
  algorithm: string,
  parties: number[],
  over: { threshold?: number; publicKey?: string; tag?: number } = {},
): string => publicShareSetHex(algorithm, ROOT[algorithm]!, parties, over);

describe('RESHARE for later signers', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  const cloud: Party[] = [];
  const signers: { party: Party; userId: string }[] = [];

  const call = (who: Party, method: 'GET' | 'POST', url: string, payload?: object) =>
    p.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${who.accessToken}` },
      ...(payload ? { payload: payload as Record<string, unknown> } : {}),
    });
  const accessFor = async (refreshToken: string): Promise<string> =>
    (await refresh(p, refreshToken)).json<{ accessToken: string }>().accessToken;
  const jobsOf = async (who: Party): Promise<Job[]> => {
    const jobs: Job[] = [];
    for (;;) {
      const job = (await call(who, 'GET', '/cosigner/v1/work?wait=0')).json<{ jobs: Job[] }>()
        .jobs[0];
      if (!job) return jobs;
      jobs.push(job);
    }
  };
  const report = async (who: Party, job: Job, result: KeygenResult) => {
    const res = await call(who, 'POST', `/cosigner/v1/jobs/${job.jobId}/result`, {
      leaseId: job.leaseId,
      status: 'DONE',
      result,
    });
    expect(res.statusCode, res.body).toBe(200);
  };
  const sessions = (purpose: string) =>
    p.app.services.database.db
      .selectFrom('mpc_sessions')
      .selectAll()
      .where('workspace_id', '=', p.workspaceId)
      .where('purpose', '=', purpose)
      .orderBy('created_at')
      .execute();
  const shareSets = () =>
    p.app.services.database.db
      .selectFrom('share_sets')
      .select(['api_user_id', 'algorithm', 'signer_index', 'public_share_set'])
      .where('workspace_id', '=', p.workspaceId)
      .orderBy('created_at')
      .execute();
  const audited = async (action: string): Promise<Record<string, unknown>[]> =>
    (
      await p.app.services.database.db
        .selectFrom('audit_log')
        .select('details')
        .where('workspace_id', '=', p.workspaceId)
        .where('action', '=', action)
        .orderBy('seq')
        .execute()
    ).map((row) =>
      typeof row.details === 'string'
        ? (JSON.parse(row.details) as Record<string, unknown>)
        : row.details,
    );
  const addSigner = async (name: string): Promise<{ party: Party; userId: string }> => {
    const user = await createApiUser(p, name, 'SIGNER');
    const paired = await pairNewCosigner(p, admin, user.id, name);
    const s = {
      party: { cosignerId: paired.cosignerId, accessToken: await accessFor(paired.refreshToken) },
      userId: user.id,
    };
    signers.push(s);
    return s;
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'reshare-admin', 'ADMIN');
    cloud.push(...(await registerClouds(p)));
    // The first signer's KEYGEN, every party reporting the root keys and one public share set.
    const first = await addSigner('reshare-signer-1');
    for (const who of [cloud[0]!, cloud[1]!, first.party])
      for (const job of await jobsOf(who))
        await report(who, job, { ...ROOT[job.algorithm]!, shareSet: shareSetHex('a1') });
    expect(await shareSets()).toHaveLength(2);
  });
  afterAll(() => p.close());

  it('a later signer gets one RESHARE session per algorithm with a signed roster and authorization', async () => {
    const [first] = signers;
    const second = await addSigner('reshare-signer-2');
    const started = await sessions('RESHARE');
    expect(started.map((s) => s.algorithm).sort()).toEqual(['ECDSA_SECP256K1', 'EDDSA_ED25519']);
    const platformKey = await p.app.services.authorizationKey.publicKey();
    for (const s of started) {
      expect(s).toMatchObject({ api_user_id: second.userId, threshold: 3, status: 'OPEN' });
      const signedRoster = decodeSignedRoster(Buffer.from(s.signed_roster, 'base64'));
      expect(signedRoster.roster.purpose).toBe('RESHARE');
      expect(signedRoster.roster.parties.map((x) => [x.index, x.cosignerId])).toEqual([
        [1, cloud[0]!.cosignerId],
        [2, cloud[1]!.cosignerId],
        [3, first!.party.cosignerId],
        [4, second.party.cosignerId],
      ]);
      const { authorization, signedBytes, signature } = decodeSignedReshareAuthorization(
        Buffer.from(s.signed_authorization!, 'base64'),
      );
      expect(ed25519.verify(signature, signedBytes, platformKey)).toBe(true);
      const pairing = await p.app.services.database.db
        .selectFrom('cosigner_api_keys')
        .select('approval_request_id')
        .where('api_user_id', '=', second.userId)
        .executeTakeFirstOrThrow();
      expect(authorization).toMatchObject({
        algorithm: s.algorithm,
        newShareSetId: s.share_set_id,
        oldSignerId: first!.userId,
        newSignerId: second.userId,
        newCosignerId: second.party.cosignerId,
        approvalRequestId: pairing.approval_request_id,
        dealers: [1, 2, 3],
        receivers: [1, 2, 4],
        threshold: 3,
      });
      expect(Buffer.from(authorization.oldShareSet).toString('hex')).toBe(shareSetHex('a1'));
    }
    // Idempotent: asking again starts nothing more.
    await p.app.services.database.db.transaction().execute(async (trx) => {
      expect(await p.app.services.reshare.ensureForWorkspace(trx, p.workspaceId)).toEqual([]);
    });
    expect(await sessions('RESHARE')).toHaveLength(2);
  });

  it('records the share set when every party reports the root key; refuses and audits another key', async () => {
    const [first, second] = signers;
    const all = [cloud[0]!, cloud[1]!, first!.party, second!.party];
    for (const [i, who] of all.entries()) {
      for (const job of await jobsOf(who)) {
        expect(job).toMatchObject({ type: 'RESHARE', threshold: 3, apiKeyId: second!.userId });
        // The leaving dealer (index 3) reports no share set; ECDSA: cloud-2 reports another key.
        const result: KeygenResult =
          job.algorithm === 'ECDSA_SECP256K1' && i === 1
            ? { publicKey: '03' + '33'.repeat(32), chainCode: ROOT.ECDSA_SECP256K1!.chainCode! }
            : { ...ROOT[job.algorithm]! };
        const shareSet = receivedShareSet(job.algorithm, [1, 2, 4]);
        await report(who, job, i === 2 ? result : { ...result, shareSet });
      }
    }
    const byAlgorithm = Object.fromEntries(
      (await sessions('RESHARE')).map((s) => [s.algorithm, s.status]),
    );
    expect(byAlgorithm).toEqual({ EDDSA_ED25519: 'DONE', ECDSA_SECP256K1: 'FAILED' });
    expect(await shareSets()).toContainEqual({
      api_user_id: second!.userId,
      algorithm: 'EDDSA_ED25519',
      signer_index: 4,
      public_share_set: receivedShareSet('EDDSA_ED25519', [1, 2, 4]),
    });
    expect((await shareSets()).filter((s) => s.api_user_id === second!.userId)).toHaveLength(1);
    const alerts = await audited('mpc.reshare_key_mismatch');
    expect(alerts).toHaveLength(1);
    // The receiver that disagreed is named; a receiver's disagreement is not retried.
    expect(alerts[0]).toMatchObject({
      parties: [{ index: 2, cosignerId: cloud[1]!.cosignerId, role: 'RECEIVER' }],
      retried: false,
    });
  });

  it('a failed attempt falls back to another existing signer as the dealer', async () => {
    const [first, second] = signers;
    const third = await addSigner('reshare-signer-3');
    const eddsa = () =>
      sessions('RESHARE').then((list) =>
        list.filter((s) => s.algorithm === 'EDDSA_ED25519' && s.api_user_id === third.userId),
      );
    const [attempt1] = await eddsa();
    expect(attempt1!.dealer_api_user_id).toBe(first!.userId);
    const [job] = (await jobsOf(cloud[0]!)).filter((j) => j.sessionId === attempt1!.id);
    const res = await call(cloud[0]!, 'POST', `/cosigner/v1/jobs/${job!.jobId}/result`, {
      leaseId: job!.leaseId,
      status: 'FAILED',
      reason: 'ERR_COSIGNER_NOT_FOUND',
    });
    expect(res.statusCode).toBe(200);
    const attempts = await eddsa();
    expect(attempts.map((s) => s.status)).toEqual(['FAILED', 'OPEN']);
    expect(attempts[1]!.dealer_api_user_id).toBe(second!.userId);
    const roster = decodeSignedRoster(Buffer.from(attempts[1]!.signed_roster, 'base64')).roster;
    // Second signer's share set: index 4; the new signer takes the next free index.
    expect(roster.parties.map((x) => [x.index, x.cosignerId])).toEqual([
      [1, cloud[0]!.cosignerId],
      [2, cloud[1]!.cosignerId],
      [4, second!.party.cosignerId],
      [6, third.party.cosignerId],
    ]);
  });

  /** Jobs leased so far, by co-signer and session: a poll leases every job of its co-signer. */
  const leased = new Map<string, Job>();
  const jobFor = async (who: Party, sessionId: string): Promise<Job> => {
    for (const job of await jobsOf(who)) leased.set(`${who.cosignerId}:${job.sessionId}`, job);
    const job = leased.get(`${who.cosignerId}:${sessionId}`);
    if (!job) throw new Error(`no job of ${who.cosignerId} in ${sessionId}`);
    return job;
  };
  const fail = async (who: Party, sessionId: string, subStatus?: string) => {
    const job = await jobFor(who, sessionId);
    const res = await call(who, 'POST', `/cosigner/v1/jobs/${job.jobId}/result`, {
      leaseId: job.leaseId,
      status: 'FAILED',
      reason: subStatus === undefined ? 'ERR_COSIGNER_TIMEOUT' : `the co-signer says ${subStatus}`,
      ...(subStatus === undefined ? {} : { subStatus }),
    });
    expect(res.statusCode, res.body).toBe(200);
  };
  const sessionsOf = async (userId: string, algorithm?: string) =>
    (await sessions('RESHARE')).filter(
      (s) => s.api_user_id === userId && (algorithm === undefined || s.algorithm === algorithm),
    );
  const approvalShown = async (userId: string) => {
    const { approval_request_id } = await p.app.services.database.db
      .selectFrom('cosigner_api_keys')
      .select('approval_request_id')
      .where('api_user_id', '=', userId)
      .executeTakeFirstOrThrow();
    const res = await signedRequest(
      p,
      admin,
      'GET',
      `/v1/countersign/approval_requests/${approval_request_id}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ status: string; shareSets?: object[] }>();
  };

  it("a dealer's refusal ends the pairing's attempts for both algorithms, audited and shown to the Owner (M1)", async () => {
    const [first] = signers;
    const fourth = await addSigner('reshare-signer-4');
    const [eddsa] = await sessionsOf(fourth.userId, 'EDDSA_ED25519');
    expect(eddsa!.dealer_api_user_id).toBe(first!.userId);
    await fail(first!.party, eddsa!.id, 'PAIRING_NOT_GUARDED');
    // No retry, not even with another existing signer that could deal.
    expect((await sessionsOf(fourth.userId, 'EDDSA_ED25519')).map((s) => s.status)).toEqual([
      'FAILED',
    ]);
    expect(await audited('mpc.reshare_refused')).toEqual([
      {
        algorithm: 'EDDSA_ED25519',
        apiUserId: fourth.userId,
        dealerApiUserId: first!.userId,
        dealerCosignerId: first!.party.cosignerId,
        subStatus: 'PAIRING_NOT_GUARDED',
        reason: 'the co-signer says PAIRING_NOT_GUARDED',
      },
    ]);
    // The other algorithm's session, failing for an ordinary reason, is not retried either.
    const [ecdsa] = await sessionsOf(fourth.userId, 'ECDSA_SECP256K1');
    await fail(cloud[0]!, ecdsa!.id);
    expect((await sessionsOf(fourth.userId)).map((s) => s.status)).toEqual(['FAILED', 'FAILED']);
    await p.app.services.database.db.transaction().execute(async (trx) => {
      await p.app.services.reshare.ensureForWorkspace(trx, p.workspaceId);
    });
    expect(await sessionsOf(fourth.userId)).toHaveLength(2);
    const refused = {
      status: 'REFUSED',
      subStatus: 'PAIRING_NOT_GUARDED',
      reason: 'the co-signer says PAIRING_NOT_GUARDED',
      dealerApiKeyId: first!.userId,
    };
    expect(await approvalShown(fourth.userId)).toMatchObject({
      status: 'APPROVED',
      shareSets: [
        { algorithm: 'EDDSA_ED25519', ...refused },
        { algorithm: 'ECDSA_SECP256K1', ...refused },
      ],
    });
    // The first signer's approved pairing shows its share sets made.
    expect((await approvalShown(first!.userId)).shareSets).toEqual([
      { algorithm: 'EDDSA_ED25519', status: 'READY' },
      { algorithm: 'ECDSA_SECP256K1', status: 'READY' },
    ]);
  });

  it('failures that are not refusals are retried: a handler timeout, a refusal sub-status from a receiver', async () => {
    const [first, second] = signers;
    const fifth = await addSigner('reshare-signer-5');
    const [eddsa] = await sessionsOf(fifth.userId, 'EDDSA_ED25519');
    await fail(first!.party, eddsa!.id, 'CALLBACK_TIMEOUT');
    const retried = await sessionsOf(fifth.userId, 'EDDSA_ED25519');
    expect(retried.map((s) => [s.status, s.dealer_api_user_id])).toEqual([
      ['FAILED', first!.userId],
      ['OPEN', second!.userId],
    ]);
    // Only the dealer guards the pairing: the new signer's co-signer cannot end it by "refusing".
    const [ecdsa] = await sessionsOf(fifth.userId, 'ECDSA_SECP256K1');
    await fail(fifth.party, ecdsa!.id, 'REJECTED_BY_CALLBACK');
    expect((await sessionsOf(fifth.userId, 'ECDSA_SECP256K1')).map((s) => s.status)).toEqual([
      'FAILED',
      'OPEN',
    ]);
    expect((await sessionsOf(fifth.userId)).every((s) => s.refusal_sub_status === null)).toBe(true);
    expect(await audited('mpc.reshare_refused')).toHaveLength(1);
    expect((await approvalShown(fifth.userId)).shareSets).toEqual([
      { algorithm: 'EDDSA_ED25519', status: 'PENDING' },
      { algorithm: 'ECDSA_SECP256K1', status: 'PENDING' },
    ]);
  });

  it("the leaving dealer's wrong report is retried with another dealer; a receiver's blocks the pairing; both name the party (L1)", async () => {
    const [first, second] = signers;
    const sixth = await addSigner('reshare-signer-6');
    const runSession = async (
      sessionId: string,
      parties: { who: Party; index: number }[],
      resultOf: (index: number) => KeygenResult,
    ) => {
      for (const { who, index } of parties)
        await report(who, await jobFor(who, sessionId), resultOf(index));
    };
    const [attempt1] = await sessionsOf(sixth.userId, 'EDDSA_ED25519');
    expect(attempt1!.dealer_api_user_id).toBe(first!.userId);
    const roster1 = decodeSignedRoster(Buffer.from(attempt1!.signed_roster, 'base64')).roster;
    const newIndex = roster1.parties[3]!.index;
    const receivers = [1, 2, newIndex];
    const good = receivedShareSet('EDDSA_ED25519', receivers);
    // The dealer that leaves reports a share set it cannot hold; the receivers are right.
    await runSession(
      attempt1!.id,
      [
        { who: cloud[0]!, index: 1 },
        { who: cloud[1]!, index: 2 },
        { who: first!.party, index: 3 },
        { who: sixth.party, index: newIndex },
      ],
      () => ({ ...ROOT.EDDSA_ED25519!, shareSet: good }),
    );
    const attempts = await sessionsOf(sixth.userId, 'EDDSA_ED25519');
    expect(attempts.map((s) => [s.status, s.failure_reason, s.dealer_api_user_id])).toEqual([
      ['FAILED', "the dealer's report did not fit its role", first!.userId],
      ['OPEN', null, second!.userId],
    ]);
    expect((await audited('mpc.reshare_key_mismatch')).at(-1)).toEqual({
      algorithm: 'EDDSA_ED25519',
      apiUserId: sixth.userId,
      dealerApiUserId: first!.userId,
      parties: [
        {
          index: 3,
          cosignerId: first!.party.cosignerId,
          role: 'LEAVING_DEALER',
          problem: 'a share set, though it leaves',
        },
      ],
      retried: true,
    });
    // Attempt 2: the new signer's co-signer reports a share set of other parties.
    const roster2 = decodeSignedRoster(Buffer.from(attempts[1]!.signed_roster, 'base64')).roster;
    const dealerIndex = roster2.parties[2]!.index;
    const newIndex2 = roster2.parties[3]!.index;
    await runSession(
      attempts[1]!.id,
      [
        { who: cloud[0]!, index: 1 },
        { who: cloud[1]!, index: 2 },
        { who: second!.party, index: dealerIndex },
        { who: sixth.party, index: newIndex2 },
      ],
      (index) =>
        index === dealerIndex
          ? { ...ROOT.EDDSA_ED25519! }
          : {
              ...ROOT.EDDSA_ED25519!,
              shareSet: receivedShareSet(
                'EDDSA_ED25519',
                index === newIndex2 ? [1, 2, 3] : [1, 2, newIndex2],
              ),
            },
    );
    expect((await sessionsOf(sixth.userId, 'EDDSA_ED25519')).map((s) => s.status)).toEqual([
      'FAILED',
      'FAILED',
    ]);
    expect((await audited('mpc.reshare_key_mismatch')).at(-1)).toMatchObject({
      dealerApiUserId: second!.userId,
      parties: [
        {
          index: newIndex2,
          cosignerId: sixth.party.cosignerId,
          role: 'RECEIVER',
          problem: "a share set of other parties than the session's receivers",
        },
      ],
      retried: false,
    });
    expect((await approvalShown(sixth.userId)).shareSets).toContainEqual({
      algorithm: 'EDDSA_ED25519',
      status: 'BLOCKED',
    });
  });
});
