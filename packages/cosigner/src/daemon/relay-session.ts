/**
 * MPC over the platform's relay (ARCHITECTURE §5), for every job kind: every outgoing message
 * sealed by the secure channel (point-to-point encrypted, all signed and bound to the roster's
 * session and the protocol), every incoming one opened by it. Any message the channel refuses
 * aborts the job: the relay is the only path, so a refused message means the relay (or a party)
 * misbehaves, and the platform retries with a fresh session.
 *
 * A job may run several protocols in one relay session, one after the other (DKLs23: presign,
 * then the online signing round). Each phase has its own channel (its protocol id) and stops
 * consuming messages the moment it is done, so the next phase reads the rest from there:
 * another party's next-phase message can only follow every message of this phase addressed to
 * me (it sends it after receiving all of them, and the relay orders by arrival).
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

/** One protocol's channel over the relay session of `job`. */
export class RelayPhase {
  readonly #ctx: JobContext;
  readonly #job: LeasedJob;
  readonly #channel: SecureChannel;
  readonly #hooks: RelayHooks;

  constructor(
    ctx: JobContext,
    job: LeasedJob,
    roster: VerifiedRoster,
    protocol: string,
    hooks: RelayHooks = {},
  ) {
    this.#ctx = ctx;
    this.#job = job;
    this.#hooks = hooks;
    this.#channel = new SecureChannel({ identity: ctx.identity, roster, protocol });
  }

  async send(messages: readonly ProtocolMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.#hooks.beforeSend?.(messages);
    for (let i = 0; i < messages.length; i += MESSAGES_PER_POST) {
      const batch = messages.slice(i, i + MESSAGES_PER_POST).map((m) => ({
        round: m.round,
        to: m.to === 'broadcast' ? null : m.to,
        payload: Buffer.from(this.#channel.seal(m)).toString('base64'),
      }));
      await this.#ctx.client.postMessages(await this.#ctx.accessToken(), this.#job.sessionId, {
        messages: batch,
      });
    }
  }

  /**
   * Feeds every message after `after` to `consume` until it answers true (done); returns the
   * position of the last message consumed. Throws if the platform ends the session first.
   */
  async receiveUntil(
    after: number,
    consume: (message: ProtocolMessage) => Promise<boolean>,
  ): Promise<number> {
    const { client } = this.#ctx;
    for (;;) {
      if (this.#ctx.signal.aborted)
        throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'shutting down' });
      const answer = await client.readMessages(
        await this.#ctx.accessToken(),
        this.#job.sessionId,
        after,
        MESSAGE_WAIT_SECONDS,
        this.#ctx.signal,
      );
      for (const m of answer.messages) {
        // Throws on anything the channel refuses: the job is aborted (see the module doc).
        const opened = this.#channel.open(Uint8Array.from(Buffer.from(m.payload, 'base64')));
        after = m.seq;
        if (opened.status !== 'accepted') continue;
        try {
          if (await consume(opened.message)) return after;
        } finally {
          opened.message.payload.fill(0);
        }
      }
      after = answer.next > after ? answer.next : after;
      if (answer.messages.length === 0 && answer.sessionStatus !== 'OPEN')
        throw new CosignerError('ERR_COSIGNER_PLATFORM_REFUSED', {
          detail: `session ${answer.sessionStatus.toLowerCase()}`,
        });
    }
  }

  dispose(): void {
    this.#channel.dispose();
  }
}

/** Drives `session` to `done` over the relay from position `after`; throws if it fails. */
export async function runOverRelay<R>(
  ctx: JobContext,
  job: LeasedJob,
  roster: VerifiedRoster,
  session: Session<R>,
  hooks: RelayHooks = {},
  after = 0,
): Promise<{ result: R; after: number }> {
  const phase = new RelayPhase(ctx, job, roster, session.protocolId, hooks);
  try {
    await phase.send(session.start());
    const next = await phase.receiveUntil(after, async (message) => {
      await phase.send(session.receive(encodeMessage(message)));
      // Re-read: receive() moved it.
      const status: string = session.status;
      if (status === 'failed') throw session.error ?? new Error('MPC session failed');
      return status === 'done';
    });
    return { result: session.result(), after: next };
  } finally {
    phase.dispose();
  }
}
