/**
 * One PRESIGN job (ARCHITECTURE §3 "Presignatures"): make one DKLs23 presignature with this
 * party's share of an ECDSA share set, ahead of any message, and pool it in the store until a
 * SIGN session's authorization names this session (sign-job.ts).
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
import {
  exportPresignature,
  importDkls23KeyShare,
  presignatureId,
  shareSetId,
  wipeDkls23KeyShare,
  wipePresignature,
} from '@countersign/mpc';
import type { LeasedJob, PresignResult } from '@countersign/protocol';
import { CosignerError } from '../errors.js';
import { assertPresignAllowed } from './dkls23-ban.js';
import { presignOverRelay } from './dkls23-presign.js';
import { crashPoint } from './crash-points.js';
import { assertHeldShareSet } from './held-share-set.js';
import type { JobContext } from './job-context.js';
import { publishedSession } from './published-session.js';

/** Pooled presignatures kept per share set; the platform asks for far fewer (8 by default). */
export const POOLED_PER_SHARE_SET = 64;

/** The result every party of the session reports: the mpc id of the pooled presignature. */
function pooledAs(mpcShareSetId: Uint8Array, sid: Uint8Array): PresignResult {
  return {
    presignatureId: Buffer.from(presignatureId({ shareSetId: mpcShareSetId, sid })).toString('hex'),
  };
}

export async function runPresignJob(ctx: JobContext, job: LeasedJob): Promise<PresignResult> {
  if (job.algorithm !== 'ECDSA_SECP256K1')
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: `${job.algorithm} does not presign`,
    });
  const { sid, roster } = await publishedSession(ctx, job, 'PRESIGN');
  assertHeldShareSet(ctx, job);
  // The pool's id: the verified sid, in the form the SIGN job names it.
  const poolId = Buffer.from(sid).toString('hex');
  return ctx.presignSlots.run(
    job.shareSetId,
    async () => {
      assertPresignAllowed(ctx.store, job.shareSetId);
      const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
      const keyShare = importDkls23KeyShare(bytes);
      bytes.fill(0);
      try {
        // Pooled before a crash kept the report from leaving: report it again, not a second run
        // (which the sid claim would refuse, orphaning every party's copy). Review L4.
        if (ctx.store.presignatures.getPresignatureState(poolId) === 'AVAILABLE')
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
