/**
 * The secure MPC channel of one session over the untrusted platform relay
 * (ARCHITECTURE.md §5; docs/channel.md).
 *
 * Sealing: point-to-point payloads are encrypted with XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha; RFC 8439 §2.8) under the per-slot key of `message-key.ts`, with a
 * random 24-byte nonce and the encoded header as associated data; every message, point-to-point
 * or broadcast, is signed with the sender's Ed25519 identity key (RFC 8032 §5.1.6) over
 * `"countersign/channel/v1/message" ‖ header ‖ body` (`sealed-message.ts`).
 *
 * Opening checks, in this order, so nothing secret is touched before the sender is
 * authenticated: strict decoding; session and protocol; sender is another party of the roster;
 * recipient is me (point-to-point); exact copy of an accepted message (dropped); the signature
 * under the roster's identity key of the claimed sender (strict RFC 8032 §5.1.7, not ZIP-215:
 * ed25519-strict.ts);
 * decryption; the seen-set (a second, different message for a slot fails, naming the sender).
 *
 * Why noble rather than node:crypto for the AEAD: Node 20 has no XChaCha20-Poly1305 (only the 12-byte-nonce
 * ChaCha20-Poly1305), and a 24-byte random nonce is what lets every sender pick nonces with no
 * state to persist. @noble/ciphers is audited, dependency-free and from the same author as the
 * curves and hashes this package already uses.
 * @module
 */
import type { ProtocolMessage } from '@countersign/mpc';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { ChannelError } from './channel-errors.js';
import { verifyEd25519Strict } from './ed25519-strict.js';
import type { PartyIdentity } from './identity.js';
import { messageKeyFromShared } from './message-key.js';
import { ReplayGuard } from './replay-guard.js';
import { VerifiedRoster } from './roster.js';
import {
  decodeSealedMessage,
  encodeMessageHeader,
  encodeSealedMessage,
  encodeSignedPart,
  NONCE_LENGTH,
  type MessageHeader,
} from './sealed-message.js';
import { constantTimeEqual, label, wipe, WireWriter } from './wire-bytes.js';

/** Domain tag in front of every signed channel message. */
export const MESSAGE_DOMAIN_TAG = 'countersign/channel/v1/message';
const TAG_BYTES = label(MESSAGE_DOMAIN_TAG);

/** Options of {@link SecureChannel}. */
export interface SecureChannelOptions {
  /** My long-term keys; owned by the caller (not disposed with the channel). */
  readonly identity: PartyIdentity;
  /** The session's roster, as returned by `verifyRoster` for this identity. */
  readonly roster: VerifiedRoster;
  /** The MPC protocol id of the session, e.g. `frost-ed25519/sign/v1`. */
  readonly protocol: string;
  /** Clock in milliseconds since the Unix epoch; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** Result of {@link SecureChannel.open}. */
export type OpenResult =
  | {
      readonly status: 'accepted';
      /** The plaintext MPC message; the caller wipes `payload` after use. */
      readonly message: ProtocolMessage;
    }
  | {
      /** Already received: nothing to do (idempotent). */
      readonly status: 'duplicate';
      readonly from: number;
      readonly round: number;
    };

/** One party's end of the channel for one session. Not safe to share across sessions. */
export class SecureChannel {
  readonly #identity: PartyIdentity;
  readonly #roster: VerifiedRoster;
  readonly #protocol: string;
  readonly #now: () => number;
  readonly #seen = new ReplayGuard();
  /**
   * X25519 shared secret with each peer (by party index), computed on first use: a session
   * seals and opens many point-to-point messages per peer, and the secret of two static keys
   * is the same for all of them — only the HKDF info (slot) differs. Wiped at dispose.
   */
  readonly #shared = new Map<number, Uint8Array>();
  #disposed = false;

