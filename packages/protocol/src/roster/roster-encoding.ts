/**
 * Session roster (ARCHITECTURE.md §5): who takes part in one MPC session, under which long-term
 * keys. The platform signs the canonical encoding below with its Ed25519 authorization key
 * (RFC 8032); co-signers verify it against the key they pinned at pairing. This module holds
 * only the encoding — no key material and no signature code — so the platform (which signs) and
 * the co-signer (which verifies) share one definition of the signed bytes.
 *
 * Canonical encoding, version 1 (integers big-endian; the signature covers exactly these bytes,
 * which begin with the domain tag):
 *
 * ```
 * roster       = u8 len ‖ "countersign/roster/v1"
 *              | u8 len ‖ sessionId            (16..64 bytes, the MPC sid)
 *              | u8 len ‖ shareSetId           (ASCII [A-Za-z0-9._:-], 1..128)
 *              | u8 len ‖ purpose              (KEYGEN | RESHARE | REFRESH | PRESIGN | SIGN | DESTROY)
 *              | u64 expiresAt                 (milliseconds since the Unix epoch)
 *              | u8 n                          (2..64)
 *              | n × ( u16 index               (1..65535, strictly ascending)
 *                    | u8 len ‖ cosignerId     (ASCII [A-Za-z0-9._:-], 1..128)
 *                    | identityKey (32)        (Ed25519)
 *                    | agreementKey (32) )     (X25519)
 * signedRoster = roster ‖ signature (64)
 * ```
 *
 * Indices are Shamir evaluation points: unique, not necessarily 1..n (a reshare's new member
 * takes an index no dealer uses). Ascending order makes the encoding canonical and uniqueness
 * structural.
 * @module
 */

import { CanonicalReader } from './canonical-reader.js';

/** Domain tag at the start of every roster encoding. */
export const ROSTER_DOMAIN_TAG = 'countersign/roster/v1';
export const ROSTER_MIN_SESSION_ID_LENGTH = 16;
export const ROSTER_MAX_SESSION_ID_LENGTH = 64;
export const ROSTER_MIN_PARTIES = 2;
/** As the MPC session framework (packages/mpc/docs/session-framework.md). */
export const ROSTER_MAX_PARTIES = 64;
export const ROSTER_MAX_PARTY_INDEX = 0xffff;
export const ROSTER_KEY_LENGTH = 32;
export const ROSTER_SIGNATURE_LENGTH = 64;

/**
 * Why the session runs: the job kinds of ARCHITECTURE.md §5 that run MPC, and DESTROY — the
 * cloud co-signers' shares of an unpaired signer's share set, a session without messages
 * (destroy-authorization.ts).
 */
export type RosterPurpose = 'KEYGEN' | 'RESHARE' | 'REFRESH' | 'PRESIGN' | 'SIGN' | 'DESTROY';
export const ROSTER_PURPOSES: readonly RosterPurpose[] = [
  'KEYGEN',
  'RESHARE',
  'REFRESH',
  'PRESIGN',
  'SIGN',
  'DESTROY',
];
const PURPOSE_PATTERN = /^(KEYGEN|RESHARE|REFRESH|PRESIGN|SIGN|DESTROY)$/;
/** Share set and co-signer ids: what may appear in the signed bytes. */
export const ROSTER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** One party of a roster. */
export interface RosterParty {
  readonly index: number;
  readonly cosignerId: string;
  /** Ed25519 public key, 32 bytes. */
  readonly identityKey: Uint8Array;
  /** X25519 public key, 32 bytes. */
  readonly agreementKey: Uint8Array;
}

/** A roster as the platform publishes it. */
export interface Roster {
  readonly sessionId: Uint8Array;
  readonly shareSetId: string;
  readonly purpose: RosterPurpose;
  readonly parties: readonly RosterParty[];
  /** Milliseconds since the Unix epoch. */
  readonly expiresAt: number;
}

/** A signed roster split into its signed bytes and its signature. */
export interface SignedRoster {
  readonly roster: Roster;
  /** The canonical roster bytes the signature covers. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

export type RosterFormatErrorCode = 'ERR_ROSTER_INVALID_ARGUMENT' | 'ERR_ROSTER_MALFORMED';

/** A roster that cannot be encoded (bad argument) or decoded (malformed bytes). */
export class RosterFormatError extends Error {
  readonly code: RosterFormatErrorCode;
  /** A short, public detail: the field at fault. */
  readonly detail: string;

