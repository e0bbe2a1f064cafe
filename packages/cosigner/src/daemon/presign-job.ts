/**
 * One PRESIGN job (ARCHITECTURE §3 "Presignatures"): ahead of any message, make one DKLs23
 * presignature with this party's share of an ECDSA share set — or one FROST nonce set of an
 * EdDSA share set (frost-preprocess.ts, docs/decisions/0006) — and pool it in the store until a
 * SIGN session's authorization names this session (sign-job.ts).
 *
 * FROST preprocessing needs no slot, ban or sid claim: its commitments are fresh nonces each
 * time, and a run repeated after a crash yields a commitment list the other parties do not hold,
 * which the platform sees (the ids differ) and never names.
 *
 * Presigning signs nothing, so no Callback Handler is asked; what it risks is the same as an
 * inline presign's — a cheating peer probing the OT setups — so it runs under the same
 * per-share-set slots and ban (dkls23-ban.ts), and its sid is claimed durably in the store
 * before the session exists: a re-offered job after a crash fails instead of running twice.
 * The pooled copy is sealed under the session id and share set (presignature-repository.ts);
 * the pool keeps at most POOLED_PER_SHARE_SET, so entries nobody will name (a session that failed
 * after this party finished) cannot grow it without bound.
 * @module
 */
import { createHash } from 'node:crypto';
import {
  exportFrostNonceSet,
  exportPresignature,
  frostCommitmentList,
  frostNonceSetCommitmentList,
  importDkls23KeyShare,
  importKeyShare,
  presignatureId,
  shareSetId,
  wipeDkls23KeyShare,
  wipeFrostNonceSet,
  wipeKeyShare,
  wipePresignature,
  type FrostNonceSet,
} from '@countersign/mpc';
import type { LeasedJob, PresignResult } from '@countersign/protocol';
import type { VerifiedRoster } from '../channel/roster.js';
import { CosignerError } from '../errors.js';
import { assertPresignAllowed } from './dkls23-ban.js';
import { presignOverRelay } from './dkls23-presign.js';
import { crashPoint } from './crash-points.js';
import { preprocessOverRelay } from './frost-preprocess.js';
import { assertHeldShareSet } from './held-share-set.js';
import type { JobContext } from './job-context.js';
import { publishedSession } from './published-session.js';

/**
 * Pooled entries kept per share set: above the platform's largest pool (64) plus the two it may
 * have in the making, so a trim never drops one the platform holds READY (8 by default).
 */
export const POOLED_PER_SHARE_SET = 80;

/** The result every party of the session reports: the mpc id of the pooled presignature. */
function pooledAs(mpcShareSetId: Uint8Array, sid: Uint8Array): PresignResult {
  return {
    presignatureId: Buffer.from(presignatureId({ shareSetId: mpcShareSetId, sid })).toString('hex'),
  };
}

/** EdDSA: every party reports the same commitment list, and its SHA-256 as the id. */
function committedAs(nonceSet: FrostNonceSet): PresignResult {
  return reportOf(frostCommitmentList(nonceSet));
}

/** The report of a nonce set whose commitment list is `list`: the list and its SHA-256, hex. */
function reportOf(list: Uint8Array): PresignResult {
  return {
    presignatureId: createHash('sha256').update(list).digest('hex'),
    commitments: Buffer.from(list).toString('hex'),
  };
}

export async function runPresignJob(ctx: JobContext, job: LeasedJob): Promise<PresignResult> {
  const { sid, roster } = await publishedSession(ctx, job, 'PRESIGN');
  assertHeldShareSet(ctx, job);
  // The pool's id: the verified sid, in the form the SIGN job names it.
  const poolId = Buffer.from(sid).toString('hex');
  if (job.algorithm === 'EDDSA_ED25519') return preprocessJob(ctx, job, roster, sid, poolId);
  return ctx.presignSlots.run(
    job.shareSetId,
    async () => {
      assertPresignAllowed(ctx.store, job.shareSetId);
      const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
      const keyShare = importDkls23KeyShare(bytes);
      bytes.fill(0);
      try {
        // Pooled before a crash kept the report from leaving: report it again, not a second run
        // (which the sid claim would refuse, orphaning every party's copy). Presignature pool
        // review L4.
        if (ctx.store.presignatures.holdsPresignature(job.shareSetId, poolId))
          return pooledAs(shareSetId(keyShare), sid);
        const { result: presignature } = await presignOverRelay(ctx, job, roster, sid, keyShare);
        const encoded = exportPresignature(presignature);
        try {
          ctx.store.presignatures.addPresignatures(job.shareSetId, [
            { id: poolId, presignature: encoded },
          ]);
        } finally {
          encoded.fill(0);
          wipePresignature(presignature);
        }
        crashPoint('presign:pooled');
        ctx.store.presignatures.keepNewestPresignatures(job.shareSetId, POOLED_PER_SHARE_SET);
        return pooledAs(presignature.shareSetId, sid);
      } finally {
        wipeDkls23KeyShare(keyShare);
      }
    },
    ctx.signal,
  );
}

async function preprocessJob(
  ctx: JobContext,
  job: LeasedJob,
  roster: VerifiedRoster,
  sid: Uint8Array,
  poolId: string,
): Promise<PresignResult> {
  // Pooled before a crash kept the report from leaving: report it again (presignature pool
  // review L4). The opened set is read for its public commitment list only: its nonces are
  // neither decoded nor copied, and the set stays in the pool (pooled EdDSA review L4).
  if (ctx.store.presignatures.holdsPresignature(job.shareSetId, poolId))
    return reportOf(
      ctx.store.presignatures.peekPublicPart(job.shareSetId, poolId, frostNonceSetCommitmentList),
    );
  // An id the store knows otherwise (spent here, or another share set's) could never be pooled:
  // refused before a round whose nonce set could not be kept (nonce set public part review I3).
  if (ctx.store.presignatures.getPresignatureState(poolId) !== undefined)
    throw new CosignerError('ERR_COSIGNER_CONFLICT', {
      detail: `presignature ${poolId} is known to this store already`,
    });
  const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
  const keyShare = importKeyShare(bytes);
  bytes.fill(0);
  let nonceSet: FrostNonceSet | undefined;
  try {
    nonceSet = await preprocessOverRelay(ctx, job, roster, sid, keyShare);
    const encoded = exportFrostNonceSet(nonceSet);
    try {
      ctx.store.presignatures.addPresignatures(job.shareSetId, [
        { id: poolId, presignature: encoded },
      ]);
    } finally {
      encoded.fill(0);
    }
    crashPoint('presign:pooled');
    ctx.store.presignatures.keepNewestPresignatures(job.shareSetId, POOLED_PER_SHARE_SET);
    return committedAs(nonceSet);
  } finally {
    if (nonceSet !== undefined) wipeFrostNonceSet(nonceSet);
    wipeKeyShare(keyShare);
  }
}
