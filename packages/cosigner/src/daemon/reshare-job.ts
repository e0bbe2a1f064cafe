/**
 * One RESHARE job (ARCHITECTURE §3 "Next signer", §5): cloud-1, cloud-2 and an existing signer's
 * co-signer re-deal the root key to {cloud-1, cloud-2, the new signer's co-signer} — FROST for
 * EDDSA_ED25519 (mpc frost-reshare.ts), DKLs23 for ECDSA_SECP256K1 (mpc dkls23/keygen.ts). The
 * public key and chain code do not change; the old share sets stay valid.
 *
 * 1. Verify the roster (purpose RESHARE, this session and new share set) and the reshare
 *    authorization (reshare-authorization.ts) against the pinned platform key: dealers,
 *    receivers, threshold and the old share set come from those signed bytes only.
 * 2. A dealer holds the old share set (its public part must be the one the authorization names),
 *    and the roster seats the dealers with the keys pinned for it (pinned-parties.ts).
 *    The existing signer's co-signer is the customer's guard (pairing-guard.ts): it deals only
 *    when the old signer's Callback Handler APPROVEs `config_change_sign_request` (type
 *    PAIR_API_KEY), or when its operator opted in to dealing without one; otherwise it refuses
 *    with PAIRING_NOT_GUARDED. A new member must have the new signer paired here. Cloud
 *    co-signers ask nobody.
 * 3. Run the protocol over the relay; a receiver checks that its new share set has the old
 *    public key and chain code, stores the share sealed with the receivers' roster keys as the
 *    new share set's pin (pinned-parties.ts), then the job's outcome — so a crash
 *    before the report is answered from the store on the next lease, and a crash before the
 *    store means a fresh session (as KEYGEN: an interrupted run never resumes with other
 *    randomness in the same session).
 * @module
 */
import {
  decodePublicShareSet,
  dkls23Reshare,
  encodePublicShareSet,
  importDkls23KeyShare,
  importKeyShare,
  publicShareSet,
  reshare,
  type Dkls23KeyShare,
  type PublicShareSet,
  type Session,
} from '@countersign/mpc';
import type { LeasedJob, ReshareAuthorization } from '@countersign/protocol';
import type { RosterParty, VerifiedRoster } from '../channel/roster.js';
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError } from '../errors.js';
import type { JobContext } from './job-context.js';
import {
  storeShareSet,
  wipeAnyKeyShare,
  type AnyKeyShare,
  type KeygenOutcome,
} from './keygen-job.js';
import { guardPairing } from './pairing-guard.js';
import { assertPinnedParties } from './pinned-parties.js';
import { publishedSession } from './published-session.js';
import { runOverRelay } from './relay-session.js';
import { verifyReshareAuthorization } from './reshare-authorization.js';

/** Meta key holding a finished reshare's outcome (public values), by session. */
export const reshareOutcomeMetaKey = (sessionId: string): string => `reshare_done:${sessionId}`;

export async function runReshareJob(ctx: JobContext, job: LeasedJob): Promise<KeygenOutcome> {
  // Already done before a crash: the stored outcome answers (never a second run of a session).
  const done = ctx.store.getMeta(reshareOutcomeMetaKey(job.sessionId));
  if (done !== undefined) return JSON.parse(done) as KeygenOutcome;
  // A re-offered lease may have sent round messages with randomness this process no longer has.
  if (job.attempt > 1)
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'an interrupted reshare cannot resume; a fresh session is needed',
    });

  const { sid, roster, published } = await publishedSession(ctx, job, 'RESHARE');
  const authorization = verifyReshareAuthorization(
    published.signedAuthorization,
    job,
    roster,
    ctx.platformKey,
  );
  const me = roster.myIndex;
  const oldShareSet = decodeOldShareSet(authorization);
  const dealerShare = authorization.dealers.includes(me)
    ? await dealerKeyShare(ctx, job, authorization, roster)
    : undefined;
  if (dealerShare === undefined) assertNewSignerPairedHere(ctx, job);
  let newShare: AnyKeyShare | null = null;
  try {
    const params = {
      sid,
      dealers: authorization.dealers,
      receivers: authorization.receivers,
      threshold: authorization.threshold,
      me,
      ...(dealerShare === undefined ? { shareSet: oldShareSet } : {}),
    };
    const session: Session<{ keyShare: AnyKeyShare | null }> =
      job.algorithm === 'EDDSA_ED25519'
        ? reshare({ ...params, ...(dealerShare && { keyShare: dealerShare }) })
        : dkls23Reshare({
            ...params,
            ...(dealerShare && { keyShare: dealerShare as Dkls23KeyShare }),
          });
    ({
      result: { keyShare: newShare },
    } = await runOverRelay(ctx, job, roster, session));
  } finally {
    if (dealerShare !== undefined) wipeAnyKeyShare(job, dealerShare);
  }
  const outcome =
    newShare === null
      ? publicOutcome(oldShareSet)
      : storeNewShare(ctx, job, newShare, oldShareSet, receiverParties(roster, authorization));
  ctx.store.setMeta(reshareOutcomeMetaKey(job.sessionId), JSON.stringify(outcome));
  return outcome;
}