  constructor(options: SecureChannelOptions) {
    const { identity, roster, protocol } = options;
    if (!(roster instanceof VerifiedRoster))
      throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'roster not verified' });
    // Validates the protocol id with the header encoder's rules.
    encodeMessageHeader({
      sessionId: roster.sessionId,
      protocol,
      round: 1,
      from: roster.myIndex,
      to: 'broadcast',
    });
    const mine = roster.party(roster.myIndex);
    const keys = identity.publicKeys();
    if (
      mine === undefined ||
      !constantTimeEqual(mine.identityKey, keys.identityKey) ||
      !constantTimeEqual(mine.agreementKey, keys.agreementKey)
    )
      throw new ChannelError('ERR_CHANNEL_NOT_IN_ROSTER', {
        detail: 'identity is not the roster’s',
      });
    this.#identity = identity;
    this.#roster = roster;
    this.#protocol = protocol;
    this.#now = options.now ?? Date.now;
  }

  /** My party index in this session. */
  get myIndex(): number {
    return this.#roster.myIndex;
  }

  /** The session's roster. */
  get roster(): VerifiedRoster {
    return this.#roster;
  }

  /**
   * Seals one of my outgoing MPC messages (from = me, sid = the roster's session) into wire
   * bytes for the relay. Point-to-point payloads are encrypted for their recipient.
   */
  seal(message: ProtocolMessage): Uint8Array {
    this.assertOpen();
    const bad = (detail: string): never => {
      throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail });
    };
    if (typeof message !== 'object' || message === null) bad('message');
    const { sid, protocol, round, from, to, payload } = message;
    if (!(sid instanceof Uint8Array) || !this.#roster.isSession(sid)) bad('sid of another session');
    if (protocol !== this.#protocol) bad('protocol of another session');
    if (from !== this.myIndex) bad('from is not me');
    if (!(payload instanceof Uint8Array)) bad('payload');
    const header: MessageHeader = { sessionId: sid, protocol, round, from, to };
    if (to === 'broadcast') return this.sign({ header, body: payload });

    const peer = this.#roster.party(to);
    if (peer === undefined || to === this.myIndex)
      throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', {
        detail: 'recipient not another roster party',
      });
    const headerBytes = encodeMessageHeader(header);
    const key = messageKeyFromShared(this.sharedWith(to, peer.agreementKey), { ...header, to });
    try {
      const nonce = randomBytes(NONCE_LENGTH);
      const body = xchacha20poly1305(key, nonce, headerBytes).encrypt(payload);
      return this.sign({ header, nonce, body });
    } finally {
      wipe(key);
    }
  }

  /**
   * Opens wire bytes received from the relay. Returns the plaintext message, or `duplicate`
   * for a message already accepted; throws a {@link ChannelError} for anything else.
   */
  open(sealed: Uint8Array): OpenResult {
    this.assertOpen();
    const message = decodeSealedMessage(sealed);
    const { header } = message;
    const { from, round, to } = header;
    const claimedSender = from;
    if (!this.#roster.isSession(header.sessionId) || header.protocol !== this.#protocol)
      throw new ChannelError('ERR_CHANNEL_WRONG_SESSION', { claimedSender });
    const sender = from === this.myIndex ? undefined : this.#roster.party(from);
    if (sender === undefined)
      throw new ChannelError('ERR_CHANNEL_UNKNOWN_SENDER', { claimedSender });
    if (to !== 'broadcast' && to !== this.myIndex)
      throw new ChannelError('ERR_CHANNEL_WRONG_RECIPIENT', { claimedSender });
    const toIndex = to === 'broadcast' ? 0 : to;
    if (this.#seen.isKnownCopy(from, round, toIndex, sealed))
      return { status: 'duplicate', from, round };

    const signed = new WireWriter().raw(TAG_BYTES).raw(message.signedBytes).finish();
    if (!verifyEd25519Strict(message.signature, signed, sender.identityKey))
      throw new ChannelError('ERR_CHANNEL_SIGNATURE_INVALID', { claimedSender });

    // From here on the message is authentically the sender's: failures are its own.
    let payload: Uint8Array;
    if (to === 'broadcast' || message.nonce === undefined) {
      payload = message.body;
    } else {
      const key = messageKeyFromShared(this.sharedWith(from, sender.agreementKey), {
        ...header,
        to,
      });
      try {
        payload = xchacha20poly1305(key, message.nonce, message.headerBytes).decrypt(message.body);
      } catch {
        throw new ChannelError('ERR_CHANNEL_DECRYPTION_FAILED', { culprit: from });
      } finally {
        wipe(key);
      }
    }

    const verdict = this.#seen.record(from, round, toIndex, sealed, message.headerBytes, payload);
    if (verdict !== 'new') {
      if (payload !== message.body) wipe(payload);
      if (verdict === 'conflict')
        throw new ChannelError('ERR_CHANNEL_CONFLICTING_MESSAGE', { culprit: from });
      return { status: 'duplicate', from, round };
    }
    return {
      status: 'accepted',
      message: { sid: header.sessionId, protocol: header.protocol, round, from, to, payload },
    };
  }

  /** Forgets the seen-set; the channel is unusable afterwards. The identity is not disposed. */
  dispose(): void {
    this.#seen.clear();
    for (const shared of this.#shared.values()) wipe(shared);
    this.#shared.clear();
    this.#disposed = true;
  }

  private sharedWith(index: number, agreementKey: Uint8Array): Uint8Array {
    let shared = this.#shared.get(index);
    if (shared === undefined) {
      shared = this.#identity.agree(agreementKey);
      this.#shared.set(index, shared);
    }
    return shared;
  }

  private sign(parts: { header: MessageHeader; nonce?: Uint8Array; body: Uint8Array }): Uint8Array {
    const signedPart = encodeSignedPart(parts);
    const signature = this.#identity.sign(new WireWriter().raw(TAG_BYTES).raw(signedPart).finish());
    return encodeSealedMessage(signedPart, signature);
  }

  private assertOpen(): void {
    if (this.#disposed || this.#identity.disposed) throw new ChannelError('ERR_CHANNEL_DISPOSED');
    if (this.#now() >= this.#roster.expiresAt) throw new ChannelError('ERR_CHANNEL_ROSTER_EXPIRED');
  }
}
