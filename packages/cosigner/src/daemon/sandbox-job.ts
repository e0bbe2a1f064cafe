/**
 * The communal test co-signer (platform docs/sandbox.md): an API co-signer the operator runs for
 * every sandbox workspace. The platform pairs its API keys itself — a sandbox signer is paired the
 * moment it is created, with no pairing token this co-signer could have asked for — so it learns
 * them from the platform's list of its pairings (`GET /cosigner/v1/api_keys`), which says for each
 * whether its workspace is a sandbox.
 *
 * Before any job it checks that list: the job's API key must be PAIRED to it, in the job's
 * workspace, and that workspace a sandbox. Anything else is refused before a roster is read. The
 * platform offers it nothing else (its lease query filters on the same flag), so a refusal here
 * means a platform bug, caught before the operator — who also runs both Cloud Co-signers — could
 * hold every share of a production key. Against a platform that lies, this check adds nothing:
 * the list and the job come from the same place, and the rosters name no workspace kind. There
 * the guard is the production workspace's own co-signer, which deals no reshare to a co-signer
 * its pairing did not name (docs/pairing.md "Later signers").
 * @module
 */
import type { LeasedJob } from '@countersign/protocol';
import { CosignerError } from '../errors.js';
import type { JobContext } from './job-context.js';

/** Refuses a job that is not a sandbox workspace's; records a newly paired API key. */
export async function assertSandboxJob(ctx: JobContext, job: LeasedJob): Promise<void> {
  const known = ctx.store.pairedApiKeys.getPairedApiKey(job.apiKeyId);
  if (known !== undefined && known.unpairedAt !== null)
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `API key ${job.apiKeyId} was unpaired here`,
    });
  const listed = await ctx.client.apiKeys(await ctx.accessToken());
  const pairing = listed.apiKeys.find(
    (k) =>
      k.apiKeyId === job.apiKeyId && k.workspaceId === job.workspaceId && k.status === 'PAIRED',
  );
  if (pairing === undefined)
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `API key ${job.apiKeyId} is not paired here in workspace ${job.workspaceId}`,
    });
  if (!pairing.workspaceSandbox)
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `workspace ${job.workspaceId} is not a sandbox: the communal test co-signer serves sandboxes only`,
    });
  // Read again after the await: the key's other jobs (both algorithms' KEYGEN) run at once, and
  // this read and the write below run with no await between them.
  if (ctx.store.pairedApiKeys.getPairedApiKey(job.apiKeyId) === undefined)
    ctx.store.pairedApiKeys.addPairedApiKey({
      apiKeyId: job.apiKeyId,
      cosignerId: listed.cosignerId,
      platformUrl: ctx.client.baseUrl,
    });
}
