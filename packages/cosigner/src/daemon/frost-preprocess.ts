/**
 * One FROST preprocessing over the relay (docs/decisions/0006): this party's nonce commitments
 * go out in one broadcast, every other signer's come in, and the result is a nonce set — my
 * nonces and the whole commitment list — for the pool. The channel signs and binds each
 * broadcast to the roster's session; the mpc package binds the commitments to the sid, the share
 * set and the signers, and validates every point.
 * @module
 */
import { beginFrostPreprocess, type FrostNonceSet, type KeyShare } from '@countersign/mpc';
import type { LeasedJob } from '@countersign/protocol';
import type { VerifiedRoster } from '../channel/roster.js';
import { CosignerError } from '../errors.js';
import type { JobContext } from './job-context.js';
import { RelayPhase } from './relay-session.js';

const ROUND = 1;

export async function preprocessOverRelay(
  ctx: JobContext,
  job: LeasedJob,
  roster: VerifiedRoster,
  sid: Uint8Array,
  keyShare: KeyShare,
): Promise<FrostNonceSet> {
  const committer = beginFrostPreprocess({ sid, keyShare, signers: roster.indices });
  const { protocol } = committer;
  const phase = new RelayPhase(ctx, job, roster, protocol);
  try {
    await phase.send([
      {
        sid,
        protocol,
        round: ROUND,
        from: roster.myIndex,
        to: 'broadcast',
        payload: committer.message,
      },
    ]);
    const received = new Map<number, Uint8Array>();
    const waiting = new Set(committer.others);
    await phase.receiveUntil(0, (m) => {
      if (m.round !== ROUND || m.to !== 'broadcast' || !waiting.delete(m.from))
        throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
          detail: `unexpected preprocessing message from party ${m.from}`,
        });
      received.set(m.from, m.payload.slice());
      return Promise.resolve(waiting.size === 0);
    });
    return committer.complete(received);
  } finally {
    committer.wipe();
    phase.dispose();
  }
}
