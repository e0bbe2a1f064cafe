/**
 * One DESTROY job (ARCHITECTURE §3 "Unpair → cloud-1 and cloud-2 destroy their shares of that
 * set"), for a Cloud Co-signer only: the pairing of the share set's API key ended, and the
 * platform orders this cloud to destroy its share.
 *
 * 1. Verify the roster (purpose DESTROY, this session and share set, this party exactly once)
 *    and the destroy authorization (destroy-authorization.ts) against the pinned platform key.
 * 2. A share set this store never held, or destroyed before, is reported as such: the job is
 *    idempotent (a re-offered lease, a second order). One held for another API key or of another
 *    algorithm than the authorization names is refused, the store untouched.
 * 3. Destroy the share durably (share-set-repository.ts: a tombstone row stays, the sealed share
 *    and the set's presignatures are gone) before reporting.
 *
 * What the cloud must trust: that the pairing really ended. It cannot check — that is the
 * platform's record — so a platform that forges the order can only make shares disappear (the
 * signer is paired again and gets a new share set), never obtain or use one. An API co-signer
 * destroys its shares only on `cosigner unpair` (unpair-api-key.ts) and refuses such a job.
 * @module
 */
import type { DestroyResult, LeasedJob } from '@countersign/protocol';
import { CosignerError, isCosignerError } from '../errors.js';
import { verifyDestroyAuthorization } from './destroy-authorization.js';
import type { JobContext } from './job-context.js';
import { publishedSession } from './published-session.js';

export async function runDestroyJob(ctx: JobContext, job: LeasedJob): Promise<DestroyResult> {
  if (ctx.mode !== 'cloud')
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'an API co-signer takes no DESTROY job: it destroys its shares on cosigner unpair',
    });
  const { published } = await publishedSession(ctx, job, 'DESTROY');
  const authorization = verifyDestroyAuthorization(
    published.signedAuthorization,
    job,
    ctx.platformKey,
  );
  const shareSetId = authorization.shareSetId;
  const notHeld: DestroyResult = { destroyedShareSetId: shareSetId, heldUntilNow: false };
  const record = ctx.store.shareSets.getShareSet(shareSetId);
  if (record === undefined || record.destroyedAt !== null) return notHeld;
  if (record.apiKeyId !== authorization.apiKeyId || record.algorithm !== authorization.algorithm)
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'destroy authorization: the share set held here is of another API key or algorithm',
    });
  try {
    ctx.store.shareSets.destroyShareSet(shareSetId);
  } catch (error) {
    // Destroyed meanwhile by a concurrent order for the same share set: the outcome is the same.
    if (isCosignerError(error, 'ERR_COSIGNER_NOT_FOUND')) return notHeld;
    throw error;
  }
  return { destroyedShareSetId: shareSetId, heldUntilNow: true };
}