  constructor(code: RosterFormatErrorCode, detail: string) {
    super(`${code === 'ERR_ROSTER_MALFORMED' ? 'malformed roster' : 'invalid roster'}: ${detail}`);
    this.name = 'RosterFormatError';
    this.code = code;
    this.detail = detail;
  }
}

const malformed = (detail: string): RosterFormatError =>
  new RosterFormatError('ERR_ROSTER_MALFORMED', detail);
const encoder = new TextEncoder();
const TAG_BYTES = encoder.encode(ROSTER_DOMAIN_TAG);

/**
 * Canonical encoding of a roster (the bytes the platform signs). Parties are sorted by index.
 * Throws `ERR_ROSTER_INVALID_ARGUMENT` on any field out of range or duplicate index.
 */
export function encodeRoster(roster: Roster): Uint8Array {
  const bad = (detail: string): never => {
    throw new RosterFormatError('ERR_ROSTER_INVALID_ARGUMENT', detail);
  };
  if (typeof roster !== 'object' || roster === null) bad('not an object');
  const { sessionId, shareSetId, purpose, parties, expiresAt } = roster;
  if (
    !(sessionId instanceof Uint8Array) ||
    sessionId.length < ROSTER_MIN_SESSION_ID_LENGTH ||
    sessionId.length > ROSTER_MAX_SESSION_ID_LENGTH
  )
    bad('sessionId');
  if (typeof shareSetId !== 'string' || !ROSTER_ID_PATTERN.test(shareSetId)) bad('shareSetId');
  if (typeof purpose !== 'string' || !PURPOSE_PATTERN.test(purpose)) bad('purpose');
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) bad('expiresAt');
  if (
    !Array.isArray(parties) ||
    parties.length < ROSTER_MIN_PARTIES ||
    parties.length > ROSTER_MAX_PARTIES
  )
    bad('parties');
  // Array.isArray narrows to any[]: name the element type again.
  const list: readonly RosterParty[] = roster.parties;
  const sorted = [...list].sort((a, b) => a.index - b.index);
  const out: number[] = [];
  const bytes8 = (b: Uint8Array): void => {
    out.push(b.length, ...b);
  };
  bytes8(TAG_BYTES);
  bytes8(sessionId);
  bytes8(encoder.encode(shareSetId));
  bytes8(encoder.encode(purpose));
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(expiresAt), false);
  out.push(...time, sorted.length);
  let previous = 0;
  for (const p of sorted) {
    if (!Number.isInteger(p.index) || p.index <= previous || p.index > ROSTER_MAX_PARTY_INDEX)
      bad('party index missing, out of range or duplicate');
    if (typeof p.cosignerId !== 'string' || !ROSTER_ID_PATTERN.test(p.cosignerId))
      bad('cosignerId');
    if (!(p.identityKey instanceof Uint8Array) || p.identityKey.length !== ROSTER_KEY_LENGTH)
      bad('identityKey');
    if (!(p.agreementKey instanceof Uint8Array) || p.agreementKey.length !== ROSTER_KEY_LENGTH)
      bad('agreementKey');
    previous = p.index;
    out.push(p.index >>> 8, p.index & 0xff);
    bytes8(encoder.encode(p.cosignerId));
    out.push(...p.identityKey, ...p.agreementKey);
  }
  return Uint8Array.from(out);
}

/** Strict decoder of {@link encodeRoster}'s output: `ERR_ROSTER_MALFORMED` on any deviation. */
export function decodeRoster(bytes: Uint8Array): Roster {
  const r = new CanonicalReader(bytes, 'roster', malformed);
  const roster = readRoster(r);
  r.end();
  return roster;
}

/** Strict decoder of signed roster bytes (`roster ‖ signature`). Verifies nothing. */
export function decodeSignedRoster(bytes: Uint8Array): SignedRoster {
  const r = new CanonicalReader(bytes, 'signed roster', malformed);
  const roster = readRoster(r);
  const signedBytes = bytes.slice(0, r.position);
  const signature = r.take(ROSTER_SIGNATURE_LENGTH);
  r.end();
  return { roster, signedBytes, signature };
}

function readRoster(r: CanonicalReader): Roster {
  const tag = r.bytes8(TAG_BYTES.length, TAG_BYTES.length);
  // The tag is public: a plain comparison is fine.
  if (!tag.every((b, i) => b === TAG_BYTES[i])) r.fail('domain tag');
  const sessionId = r.bytes8(ROSTER_MIN_SESSION_ID_LENGTH, ROSTER_MAX_SESSION_ID_LENGTH);
  const shareSetId = r.ascii8(ROSTER_ID_PATTERN, 'shareSetId');
  const purpose = r.ascii8(PURPOSE_PATTERN, 'purpose') as RosterPurpose;
  const expiresAt = r.u64();
  const n = r.u8();
  if (n < ROSTER_MIN_PARTIES || n > ROSTER_MAX_PARTIES) r.fail('party count');
  const parties: RosterParty[] = [];
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const index = r.u16();
    if (index <= previous) r.fail('party indices not strictly ascending');
    previous = index;
    const cosignerId = r.ascii8(ROSTER_ID_PATTERN, 'cosignerId');
    const identityKey = r.take(ROSTER_KEY_LENGTH);
    const agreementKey = r.take(ROSTER_KEY_LENGTH);
    parties.push({ index, cosignerId, identityKey, agreementKey });
  }
  return { sessionId, shareSetId, purpose, parties, expiresAt };
}
