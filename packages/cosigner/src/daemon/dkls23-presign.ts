/**
 * One DKLs23 presigning over the relay, as both a PRESIGN job (ahead of time) and a SIGN job
 * (inline) run it: the sid is claimed durably in the store before the session exists
 * (`dkls23Presign`), and a failed OT check's ban is durable before the error goes on
 * (dkls23-ban.ts, review M2). Call it inside the share set's presign slot, with the share read
 * there after `assertPresignAllowed`.
 * @module
 */
import {
  Dkls23CheckError,
  dkls23Presign,
  type Dkls23KeyShare,
  type Dkls23Presignature,
} from '@countersign/mpc';
import type { LeasedJob } from '@countersign/protocol';
import type { VerifiedRoster } from '../channel/roster.js';
import { persistDkls23Ban } from './dkls23-ban.js';
import type { JobContext } from './job-context.js';
import { runOverRelay } from './relay-session.js';

export async function presignOverRelay(
  ctx: JobContext,
  job: LeasedJob,
  roster: VerifiedRoster,
  sid: Uint8Array,
  keyShare: Dkls23KeyShare,
): Promise<{ result: Dkls23Presignature; after: number }> {
  const session = await dkls23Presign({
    sid,
    keyShare,
    signers: roster.indices,
    registry: ctx.store.presignSessions,
  });
  try {
    return await runOverRelay(ctx, job, roster, session);
  } catch (error) {
    if (error instanceof Dkls23CheckError) persistDkls23Ban(ctx.store, job.shareSetId, error);
    throw error;
  }
}
