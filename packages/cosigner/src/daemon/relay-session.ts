/**
 * Runs one MPC session over the platform's relay (ARCHITECTURE §5), for every job kind: every
 * outgoing message sealed by the secure channel (point-to-point encrypted, all signed and bound
 * to the roster's session), every incoming one opened by it. Any message the channel refuses
 * aborts the session: the relay is the only path, so a refused message means the relay (or a
 * party) misbehaves, and the platform retries with a fresh session.
 *
 * `beforeSend` runs before each batch leaves, synchronously: a SIGN job records there, durably,
 * that its signature share is about to be released (sign-job.ts).
 * @module
 */
import { encodeMessage, type ProtocolMessage, type Session } from '@countersign/mpc';
import type { LeasedJob } from '@countersign/protocol';
import type { VerifiedRoster } from '../channel/roster.js';
import { SecureChannel } from '../channel/secure-channel.js';
import { CosignerError } from '../errors.js';
import type { JobContext } from './job-context.js';

/** Long-poll length for session messages, seconds. */
const MESSAGE_WAIT_SECONDS = 20;
/** Most messages in one POST (protocol MAX_MESSAGES_PER_POST). */
const MESSAGES_PER_POST = 16;

export interface RelayHooks {
  readonly beforeSend?: (messages: readonly ProtocolMessage[]) => void;
}

/** Drives `session` to `done` over the relay; throws if it fails or the platform ends it. */
export async function runOverRelay<R>(
  ctx: JobContext,
  job: LeasedJob,
  roster: VerifiedRoster,
  session: Session<R>,
  hooks: RelayHooks = {},
): Promise<R> {
  const channel = new SecureChannel({
    identity: ctx.identity,
    roster,
    protocol: session.protocolId,
  });
  try {
    const send = async (messages: ProtocolMessage[]): Promise<void> => {
      if (messages.length === 0) return;
      hooks.beforeSend?.(messages);
      for (let i = 0; i < messages.length; i += MESSAGES_PER_POST) {
        const batch = messages.slice(i, i + MESSAGES_PER_POST).map((m) => ({
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
    return session.result();
  } finally {
    channel.dispose();
  }
}
