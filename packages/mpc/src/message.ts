/**
 * The protocol message envelope shared by every protocol of this package.
 *
 * Wire format (all integers big-endian), version 1:
 *
 * ```
 * "CSM1" | u8 len ‖ protocol id (ASCII [a-z0-9/._-]) | u8 len ‖ sid (16..64 bytes)
 *        | u8 round (1..255) | u16 from (1..65535) | u16 to (0 = broadcast)
 *        | u32 len ‖ payload (≤ 4 MiB)
 * ```
 *
 * The envelope is authenticated by the transport (ARCHITECTURE.md §5: signed by the sender,
 * point-to-point payloads encrypted); this module only guarantees a strict, canonical encoding.
 * Session-level checks (right session, right round, expected sender) live in `session.ts`.
 * @module
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { MpcError } from './errors.js';
import { MAX_PARTY_INDEX } from './party-set.js';

/** Where a message goes: one party, or every other party of the session. */
export type Recipient = number | 'broadcast';

/** A decoded protocol message. */
export interface ProtocolMessage {
  /** Session id, 16 to 64 bytes, chosen by the orchestrator, unique per session. */
  readonly sid: Uint8Array;
  /** Protocol id, e.g. `frost-ed25519/dkg/v1`. */
  readonly protocol: string;
  readonly round: number;
  readonly from: number;
  readonly to: Recipient;
  readonly payload: Uint8Array;
}

const MAGIC = Uint8Array.of(0x43, 0x53, 0x4d, 0x31); // "CSM1"
export const MIN_SID_LENGTH = 16;
export const MAX_SID_LENGTH = 64;
export const MAX_ROUND = 255;
export const MAX_PAYLOAD_LENGTH = 4 * 1024 * 1024;
const PROTOCOL_ID = /^[a-z0-9][a-z0-9/._-]{0,63}$/;

/** Validates a protocol id string. */
export function assertProtocolId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !PROTOCOL_ID.test(id))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'protocol id' });
}

/** Validates a session id. */
export function assertSid(sid: unknown): asserts sid is Uint8Array {
  if (!(sid instanceof Uint8Array) || sid.length < MIN_SID_LENGTH || sid.length > MAX_SID_LENGTH)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: `sid must be ${MIN_SID_LENGTH}..${MAX_SID_LENGTH} bytes`,
    });
}

/** Encodes a message. Throws `ERR_MPC_INVALID_PARAMS` on out-of-range fields. */
export function encodeMessage(m: ProtocolMessage): Uint8Array {
  assertProtocolId(m.protocol);
  assertSid(m.sid);
  if (!Number.isInteger(m.round) || m.round < 1 || m.round > MAX_ROUND)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'round' });
  if (!Number.isInteger(m.from) || m.from < 1 || m.from > MAX_PARTY_INDEX)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'from' });
  const to = m.to === 'broadcast' ? 0 : m.to;
  if (!Number.isInteger(to) || to < 0 || to > MAX_PARTY_INDEX || to === m.from)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'to' });
  if (!(m.payload instanceof Uint8Array) || m.payload.length > MAX_PAYLOAD_LENGTH)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'payload' });
  return new ByteWriter()
    .raw(MAGIC)
    .ascii(m.protocol)
    .u8(m.sid.length)
    .raw(m.sid)
    .u8(m.round)
    .u16(m.from)
    .u16(to)
    .bytes(m.payload)
    .finish();
}

/**
 * Decodes a message strictly. Throws `ERR_MPC_MALFORMED` on any deviation from the format
 * (bad magic, bad protocol id, sid length, round 0, sender 0, sender = recipient, payload
 * length, trailing bytes). The sender is not yet trusted here, so no culprit is named.
 */
export function decodeMessage(bytes: Uint8Array): ProtocolMessage {
  const r = new ByteReader(bytes, 'message');
  const magic = r.take(4);
  if (!magic.every((b, i) => b === MAGIC[i])) r.fail('bad magic');
  const protocol = r.ascii();
  if (!PROTOCOL_ID.test(protocol)) r.fail('bad protocol id');
  const sidLength = r.u8();
  if (sidLength < MIN_SID_LENGTH || sidLength > MAX_SID_LENGTH) r.fail('bad sid length');
  const sid = r.take(sidLength);
  const round = r.u8();
  if (round < 1) r.fail('round 0');
  const from = r.u16();
  if (from < 1) r.fail('sender 0');
  const toRaw = r.u16();
  if (toRaw === from) r.fail('sender is recipient');
  const payload = r.bytes(MAX_PAYLOAD_LENGTH);
  r.end();
  return { sid, protocol, round, from, to: toRaw === 0 ? 'broadcast' : toRaw, payload };
}
