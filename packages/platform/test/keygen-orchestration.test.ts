/**
 * Cloud co-signers and KEYGEN orchestration: the operator registers slots 1 and 2 with single-use
 * cloud pairing tokens; a workspace's first paired signer gets one 3-of-3 KEYGEN session per
 * algorithm among {cloud-1, cloud-2, its co-signer}, one job per party; the root keys are recorded
 * once every party reports the same public key; a failed attempt is retried with a new session.
 */
import { decodeSignedRoster } from '@countersign/protocol';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newIdentity,
  pair,
  pairNewCosigner,
  refresh,
  type TestIdentity,
} from './helpers/cosigner.js';
import { testKey } from './helpers/keys.js';
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
  leaseId: string;
  sessionId: string;
  algorithm: string;
  threshold: number;
  apiKeyId: string;
}

describe('cloud co-signers and KEYGEN', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  const cloud: Party[] = [];
  let signer: Party;
  let signerIdentity: TestIdentity;
  let signerUserId: string;

  const call = (who: Party, method: 'GET' | 'POST', url: string, payload?: object) =>
    p.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${who.accessToken}` },
      ...(payload ? { payload: payload as Record<string, unknown> } : {}),
    });

  const accessFor = async (refreshToken: string): Promise<string> =>
    (await refresh(p, refreshToken)).json<{ accessToken: string }>().accessToken;

  const registerCloud = async (token: string): Promise<LightMyRequestResponse> =>
    pair(p, {
      pairingToken: token,
      identity: newIdentity(),
      cosignerName: 'cloud',
      version: '0.1.0',
    });

  const keygenSessions = () =>
    p.app.services.database.db
      .selectFrom('mpc_sessions')
      .selectAll()
      .where('workspace_id', '=', p.workspaceId)
      .where('purpose', '=', 'KEYGEN')
      .orderBy('created_at')
      .execute();

  const jobsOf = async (who: Party): Promise<Job[]> => {
    const jobs: Job[] = [];
    for (;;) {
      const res = await call(who, 'GET', '/cosigner/v1/work?wait=0');
      const job = res.json<{ jobs: Job[] }>().jobs[0];
      if (!job) return jobs;
      jobs.push(job);
    }
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'keygen-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  it('a signer paired before the cloud co-signers exist waits; registering both starts KEYGEN', async () => {
    const user = await createApiUser(p, 'keygen-signer', 'SIGNER');
    signerUserId = user.id;
    const paired = await pairNewCosigner(p, admin, user.id);
    signer = { cosignerId: paired.cosignerId, accessToken: await accessFor(paired.refreshToken) };
    signerIdentity = paired.identity;
    expect(await keygenSessions()).toEqual([]);

    for (const slot of [1, 2] as const) {
      const { token } = await p.app.services.cloudCosigners.issueToken(slot);
      expect(token).toMatch(/^cscp_[A-Za-z0-9_-]{43}$/);
      const res = await registerCloud(token);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ cosignerId: string; apiKeyId: string; refreshToken: string }>();
      expect(body.apiKeyId).toBe(body.cosignerId);
      cloud.push({ cosignerId: body.cosignerId, accessToken: await accessFor(body.refreshToken) });
      // Single use.
      expect((await registerCloud(token)).statusCode).toBe(401);
    }
    const row = await p.app.services.database.db
      .selectFrom('cosigners')
      .select(['mode', 'workspace_id', 'cloud_slot'])
      .where('id', '=', cloud[0]!.cosignerId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ mode: 'CLOUD', workspace_id: null, cloud_slot: 1 });

    const sessions = await keygenSessions();
    expect(sessions.map((s) => s.algorithm).sort()).toEqual(['ECDSA_SECP256K1', 'EDDSA_ED25519']);
    for (const s of sessions) {
      const roster = decodeSignedRoster(Buffer.from(s.signed_roster, 'base64')).roster;
      expect(roster.purpose).toBe('KEYGEN');
      expect(roster.shareSetId).toBe(s.share_set_id);
      expect(roster.parties.map((x) => [x.index, x.cosignerId])).toEqual([
        [1, cloud[0]!.cosignerId],
        [2, cloud[1]!.cosignerId],
        [3, signer.cosignerId],
      ]);
      expect(s.threshold).toBe(3);
    }
  });

  it('refuses a second co-signer for a taken slot, and garbage tokens', async () => {
    const { token } = await p.app.services.cloudCosigners.issueToken(1);
    const res = await registerCloud(token);
    expect(res.statusCode).toBe(409);
    expect((await registerCloud(`cscp_${'A'.repeat(43)}`)).statusCode).toBe(401);
  });

  it('every party gets one KEYGEN job per algorithm; agreeing results record the root keys', async () => {
    const all = [cloud[0]!, cloud[1]!, signer];
    const jobs = await Promise.all(all.map(jobsOf));
    for (const list of jobs) {
      expect(list.map((j) => j.algorithm).sort()).toEqual(['ECDSA_SECP256K1', 'EDDSA_ED25519']);
      for (const j of list) expect(j).toMatchObject({ threshold: 3, apiKeyId: signerUserId });
    }
    const keyOf = (algorithm: string) => (algorithm === 'EDDSA_ED25519' ? '11' : '22').repeat(32);
    // EdDSA: everyone agrees. ECDSA: the signer's co-signer reports another key.
    for (const [i, list] of jobs.entries()) {
      for (const j of list) {
        const publicKey =
          j.algorithm === 'ECDSA_SECP256K1' && i === 2 ? '33'.repeat(32) : keyOf(j.algorithm);
        const res = await call(all[i]!, 'POST', `/cosigner/v1/jobs/${j.jobId}/result`, {
          leaseId: j.leaseId,
          status: 'DONE',
          result: { publicKey, chainCode: 'cc'.repeat(32) },
        });
        expect(res.statusCode, res.body).toBe(200);
      }
    }
    const rootKeys = await p.app.services.database.db
      .selectFrom('root_keys')
      .select(['algorithm', 'public_key', 'chain_code'])
      .where('workspace_id', '=', p.workspaceId)
      .execute();
    expect(rootKeys).toEqual([
      {
        algorithm: 'EDDSA_ED25519',
        public_key: keyOf('EDDSA_ED25519'),
        chain_code: 'cc'.repeat(32),
      },
    ]);
    const ecdsa = (await keygenSessions()).filter((s) => s.algorithm === 'ECDSA_SECP256K1');
    expect(ecdsa.map((s) => s.status)).toEqual(['FAILED']);
  });

  it('a failed KEYGEN attempt is retried with a fresh session; a later signer starts none', async () => {
    // The disagreement failed the session without a retry; a party failure retries.
    await p.app.services.database.db.transaction().execute(async (trx) => {
      await p.app.services.keygen.ensureForWorkspace(trx, p.workspaceId);
    });
    let ecdsa = (await keygenSessions()).filter((s) => s.algorithm === 'ECDSA_SECP256K1');
    expect(ecdsa.map((s) => s.status)).toEqual(['FAILED', 'OPEN']);
    const [job] = (await jobsOf(cloud[0]!)).filter((j) => j.sessionId === ecdsa[1]!.id);
    const failed = await call(cloud[0]!, 'POST', `/cosigner/v1/jobs/${job!.jobId}/result`, {
      leaseId: job!.leaseId,
      status: 'FAILED',
      reason: 'ERR_CHANNEL_SIGNATURE_INVALID',
    });
    expect(failed.statusCode).toBe(200);
    ecdsa = (await keygenSessions()).filter((s) => s.algorithm === 'ECDSA_SECP256K1');
    expect(ecdsa.map((s) => s.status)).toEqual(['FAILED', 'FAILED', 'OPEN']);
    expect(new Set(ecdsa.map((s) => s.share_set_id)).size).toBe(3);

    const second = await createApiUser(p, 'keygen-signer-2', 'SIGNER');
    await pairNewCosigner(p, admin, second.id);
    expect((await keygenSessions()).length).toBe(4);
  });

  it("another workspace's first signer paired to an existing co-signer gets KEYGEN once the Owner approves", async () => {
    const { services } = p.app;
    const ws2 = await services.workspaces.create({ name: 'Second', ownerEmail: 'o2@example.test' });
    const key = await testKey('keygen-ws2-signer');
    const user = await services.apiUsers.create(ws2.owner, {
      name: 'ws2-signer',
      role: 'SIGNER',
      csrPem: key.csrPem,
    });
    const { pairingToken } = await services.pairing.issuePairingToken(ws2.owner, user.user.id);
    const res = await pair(
      p,
      {
        pairingToken,
        identity: signerIdentity,
        cosignerName: 'shared co-signer',
        version: '0.1.0',
        cosignerId: signer.cosignerId,
      },
      signer.accessToken,
    );
    expect(res.statusCode, res.body).toBe(202);
    const ws2Sessions = () =>
      services.database.db
        .selectFrom('mpc_sessions')
        .select(['algorithm', 'api_user_id'])
        .where('workspace_id', '=', ws2.workspaceId)
        .execute();
    expect(await ws2Sessions()).toEqual([]);
    await services.approvals.decide(
      ws2.owner,
      res.json<{ requestId: string }>().requestId,
      'APPROVE',
    );
    const started = await ws2Sessions();
    expect(started.map((s) => s.algorithm).sort()).toEqual(['ECDSA_SECP256K1', 'EDDSA_ED25519']);
    for (const s of started) expect(s.api_user_id).toBe(user.user.id);
  });
});
