/**
 * A co-signer driven by hand through the co-signer protocol (`/cosigner/v1`): its access token,
 * the relay calls a daemon makes, and the registration of the operator's two cloud co-signers.
 * For tests that play the parties' results without running MPC.
 */
import type { LightMyRequestResponse } from 'fastify';
import { newIdentity, pair, refresh } from './cosigner.js';
import type { TestPlatform } from './test-platform.js';

export interface RelayParty {
  cosignerId: string;
  accessToken: string;
  /** Kept by parties that must authenticate again later (a fake clock moved past the token). */
  refreshToken?: string;
}

/** A leased job as `GET /cosigner/v1/work` answers it. */
export interface RelayJob {
  jobId: string;
  type: string;
  leaseId: string;
  sessionId: string;
  workspaceId: string;
  algorithm: string;
  shareSetId: string;
  threshold: number;
  apiKeyId: string;
  /** Leased while still held (a poll with `held=true`). */
  held?: true;
}

export interface RelayCalls {
  call: (
    who: RelayParty,
    method: 'GET' | 'POST',
    url: string,
    payload?: object,
  ) => Promise<LightMyRequestResponse>;
  /** Leases every job available to `who` now. */
  jobsOf: (who: RelayParty) => Promise<RelayJob[]>;
  /** A fresh access token from the party's refresh token (rotating it), as a daemon does. */
  reauthenticate: (who: RelayParty) => Promise<void>;
}

/** `platform` is read at each call: a describe block builds these before its platform starts. */
export function relayCalls(platform: () => TestPlatform): RelayCalls {
  const call: RelayCalls['call'] = (who, method, url, payload) =>
    platform().app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${who.accessToken}` },
      ...(payload ? { payload: payload as Record<string, unknown> } : {}),
    });
  return {
    call,
    jobsOf: async (who) => {
      const jobs: RelayJob[] = [];
      for (;;) {
        const answer = await call(who, 'GET', '/cosigner/v1/work?wait=0');
        const job = answer.json<{ jobs: RelayJob[] }>().jobs[0];
        if (!job) return jobs;
        jobs.push(job);
      }
    },
    reauthenticate: async (who) => {
      if (who.refreshToken === undefined) throw new Error('this party kept no refresh token');
      const body = (await refresh(platform(), who.refreshToken)).json<{
        accessToken: string;
        refreshToken: string;
      }>();
      who.accessToken = body.accessToken;
      who.refreshToken = body.refreshToken;
    },
  };
}

/** Registers cloud co-signers in slots 1 and 2 with operator tokens; authenticated, in order. */
export async function registerClouds(p: TestPlatform): Promise<RelayParty[]> {
  const { reauthenticate } = relayCalls(() => p);
  const clouds: RelayParty[] = [];
  for (const slot of [1, 2] as const) {
    const { token } = await p.app.services.cloudCosigners.issueToken(slot);
    const res = await pair(p, {
      pairingToken: token,
      identity: newIdentity(),
      cosignerName: `cloud-${slot}`,
      version: '0.1.0',
    });
    const body = res.json<{ cosignerId: string; refreshToken: string }>();
    const cloud = { cosignerId: body.cosignerId, accessToken: '', refreshToken: body.refreshToken };
    await reauthenticate(cloud);
    clouds.push(cloud);
  }
  return clouds;
}

/** The session a transaction's only message is signing in, and how many it has had. */
export function messageSession(
  p: TestPlatform,
  transactionId: string,
): Promise<{ session_id: string | null; attempts: number }> {
  return p.app.services.database.db
    .selectFrom('transaction_messages')
    .select(['session_id', 'attempts'])
    .where('transaction_id', '=', transactionId)
    .executeTakeFirstOrThrow();
}

/**
 * A KEYGEN session of EdDSA among `cosignerIds` (parties 1..n, all needed), created as an
 * orchestrator would, in its own database transaction, and announced to no one: a test that
 * wants the parties' polls woken calls `mpcSessions.announce` itself. Its id.
 */
export function keygenSession(
  p: TestPlatform,
  spec: {
    apiUserId: string;
    shareSetId: string;
    cosignerIds: readonly string[];
    workspaceId?: string;
    ttlMs?: number;
    offerAfterMs?: number;
  },
): Promise<string> {
  return p.app.services.database.db.transaction().execute((trx) =>
    p.app.services.mpcSessions.create(trx, {
      workspaceId: spec.workspaceId ?? p.workspaceId,
      apiUserId: spec.apiUserId,
      purpose: 'KEYGEN',
      algorithm: 'EDDSA_ED25519',
      shareSetId: spec.shareSetId,
      threshold: spec.cosignerIds.length,
      parties: spec.cosignerIds.map((cosignerId, i) => ({ index: i + 1, cosignerId })),
      ttlMs: spec.ttlMs ?? 10 * 60_000,
      ...(spec.offerAfterMs === undefined ? {} : { offerAfterMs: spec.offerAfterMs }),
    }),
  );
}