function decodeOldShareSet(a: ReshareAuthorization): PublicShareSet {
  try {
    return decodePublicShareSet(a.oldShareSet);
  } catch {
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'reshare authorization: malformed old share set',
    });
  }
}

/**
 * A dealer's old key share: stored here under the authorization's old share set, of the job's
 * algorithm, and — for an API co-signer — the old signer's, whose guard lets the pairing through
 * first (pairing-guard.ts).
 */
async function dealerKeyShare(
  ctx: JobContext,
  job: LeasedJob,
  a: ReshareAuthorization,
  roster: VerifiedRoster,
): Promise<AnyKeyShare> {
  const stored = ctx.store.shareSets.getShareSet(a.oldShareSetId);
  if (
    stored === undefined ||
    stored.algorithm !== job.algorithm ||
    (ctx.mode !== 'cloud' && stored.apiKeyId !== a.oldSignerId)
  )
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `no ${job.algorithm} share set ${a.oldShareSetId} to re-deal`,
    });
  // The dealers are the old share set's parties: seated as pinned, before anyone is asked.
  assertPinnedParties(
    ctx.store,
    a.oldShareSetId,
    roster.parties.filter((p) => a.dealers.includes(p.index)),
  );
  await guardPairing(ctx, job, a, roster);
  const { share: bytes } = ctx.store.shareSets.readShare(a.oldShareSetId);
  const share: AnyKeyShare =
    job.algorithm === 'EDDSA_ED25519' ? importKeyShare(bytes) : importDkls23KeyShare(bytes);
  bytes.fill(0);
  // The new member checks the dealers against this public part: it must be what I hold.
  const mine = encodePublicShareSet(publicShareSet(share));
  if (mine.length !== a.oldShareSet.length || !constantTimeEqual(mine, a.oldShareSet)) {
    wipeAnyKeyShare(job, share);
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'reshare authorization: the old share set is not the one stored here',
    });
  }
  return share;
}

/** An API co-signer receives a share set only for an API key paired to it. */
function assertNewSignerPairedHere(ctx: JobContext, job: LeasedJob): void {
  if (ctx.mode === 'cloud') return;
  const paired = ctx.store.pairedApiKeys.getPairedApiKey(job.apiKeyId);
  if (paired === undefined || paired.unpairedAt !== null)
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `API key ${job.apiKeyId} is not paired here`,
    });
}

/** What a dealer that leaves reports: the root key it re-dealt. */
function publicOutcome(old: PublicShareSet): KeygenOutcome {
  return {
    publicKey: Buffer.from(old.publicKey).toString('hex'),
    chainCode: Buffer.from(old.chainCode).toString('hex'),
  };
}

/** The new share set's holders: the authorization's receivers, with their roster keys. */
function receiverParties(roster: VerifiedRoster, a: ReshareAuthorization): RosterParty[] {
  return roster.parties.filter((p) => a.receivers.includes(p.index));
}

/**
 * Stores a receiver's new share (same key and chain code, or nothing is stored), pinned to the
 * receivers.
 */
function storeNewShare(
  ctx: JobContext,
  job: LeasedJob,
  share: AnyKeyShare,
  old: PublicShareSet,
  receivers: readonly RosterParty[],
): KeygenOutcome {
  if (
    !constantTimeEqual(share.publicKey, old.publicKey) ||
    !constantTimeEqual(share.chainCode, old.chainCode)
  ) {
    wipeAnyKeyShare(job, share);
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'the reshared key differs from the old share set',
    });
  }
  return storeShareSet(ctx, job, share, receivers);
}
