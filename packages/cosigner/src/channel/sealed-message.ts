/**
 * Wire format of a sealed channel message: what a co-signer posts to the platform relay and
 * receives from it (ARCHITECTURE.md §5). The relay stores and forwards the bytes as they are;
 * for delivery it needs only the {@link RoutingHeader}, which it gets in clear beside them (or
 * with {@link routingHeaderOf}, for a party that posts them).
 *
 * Version 1 (integers big-endian):
 *
 * ```
 * header  = "CSSM" | u8 version (1)
 *         | u8 len ‖ sessionId      (16..64 bytes)
 *         | u8 len ‖ protocol id    (ASCII [a-z0-9/._-], as packages/mpc/src/message.ts)
 *         | u8 round (1..255) | u16 from (1..65535) | u16 to (0 = broadcast, never = from)
 * body    = to ≠ 0: nonce (24) | u32 len ‖ ciphertext (16..4 MiB + 16)   XChaCha20-Poly1305
 *           to = 0: u32 len ‖ payload (0..4 MiB)                          in clear
 * sealed  = header ‖ body ‖ signature (64)
 * ```
 *
 * The header bytes are the AEAD associated data; the signature is Ed25519 (RFC 8032) by the
 * sender's identity key over `"countersign/channel/v1/message" ‖ header ‖ body`. The decoder
 * is strict (no trailing bytes, exact lengths) and verifies nothing cryptographic.
 * @module
 */
import { ChannelError } from './channel-errors.js';
import { SIGNATURE_LENGTH } from './identity.js';
import { MAX_PARTY_INDEX, MAX_SESSION_ID_LENGTH, MIN_SESSION_ID_LENGTH } from './roster.js';
import { WireReader, WireWriter } from './wire-bytes.js';

const MAGIC = Uint8Array.of(0x43, 0x53, 0x53, 0x4d); // "CSSM"
export const SEALED_MESSAGE_VERSION = 1;
/** XChaCha20 nonce length (draft-irtf-cfrg-xchacha §2). */
export const NONCE_LENGTH = 24;
/** Poly1305 tag length (RFC 8439 §2.5). */
export const TAG_LENGTH = 16;
export const MAX_ROUND = 255;
/** As packages/mpc/src/message.ts: the largest MPC payload. */
export const MAX_PAYLOAD_LENGTH = 4 * 1024 * 1024;
const PROTOCOL_ID = /^[a-z0-9][a-z0-9/._-]{0,63}$/;

/** Where a message goes: one party, or every other party of the session. */
export type Recipient = number | 'broadcast';

/** The full message header: authenticated (AEAD associated data and signed), never secret. */
export interface MessageHeader {
  readonly sessionId: Uint8Array;
  readonly protocol: string;
  readonly round: number;
  readonly from: number;
  readonly to: Recipient;
}

/** What the relay needs to deliver a message; untrusted by the receiver. */
export interface RoutingHeader {
  readonly sessionId: Uint8Array;
  readonly from: number;
  readonly to: Recipient;
  readonly round: number;
}

