/**
 * One KEYGEN job (ARCHITECTURE §3, §5): verify the platform-signed roster against the pinned
 * platform key (this party exactly once, every party's keys valid and distinct, the job's
 * session, share set and purpose), run the DKG over the relay — FROST for EDDSA_ED25519, DKLs23
 * for ECDSA_SECP256K1 — with every point-to-point payload sealed and every message signed by the
 * secure channel, store the share sealed with the roster's parties (the pin every later roster
 * of the share set must match, pinned-parties.ts), then report the public key.
 *
 * Parameters that decide who can rebuild the key (parties, threshold) come from the verified
 * roster only; the job's threshold must agree with it. Any message the channel refuses aborts
 * the session: the relay is the only path, so a refused message means the relay (or a party)
 * misbehaves, and the platform retries with a fresh session. The share is stored before the
 * result is reported, so a crash in between is answered from the store on the next lease.
 * @module
 */
import {
  dkg,
  dkls23Dkg,
  encodePublicShareSet,
  exportDkls23KeyShare,
  exportKeyShare,
  wipeDkls23KeyShare,
  wipeKeyShare,
  publicShareSet,
  type Dkls23KeyShare,
  type KeyShare,
  type Session,
} from '@countersign/mpc';
import type { LeasedJob } from '@countersign/protocol';
import { CosignerError } from '../errors.js';
import type { ShareSetParty } from '../store/share-set-repository.js';
import type { JobContext } from './job-context.js';
import { publishedSession } from './published-session.js';
import { runOverRelay } from './relay-session.js';

export type { JobContext } from './job-context.js';

export interface KeygenOutcome {
  readonly publicKey: string;
  readonly chainCode: string;
  /**
   * The new share set's public part (mpc `encodePublicShareSet`, hex): the platform hands it to
   * a later reshare's new member, which holds no old share (ARCHITECTURE §3 "Next signer").
   */
  readonly shareSet?: string;
}

/** The public outcome of a share set this party now holds (never a secret). */
export function shareSetOutcome(share: KeyShare): KeygenOutcome {
  return {
    publicKey: Buffer.from(share.publicKey).toString('hex'),
    chainCode: Buffer.from(share.chainCode).toString('hex'),
    shareSet: Buffer.from(encodePublicShareSet(publicShareSet(share))).toString('hex'),
  };
}

/** Meta key holding a share set's public key and chain code (public values, for `status`). */
export const shareSetPublicMetaKey = (shareSetId: string): string =>
  `share_set_public:${shareSetId}`;

export async function runKeygenJob(ctx: JobContext, job: LeasedJob): Promise<KeygenOutcome> {
  // Already done before a crash: the stored share answers (never a second DKG for one share set).
  const stored = ctx.store.getMeta(shareSetPublicMetaKey(job.shareSetId));
  if (stored !== undefined && ctx.store.shareSets.getShareSet(job.shareSetId) !== undefined)
    return JSON.parse(stored) as KeygenOutcome;
  // A re-offered lease means an earlier run may have sent round messages with randomness this
  // process no longer has: running again would send different ones in the same session. Fail
  // it instead; the platform retries with a fresh session (ARCHITECTURE §8).
  if (job.attempt > 1)
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'an interrupted key generation cannot resume; a fresh session is needed',
    });

  const { sid, roster } = await publishedSession(ctx, job, 'KEYGEN');
  const parties = roster.indices;
  const params = { sid, parties, me: roster.myIndex, threshold: parties.length };
  const session: Session<KeyShare | Dkls23KeyShare> =
    job.algorithm === 'EDDSA_ED25519' ? dkg({ ...params, curve: 'ed25519' }) : dkls23Dkg(params);
  const { result: share } = await runOverRelay(ctx, job, roster, session);
  return storeShareSet(ctx, job, share, roster.parties);
}

/**
 * Stores `share` sealed as the job's share set (of the job's API key) with the `parties` that
 * hold it (pinned for every later roster of it, pinned-parties.ts), then its public outcome (so a
 * crash before the report is answered from the store), and wipes it either way.
 */
export function storeShareSet(
  ctx: JobContext,
  job: LeasedJob,
  share: AnyKeyShare,
  parties: readonly ShareSetParty[],
): KeygenOutcome {
  const outcome = shareSetOutcome(share);
  const bytes =
    job.algorithm === 'EDDSA_ED25519'
      ? exportKeyShare(share)
      : exportDkls23KeyShare(share as Dkls23KeyShare);
  try {
    ctx.store.shareSets.putShareSet({
      id: job.shareSetId,
      apiKeyId: job.apiKeyId,
      algorithm: job.algorithm,
      share: bytes,
      parties,
    });
    ctx.store.setMeta(shareSetPublicMetaKey(job.shareSetId), JSON.stringify(outcome));
  } finally {
    bytes.fill(0);
    wipeAnyKeyShare(job, share);
  }
  return outcome;
}

export type AnyKeyShare = KeyShare | Dkls23KeyShare;

/** Wipes a key share of the job's algorithm. */
export function wipeAnyKeyShare(job: LeasedJob, share: AnyKeyShare): void {
  if (job.algorithm === 'EDDSA_ED25519') wipeKeyShare(share);
  else wipeDkls23KeyShare(share as Dkls23KeyShare);
}
