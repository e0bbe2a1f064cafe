/**
 * The share set a job names, as this party holds it: refused unless the store has it live, for
 * the job's algorithm and API key — a platform cannot point one API key's job at another's share.
 * @module
 */
import type { LeasedJob } from '@countersign/protocol';
import { CosignerError } from '../errors.js';
import type { JobContext } from './job-context.js';

export function assertHeldShareSet(ctx: JobContext, job: LeasedJob): void {
  const stored = ctx.store.shareSets.getShareSet(job.shareSetId);
  if (
    stored === undefined ||
    stored.algorithm !== job.algorithm ||
    stored.apiKeyId !== job.apiKeyId
  )
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `no ${job.algorithm} share set ${job.shareSetId} for this API user`,
    });
}
