/**
 * One KEYGEN job (ARCHITECTURE §3, §5): verify the platform-signed roster against the pinned
 * platform key (this party exactly once, every party's keys valid and distinct, the job's
 * session, share set and purpose), run the DKG over the relay — FROST for EDDSA_ED25519, DKLs23
 * for ECDSA_SECP256K1 — with every point-to-point payload sealed and every message signed by the
 * secure channel, store the share sealed, then report the public key.
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
  encodeMessage,
  exportDkls23KeyShare,
  exportKeyShare,
  wipeDkls23KeyShare,
  wipeKeyShare,
  type Dkls23KeyShare,
  type KeyShare,
  type ProtocolMessage,
  type Session,
} from '@countersign/mpc';
import type { LeasedJob } from '@countersign/protocol';
import type { PartyIdentity } from '../channel/identity.js';
import { verifyRoster } from '../channel/roster.js';
import { SecureChannel } from '../channel/secure-channel.js';
import { CosignerError } from '../errors.js';
import type { PlatformClient } from '../platform/platform-client.js';
import type { CosignerStore } from '../store/cosigner-store.js';

/** Long-poll length for session messages, seconds. */
const MESSAGE_WAIT_SECONDS = 20;

export interface JobContext {
  readonly client: PlatformClient;
  readonly accessToken: () => Promise<string>;
  readonly store: CosignerStore;
  readonly identity: PartyIdentity;
  readonly platformKey: Uint8Array;
  readonly signal: AbortSignal;
}

export interface KeygenOutcome {
  readonly publicKey: string;
  readonly chainCode: string;
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

  const sid = Uint8Array.from(Buffer.from(job.sessionId, 'hex'));
  const published = await ctx.client.session(await ctx.accessToken(), job.sessionId);
  const roster = verifyRoster(Uint8Array.from(Buffer.from(published.signedRoster, 'base64')), {
    platformKey: ctx.platformKey,
    me: ctx.identity.publicKeys(),
    expected: { sessionId: sid, shareSetId: job.shareSetId, purpose: 'KEYGEN' },
  });
  const parties = roster.indices;
  if (job.threshold !== parties.length)
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'job threshold differs from the roster',
    });
  const params = { sid, parties, me: roster.myIndex, threshold: parties.length };
  const session: Session<KeyShare | Dkls23KeyShare> =
    job.algorithm === 'EDDSA_ED25519' ? dkg({ ...params, curve: 'ed25519' }) : dkls23Dkg(params);
  const channel = new SecureChannel({
    identity: ctx.identity,
    roster,
    protocol: session.protocolId,
  });
  try {
    const send = async (messages: ProtocolMessage[]): Promise<void> => {
      for (let i = 0; i < messages.length; i += 16) {
        const batch = messages.slice(i, i + 16).map((m) => ({
          round: m.round,
          to: m.to === 'broadcast' ? null : m.to,
          payload: Buffer.from(channel.seal(m)).toString('base64'),
        }));
        await ctx.client.postMessages(await ctx.accessToken(), job.sessionId, { messages: batch });
      }
    };
    await send(session.start());
    let after = 0;
    while (session.status !== 'done') {
      if (ctx.signal.aborted)
        throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'shutting down' });
      const answer = await ctx.client.readMessages(
        await ctx.accessToken(),
        job.sessionId,
        after,
        MESSAGE_WAIT_SECONDS,
        ctx.signal,
      );
      for (const m of answer.messages) {
        // Throws on anything the channel refuses: the session is aborted (see the module doc).
        const opened = channel.open(Uint8Array.from(Buffer.from(m.payload, 'base64')));
        if (opened.status !== 'accepted') continue;
        const bytes = encodeMessage(opened.message);
        opened.message.payload.fill(0);
        await send(session.receive(bytes));
      }
      after = answer.next;
      // Re-read: receive() moved it (TypeScript keeps the loop condition's narrowing).
      const status: string = session.status;
      if (status === 'failed') throw session.error ?? new Error('MPC session failed');
      if (status !== 'done' && answer.messages.length === 0 && answer.sessionStatus !== 'OPEN')
        throw new CosignerError('ERR_COSIGNER_PLATFORM_REFUSED', {
          detail: `session ${answer.sessionStatus.toLowerCase()}`,
        });
    }
    const share = session.result();
    const outcome: KeygenOutcome = {
      publicKey: Buffer.from(share.publicKey).toString('hex'),
      chainCode: Buffer.from(share.chainCode).toString('hex'),
    };
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
      });
      ctx.store.setMeta(shareSetPublicMetaKey(job.shareSetId), JSON.stringify(outcome));
    } finally {
      bytes.fill(0);
      if (job.algorithm === 'EDDSA_ED25519') wipeKeyShare(share);
      else wipeDkls23KeyShare(share as Dkls23KeyShare);
    }
    return outcome;
  } finally {
    channel.dispose();
  }
}