/** A decoded sealed message. `nonce` is present exactly for point-to-point messages. */
export interface SealedMessage {
  readonly header: MessageHeader;
  /** The encoded header, as it appears on the wire (the AEAD associated data). */
  readonly headerBytes: Uint8Array;
  readonly nonce?: Uint8Array;
  /** Ciphertext with tag (point-to-point) or payload (broadcast). */
  readonly body: Uint8Array;
  /** The bytes the signature covers after the domain tag: header ‖ body. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

function invalid(detail: string): never {
  throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail });
}

/** Canonical header encoding. Throws `ERR_CHANNEL_INVALID_ARGUMENT` on a field out of range. */
export function encodeMessageHeader(header: MessageHeader): Uint8Array {
  const { sessionId, protocol, round, from, to } = header;
  if (
    !(sessionId instanceof Uint8Array) ||
    sessionId.length < MIN_SESSION_ID_LENGTH ||
    sessionId.length > MAX_SESSION_ID_LENGTH
  )
    invalid('sessionId');
  if (typeof protocol !== 'string' || !PROTOCOL_ID.test(protocol)) invalid('protocol');
  if (!Number.isInteger(round) || round < 1 || round > MAX_ROUND) invalid('round');
  if (!Number.isInteger(from) || from < 1 || from > MAX_PARTY_INDEX) invalid('from');
  const toIndex = to === 'broadcast' ? 0 : to;
  if (!Number.isInteger(toIndex) || toIndex < 0 || toIndex > MAX_PARTY_INDEX || toIndex === from)
    invalid('to');
  return new WireWriter()
    .raw(MAGIC)
    .u8(SEALED_MESSAGE_VERSION)
    .bytes8(sessionId)
    .ascii8(protocol)
    .u8(round)
    .u16(from)
    .u16(toIndex)
    .finish();
}

/** Parts of a sealed message to encode. */
export interface SealedMessageParts {
  readonly header: MessageHeader;
  readonly nonce?: Uint8Array;
  readonly body: Uint8Array;
}

/** `header ‖ body`, the part of the wire the sender signs (after the domain tag). */
export function encodeSignedPart(parts: SealedMessageParts): Uint8Array {
  const headerBytes = encodeMessageHeader(parts.header);
  const w = new WireWriter().raw(headerBytes);
  if (parts.header.to === 'broadcast') {
    if (parts.nonce !== undefined) invalid('broadcast has no nonce');
    if (!(parts.body instanceof Uint8Array) || parts.body.length > MAX_PAYLOAD_LENGTH)
      invalid('payload length');
    w.bytes32(parts.body);
  } else {
    if (!(parts.nonce instanceof Uint8Array) || parts.nonce.length !== NONCE_LENGTH)
      invalid('nonce');
    if (
      !(parts.body instanceof Uint8Array) ||
      parts.body.length < TAG_LENGTH ||
      parts.body.length > MAX_PAYLOAD_LENGTH + TAG_LENGTH
    )
      invalid('ciphertext length');
    w.raw(parts.nonce).bytes32(parts.body);
  }
  return w.finish();
}

/** Appends the signature to the signed part: the complete wire bytes. */
export function encodeSealedMessage(signedPart: Uint8Array, signature: Uint8Array): Uint8Array {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH)
    invalid('signature');
  return new WireWriter().raw(signedPart).raw(signature).finish();
}

/** Strict decoder of a sealed message. Throws `ERR_CHANNEL_MALFORMED`. */
export function decodeSealedMessage(bytes: Uint8Array): SealedMessage {
  const r = new WireReader(bytes, 'sealed message');
  const header = readHeader(r);
  const headerBytes = bytes.slice(0, r.position);
  let nonce: Uint8Array | undefined;
  let body: Uint8Array;
  if (header.to === 'broadcast') {
    body = r.bytes32(0, MAX_PAYLOAD_LENGTH);
  } else {
    nonce = r.take(NONCE_LENGTH);
    body = r.bytes32(TAG_LENGTH, MAX_PAYLOAD_LENGTH + TAG_LENGTH);
  }
  const signedBytes = bytes.slice(0, r.position);
  const signature = r.take(SIGNATURE_LENGTH);
  r.end();
  return nonce === undefined
    ? { header, headerBytes, body, signedBytes, signature }
    : { header, headerBytes, nonce, body, signedBytes, signature };
}

function readHeader(r: WireReader): MessageHeader {
  const magic = r.take(MAGIC.length);
  if (!magic.every((b, i) => b === MAGIC[i])) r.fail('bad magic');
  if (r.u8() !== SEALED_MESSAGE_VERSION) r.fail('unsupported version');
  const sessionId = r.bytes8(MIN_SESSION_ID_LENGTH, MAX_SESSION_ID_LENGTH);
  const protocol = r.ascii8(PROTOCOL_ID, 'protocol');
  const round = r.u8();
  if (round < 1) r.fail('round 0');
  const from = r.u16();
  if (from < 1) r.fail('sender 0');
  r.claimedSender = from;
  const to = r.u16();
  if (to === from) r.fail('sender is recipient');
  return { sessionId, protocol, round, from, to: to === 0 ? 'broadcast' : to };
}

/**
 * The routing header of sealed message bytes, after a strict decoding of the whole message;
 * what a party sends beside the bytes so the relay can deliver them.
 */
export function routingHeaderOf(bytes: Uint8Array): RoutingHeader {
  const { sessionId, from, to, round } = decodeSealedMessage(bytes).header;
  return { sessionId, from, to, round };
}
