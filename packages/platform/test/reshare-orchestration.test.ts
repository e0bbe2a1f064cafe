/**
 * RESHARE orchestration (ARCHITECTURE §3 "Next signer"): once the root keys exist, each later
 * signer gets one RESHARE session per algorithm — dealers {cloud-1, cloud-2, an existing signer},
 * receivers {cloud-1, cloud-2, the new signer at a fresh index} — with a signed roster and a
 * signed reshare authorization naming the Owner's approval; the new share set is recorded only
 * if every party reports the root key unchanged (else refused and audited); a failed attempt
 * falls back to another existing signer; signing then uses the first available signer.
 * The parties are driven through the co-signer protocol by hand (results only, no MPC).
 */
import {
  decodeSignedReshareAuthorization,
  decodeSignedRoster,
  type KeygenResult,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIdentity, pair, pairNewCosigner, refresh } from './helpers/cosigner.js';
import {
  createApiUser,
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
    for (const slot of [1, 2] as const) {
      const { token } = await p.app.services.cloudCosigners.issueToken(slot);
      const res = await pair(p, {
        pairingToken: token,
        identity: newIdentity(),
        cosignerName: `cloud-${slot}`,
        version: '0.1.0',
      });
      const body = res.json<{ cosignerId: string; refreshToken: string }>();
      cloud.push({ cosignerId: body.cosignerId, accessToken: await accessFor(body.refreshToken) });
    }
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
        await report(who, job, i === 2 ? result : { ...result, shareSet: shareSetHex('b2') });
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
      public_share_set: shareSetHex('b2'),
    });
    expect((await shareSets()).filter((s) => s.api_user_id === second!.userId)).toHaveLength(1);
    const alerts = await p.app.services.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('workspace_id', '=', p.workspaceId)
      .where('action', '=', 'mpc.reshare_key_mismatch')
      .execute();
    expect(alerts).toHaveLength(1);
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
});
