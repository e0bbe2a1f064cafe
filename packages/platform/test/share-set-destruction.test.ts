/**
 * Share set destruction (ARCHITECTURE §3 "Unpair"): when a pairing ends — the Owner's
 * COSIGNER_UNPAIR decision or the co-signer's own unpair — the same transaction marks each of its
 * share sets and creates one DESTROY session per share set for the two cloud co-signers, with a
 * signed destroy authorization; the API co-signer gets no such job. Each cloud's answer is
 * recorded and audited on its own (one cloud's refusal does not cancel the other's); a share set
 * made by a KEYGEN or RESHARE that finished after its pairing ended is destroyed at once; an
 * expired DESTROY session is offered again; a destroyed share set is never live again, even when
 * the same API user is paired to the same co-signer again. The parties are driven through the
 * co-signer protocol by hand (results only, no MPC). Runs on PGlite, and on PostgreSQL when
 * DATABASE_URL is set.
 */
import {
  decodeSignedDestroyAuthorization,
  decodeSignedRoster,
  type KeygenResult,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { liveShareSets } from '../src/mpc/share-sets.js';
import { DESTROY_TTL_MS } from '../src/mpc/share-set-destruction.js';
import { fakeClock, pairNewCosigner } from './helpers/cosigner.js';
import { publicShareSetHex } from './helpers/public-share-set.js';
import {
  registerClouds,
  relayCalls,
  type RelayJob,
  type RelayParty,
} from './helpers/relay-party.js';
import {
  createApiUser,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

interface Signer {
  party: RelayParty;
  userId: string;
}

const ROOT: Record<string, KeygenResult> = {
  EDDSA_ED25519: { publicKey: '11'.repeat(32), chainCode: 'cc'.repeat(32) },
  ECDSA_SECP256K1: { publicKey: '02' + '22'.repeat(32), chainCode: 'dd'.repeat(32) },
};
/** A public share set of the root key, as a receiver reports it; `tag` tells sets apart. */
const shareSetHex = (algorithm: string, parties: number[], tag: number): string =>
  publicShareSetHex(algorithm, ROOT[algorithm]!, parties, { tag });

describe('share set destruction when a pairing ends', () => {
  const clock = fakeClock();
  let p: TestPlatform;
  let admin: TestApiUser;
  let cloud: RelayParty[] = [];
  const signers: Signer[] = [];

  const db = () => p.app.services.database.db;
  const { call, jobsOf, reauthenticate } = relayCalls(() => p);
  const report = async (who: RelayParty, job: RelayJob, result: object) => {
    const res = await call(who, 'POST', `/cosigner/v1/jobs/${job.jobId}/result`, {
      leaseId: job.leaseId,
      status: 'DONE',
      result,
    });
    expect(res.statusCode, res.body).toBe(200);
  };
  /**
   * Every party of every open KEYGEN or RESHARE reports the root keys, and each holder of the new
   * share set its public part (a RESHARE's leaving dealer holds none).
   */
  const finishShareSets = async (parties: RelayParty[], tag: number, dealer?: RelayParty) => {
    for (const who of parties)
      for (const job of await jobsOf(who)) {
        if (job.type === 'DESTROY') continue; // the clouds' earlier orders wait for their own case
        // The receivers: every seat of the session but the leaving dealer's.
        const seats = await db()
          .selectFrom('mpc_session_parties')
          .select(['party_index', 'cosigner_id'])
          .where('session_id', '=', job.sessionId)
          .orderBy('party_index')
          .execute();
        const receivers = seats
          .filter((seat) => seat.cosigner_id !== dealer?.cosignerId)
          .map((seat) => seat.party_index);
        await report(
          who,
          job,
          who === dealer
            ? ROOT[job.algorithm]!
            : { ...ROOT[job.algorithm]!, shareSet: shareSetHex(job.algorithm, receivers, tag) },
        );
      }
  };
  const shareSetsOf = (userId: string) =>
    db()
      .selectFrom('share_sets')
      .selectAll()
      .where('api_user_id', '=', userId)
      .orderBy('algorithm')
      .execute();
  const destroySessions = (shareSetIds: string[]) =>
    db()
      .selectFrom('mpc_sessions')
      .selectAll()
      .where('purpose', '=', 'DESTROY')
      .where('share_set_id', 'in', shareSetIds)
      .orderBy('created_at')
      .orderBy('algorithm')
      .execute();
  const auditOf = (action: string) =>
    db()
      .selectFrom('audit_log')
      .select(['subject', 'details'])
      .where('action', '=', action)
      .orderBy('seq')
      .execute();
  const addSigner = async (name: string): Promise<Signer> => {
    const user = await createApiUser(p, name, 'SIGNER');
    const paired = await pairNewCosigner(p, admin, user.id, name);
    const party = {
      cosignerId: paired.cosignerId,
      accessToken: '',
      refreshToken: paired.refreshToken,
    };
    await reauthenticate(party);
    const s = { party, userId: user.id };
    signers.push(s);
    return s;
  };
  /** The reason a DESTROY session's signed authorization gives. */
  const reasonOf = (session: { signed_authorization: string | null }) =>
    decodeSignedDestroyAuthorization(Buffer.from(session.signed_authorization!, 'base64'))
      .authorization.reason;
  const unpairAsOwner = (s: Signer) =>
    p.app.services.cosigners.requestUnpair(p.owner, s.party.cosignerId, s.userId);

  beforeAll(async () => {
    p = await startTestPlatform({}, undefined, undefined, clock.now);
    admin = await createApiUser(p, 'destroy-admin', 'ADMIN');
    cloud = await registerClouds(p);
    // The first signer's share sets by KEYGEN, the second's by RESHARE.
    const first = await addSigner('destroy-signer-1');
    await finishShareSets([cloud[0]!, cloud[1]!, first.party], 1);
    const second = await addSigner('destroy-signer-2');
    await finishShareSets([cloud[0]!, cloud[1]!, first.party, second.party], 2, first.party);
    expect(await shareSetsOf(first.userId)).toHaveLength(2);
    expect(await shareSetsOf(second.userId)).toHaveLength(2);
  });
  afterAll(() => p.close());

  it("the Owner's unpair asks both clouds, in its own transaction, to destroy each share set", async () => {
    const second = signers[1]!;
    const sets = await shareSetsOf(second.userId);
    const ids = sets.map((s) => s.id);

    // A failure after the DESTROY sessions were written (the unpair's own audit entry) rolls
    // them back with the pairing's end: one transaction.
    const appendIn = p.app.services.audit.appendIn.bind(p.app.services.audit);
    const spy = vi
      .spyOn(p.app.services.audit, 'appendIn')
      .mockImplementation((trx, event) =>
        event.action === 'cosigner.api_key_unpaired'
          ? Promise.reject(new Error('audit unavailable'))
          : appendIn(trx, event),
      );
    await expect(unpairAsOwner(second)).rejects.toThrow('audit unavailable');
    spy.mockRestore();
    expect(await destroySessions(ids)).toEqual([]);
    expect((await shareSetsOf(second.userId)).map((s) => s.destruction_requested_at)).toEqual([
      null,
      null,
    ]);
    const pairing = () =>
      db()
        .selectFrom('cosigner_api_keys')
        .select('status')
        .where('api_user_id', '=', second.userId)
        .executeTakeFirstOrThrow();
    expect(await pairing()).toEqual({ status: 'PAIRED' });

    expect(await unpairAsOwner(second)).toMatchObject({ status: 'COMPLETED' });
    expect(await pairing()).toEqual({ status: 'UNPAIRED' });
    const sessions = await destroySessions(ids);
    expect(sessions.map((s) => s.share_set_id).sort()).toEqual([...ids].sort());
    const platformKey = await p.app.services.authorizationKey.publicKey();
    for (const session of sessions) {
      const shareSet = sets.find((s) => s.id === session.share_set_id)!;
      expect(session).toMatchObject({
        api_user_id: second.userId,
        algorithm: shareSet.algorithm,
        threshold: 2,
        status: 'OPEN',
      });
      // Long enough for a cloud down for maintenance to find it.
      expect(session.expires_at.getTime() - clock.now().getTime()).toBe(DESTROY_TTL_MS);
      const roster = decodeSignedRoster(Buffer.from(session.signed_roster, 'base64')).roster;
      expect(roster.purpose).toBe('DESTROY');
      expect(roster.parties.map((x) => [x.index, x.cosignerId])).toEqual([
        [1, cloud[0]!.cosignerId],
        [2, cloud[1]!.cosignerId],
      ]);
      const signed = decodeSignedDestroyAuthorization(
        Buffer.from(session.signed_authorization!, 'base64'),
      );
      expect(ed25519.verify(signed.signature, signed.signedBytes, platformKey)).toBe(true);
      expect({
        ...signed.authorization,
        sessionId: Buffer.from(signed.authorization.sessionId).toString('hex'),
      }).toEqual({
        sessionId: session.id,
        workspaceId: p.workspaceId,
        apiKeyId: second.userId,
        cosignerId: second.party.cosignerId,
        shareSetId: shareSet.id,
        algorithm: shareSet.algorithm,
        reason: 'UNPAIRED_BY_OWNER',
        expiresAt: session.expires_at.getTime(),
      });
    }
    // Only the clouds hold DESTROY jobs: the API co-signer's share is its own to destroy.
    const holders = await db()
      .selectFrom('cosigner_jobs')
      .select('cosigner_id')
      .where('type', '=', 'DESTROY')
      .where(
        'session_id',
        'in',
        sessions.map((s) => s.id),
      )
      .execute();
    expect(holders.map((h) => h.cosigner_id).sort()).toEqual(
      [
        cloud[0]!.cosignerId,
        cloud[0]!.cosignerId,
        cloud[1]!.cosignerId,
        cloud[1]!.cosignerId,
      ].sort(),
    );
    expect(
      (await auditOf('mpc.share_set_destruction_requested')).map((a) => a.subject).sort(),
    ).toEqual([...ids].sort());
    // Never live again: signing and reshares pick the first signer's share sets only.
    for (const algorithm of ['EDDSA_ED25519', 'ECDSA_SECP256K1'])
      await db()
        .transaction()
        .execute(async (trx) => {
          const live = await liveShareSets(trx, p.workspaceId, algorithm, clock.now(), {
            honourStops: false,
          });
          expect(live.map((s) => s.apiUserId)).toEqual([signers[0]!.userId]);
        });
  });

  it("each cloud's answer counts alone: a confirmation is recorded and audited, a refusal only fails that cloud's job", async () => {
    const second = signers[1]!;
    const ids = (await shareSetsOf(second.userId)).map((s) => s.id);
    const [jobs1, jobs2] = [await jobsOf(cloud[0]!), await jobsOf(cloud[1]!)];
    for (const jobs of [jobs1, jobs2]) {
      expect(jobs.map((j) => j.shareSetId).sort()).toEqual([...ids].sort());
      for (const job of jobs)
        expect(job).toMatchObject({
          type: 'DESTROY',
          workspaceId: p.workspaceId,
          apiKeyId: second.userId,
          threshold: 2,
        });
    }
    // A result of another kind is refused and changes nothing.
    const wrong = await call(cloud[0]!, 'POST', `/cosigner/v1/jobs/${jobs1[0]!.jobId}/result`, {
      leaseId: jobs1[0]!.leaseId,
      status: 'DONE',
      result: ROOT.EDDSA_ED25519,
    });
    expect(wrong.statusCode).toBe(400);
    // So is a confirmation of another share set than the session names (review L5).
    const other = await call(cloud[0]!, 'POST', `/cosigner/v1/jobs/${jobs1[0]!.jobId}/result`, {
      leaseId: jobs1[0]!.leaseId,
      status: 'DONE',
      result: { destroyedShareSetId: jobs1[1]!.shareSetId, heldUntilNow: true },
    });
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ message: expect.stringMatching(/another share set/) });
    // The session carries the authorization to its parties.
    const published = await call(cloud[1]!, 'GET', `/cosigner/v1/sessions/${jobs2[0]!.sessionId}`);
    expect(published.json()).toMatchObject({
      status: 'OPEN',
      signedAuthorization: expect.any(String),
    });

    // Cloud-2 refuses the first share set, then cloud-1 confirms both.
    const refused = jobs2.find((j) => j.shareSetId === ids[0])!;
    const res = await call(cloud[1]!, 'POST', `/cosigner/v1/jobs/${refused.jobId}/result`, {
      leaseId: refused.leaseId,
      status: 'FAILED',
      reason: 'ERR_COSIGNER_PLATFORM_RESPONSE: destroy authorization: signature does not verify',
    });
    expect(res.statusCode, res.body).toBe(200);
    for (const job of jobs1)
      await report(cloud[0]!, job, { destroyedShareSetId: job.shareSetId, heldUntilNow: true });
    await report(cloud[1]!, jobs2.find((j) => j.shareSetId === ids[1])!, {
      destroyedShareSetId: ids[1],
      heldUntilNow: true,
    });

    const sets = await shareSetsOf(second.userId);
    const byId = new Map(sets.map((s) => [s.id, s]));
    expect(byId.get(ids[0]!)).toMatchObject({
      cloud_1_destroyed_at: clock.now(),
      cloud_2_destroyed_at: null,
    });
    expect(byId.get(ids[1]!)).toMatchObject({
      cloud_1_destroyed_at: clock.now(),
      cloud_2_destroyed_at: clock.now(),
    });
    const statuses = Object.fromEntries(
      (await destroySessions(ids)).map((s) => [s.share_set_id, s.status]),
    );
    expect(statuses).toEqual({ [ids[0]!]: 'FAILED', [ids[1]!]: 'DONE' });
    const destroyed = await auditOf('mpc.share_set_destroyed');
    expect(destroyed).toHaveLength(3);
    expect(destroyed).toContainEqual({
      subject: ids[0],
      details: {
        shareSetId: ids[0],
        algorithm: byId.get(ids[0]!)!.algorithm,
        apiUserId: second.userId,
        cloud: 1,
        cosignerId: cloud[0]!.cosignerId,
        heldUntilNow: true,
      },
    });
    expect(await auditOf('mpc.share_set_destruction_failed')).toEqual([
      expect.objectContaining({
        subject: ids[0],
        details: expect.objectContaining({ cloud: 2, cosignerId: cloud[1]!.cosignerId }),
      }),
    ]);
    // A refusal is an alert for the operator, not retried.
    expect(await destroySessions(ids)).toHaveLength(2);
  });

  it('a share set made after its pairing ended is destroyed at once', async () => {
    const third = await addSigner('destroy-signer-3');
    // Its RESHARE sessions are open (dealt by the first signer) when the Owner unpairs it.
    await unpairAsOwner(third);
    expect(await shareSetsOf(third.userId)).toEqual([]);
    const dealer = signers[0]!.party;
    await finishShareSets([cloud[0]!, cloud[1]!, dealer, third.party], 3, dealer);
    const made = await shareSetsOf(third.userId);
    expect(made).toHaveLength(2);
    for (const s of made) expect(s.destruction_requested_at).toEqual(clock.now());
    const sessions = await destroySessions(made.map((s) => s.id));
    expect(sessions).toHaveLength(2);
    expect(sessions.map(reasonOf)).toEqual(['MADE_AFTER_UNPAIR', 'MADE_AFTER_UNPAIR']);
  });

  it('the Owner cannot unpair the last signer holding the root keys: refused when asked and when decided', async () => {
    const first = signers[0]!;
    const firstSets = async () =>
      (await shareSetsOf(first.userId)).map((s) => s.destruction_requested_at);
    // The second signer is gone (first case): the first holds the only share sets.
    await expect(unpairAsOwner(first)).rejects.toMatchObject({
      status: 409,
      code: 'ERR_LAST_SHARE_SETS',
      apiCode: 1316,
      message: expect.stringMatching(/ECDSA_SECP256K1 and EDDSA_ED25519 root key/),
    });
    expect(await firstSets()).toEqual([null, null]);

    // While a fourth signer holds share sets too, an admin may ask; the fourth leaves before the
    // Owner decides, and the decision refuses instead of destroying the keys.
    const fourth = await addSigner('destroy-signer-4');
    await finishShareSets([cloud[0]!, cloud[1]!, first.party, fourth.party], 4, first.party);
    expect(await shareSetsOf(fourth.userId)).toHaveLength(2);
    const asAdmin = {
      kind: 'api_user' as const,
      id: admin.id,
      workspaceId: p.workspaceId,
      role: 'ADMIN' as const,
      name: 'destroy-admin',
    };
    const asked = await p.app.services.cosigners.requestUnpair(
      asAdmin,
      first.party.cosignerId,
      first.userId,
    );
    expect(asked.status).toBe('WAITING_FOR_APPROVAL');
    await unpairAsOwner(fourth);
    const decided = await p.app.services.approvals.decide(p.owner, asked.requestId, 'APPROVE');
    expect(decided.status).toBe('REJECTED');
    const pairing = await db()
      .selectFrom('cosigner_api_keys')
      .select('status')
      .where('api_user_id', '=', first.userId)
      .executeTakeFirstOrThrow();
    expect(pairing.status).toBe('PAIRED');
    expect(await firstSets()).toEqual([null, null]);
    const refused = (await auditOf('approval_request.rejected')).filter(
      (e) => e.subject === asked.requestId,
    );
    expect(refused).toHaveLength(1);
    expect(JSON.stringify(refused[0]!.details)).toMatch(/only complete share sets/);
  });

  it("the co-signer's own unpair asks the same, once; an expired DESTROY is offered again; pairing again makes nothing live", async () => {
    const first = signers[0]!;
    const ids = (await shareSetsOf(first.userId)).map((s) => s.id);
    const url = `/cosigner/v1/api_keys/${first.userId}/unpair`;
    expect((await call(first.party, 'POST', url)).statusCode).toBe(200);
    expect((await call(first.party, 'POST', url)).statusCode).toBe(200);
    const sessions = await destroySessions(ids);
    expect(sessions).toHaveLength(2);
    expect(sessions.map(reasonOf)).toEqual(['UNPAIRED_BY_COSIGNER', 'UNPAIRED_BY_COSIGNER']);

    // The clouds stay away past the deadline: a fresh session and authorization, same reason.
    clock.advance(DESTROY_TTL_MS);
    await p.app.services.cosignerJobs.expireSessions();
    const after = await destroySessions(ids);
    expect(after.map((s) => s.status).sort()).toEqual(['EXPIRED', 'EXPIRED', 'OPEN', 'OPEN']);
    const reoffered = after.filter((x) => x.status === 'OPEN');
    expect(reoffered.map(reasonOf)).toEqual(['UNPAIRED_BY_COSIGNER', 'UNPAIRED_BY_COSIGNER']);
    // A fresh authorization: its expiry is the new session's deadline.
    for (const s of reoffered)
      expect(s.expires_at.getTime()).toBe(clock.now().getTime() + DESTROY_TTL_MS);
    // The third signer's share sets were waiting too; both clouds come back and confirm all.
    for (const who of cloud) await reauthenticate(who);
    for (const who of cloud)
      for (const job of await jobsOf(who))
        await report(who, job, { destroyedShareSetId: job.shareSetId, heldUntilNow: false });
    for (const s of await shareSetsOf(first.userId)) {
      expect(s.cloud_1_destroyed_at).not.toBeNull();
      expect(s.cloud_2_destroyed_at).not.toBeNull();
    }
    expect(await destroySessions(ids)).toHaveLength(4);

    // The same API user paired to the same co-signer again: its old share sets stay dead.
    expect(
      await p.app.services.cosigners.requestPair(p.owner, first.party.cosignerId, first.userId),
    ).toMatchObject({ status: 'COMPLETED' });
    for (const algorithm of ['EDDSA_ED25519', 'ECDSA_SECP256K1'])
      await db()
        .transaction()
        .execute(async (trx) => {
          expect(
            await liveShareSets(trx, p.workspaceId, algorithm, clock.now(), { honourStops: false }),
          ).toEqual([]);
        });
  });
});
