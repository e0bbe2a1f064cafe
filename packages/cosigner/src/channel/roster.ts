/**
 * Session roster (ARCHITECTURE.md §5): who takes part in one MPC session, under which long-term
 * keys, signed by the platform's Ed25519 authorization key (RFC 8032 §5.1.6/§5.1.7, strict
 * verification: canonical encodings, not ZIP-215).
 *
 * Canonical encoding, version 1 (integers big-endian; the Ed25519 signature covers exactly
 * these bytes, which begin with the domain tag):
 *
 * ```
 * roster       = u8 len ‖ "countersign/roster/v1"
 *              | u8 len ‖ sessionId            (16..64 bytes, the MPC sid)
 *              | u8 len ‖ shareSetId           (ASCII [A-Za-z0-9._:-], 1..128)
 *              | u8 len ‖ purpose              (KEYGEN | RESHARE | REFRESH | PRESIGN | SIGN)
 *              | u64 expiresAt                 (milliseconds since the Unix epoch)
 *              | u8 n                          (2..64)
 *              | n × ( u16 index               (1..65535, strictly ascending)
 *                    | u8 len ‖ cosignerId     (ASCII [A-Za-z0-9._:-], 1..128)
 *                    | identityKey (32)        (Ed25519)
 *                    | agreementKey (32) )     (X25519)
 * signedRoster = roster ‖ signature (64)
 * ```
 *
 * Indices are Shamir evaluation points (packages/mpc/docs/session-framework.md): unique, but not
 * necessarily 1..n (a reshare's new member takes an index no dealer uses). Ascending order makes
 * the encoding canonical and uniqueness structural.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ChannelError } from './channel-errors.js';
import {
  assertAgreementKey,
  assertIdentityKey,
  KEY_LENGTH,
  SIGNATURE_LENGTH,
  type PartyPublicKeys,
} from './identity.js';
import { constantTimeEqual, label, WireReader, WireWriter } from './wire-bytes.js';

/** Domain tag at the start of every roster encoding. */
export const ROSTER_DOMAIN_TAG = 'countersign/roster/v1';
export const MIN_SESSION_ID_LENGTH = 16;
export const MAX_SESSION_ID_LENGTH = 64;
export const MIN_ROSTER_PARTIES = 2;
/** As the MPC session framework (packages/mpc/docs/session-framework.md). */
export const MAX_ROSTER_PARTIES = 64;
export const MAX_PARTY_INDEX = 0xffff;

/** Why the session runs (the job kinds of ARCHITECTURE.md §5 that run MPC). */
export type RosterPurpose = 'KEYGEN' | 'RESHARE' | 'REFRESH' | 'PRESIGN' | 'SIGN';
const PURPOSES: ReadonlySet<string> = new Set(['KEYGEN', 'RESHARE', 'REFRESH', 'PRESIGN', 'SIGN']);
const PURPOSE_PATTERN = /^(KEYGEN|RESHARE|REFRESH|PRESIGN|SIGN)$/;
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const TAG_BYTES = label(ROSTER_DOMAIN_TAG);

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

/**
 * Canonical encoding of a roster (the bytes the platform signs). Parties are sorted by index.
 * Throws `ERR_CHANNEL_INVALID_ARGUMENT` on any field out of range or duplicate index.
 */
export function encodeRoster(roster: Roster): Uint8Array {
  const bad = (detail: string): never => {
    throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: `roster: ${detail}` });
  };
  if (typeof roster !== 'object' || roster === null) bad('not an object');
  const { sessionId, shareSetId, purpose, parties, expiresAt } = roster;
  if (
    !(sessionId instanceof Uint8Array) ||
    sessionId.length < MIN_SESSION_ID_LENGTH ||
    sessionId.length > MAX_SESSION_ID_LENGTH
  )
    bad('sessionId');
  if (typeof shareSetId !== 'string' || !ID_PATTERN.test(shareSetId)) bad('shareSetId');
  if (typeof purpose !== 'string' || !PURPOSES.has(purpose)) bad('purpose');
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) bad('expiresAt');
  if (
    !Array.isArray(parties) ||
    parties.length < MIN_ROSTER_PARTIES ||
    parties.length > MAX_ROSTER_PARTIES
  )
    bad('parties');
  const list: readonly RosterParty[] = roster.parties;
  const sorted = [...list].sort((a, b) => a.index - b.index);
  const w = new WireWriter()
    .bytes8(TAG_BYTES)
    .bytes8(sessionId)
    .ascii8(shareSetId)
    .ascii8(purpose)
    .u64(expiresAt)
    .u8(sorted.length);
  let previous = 0;
  for (const p of sorted) {
    if (!Number.isInteger(p.index) || p.index <= previous || p.index > MAX_PARTY_INDEX)
      bad('party index missing, out of range or duplicate');
    if (typeof p.cosignerId !== 'string' || !ID_PATTERN.test(p.cosignerId)) bad('cosignerId');
    if (!(p.identityKey instanceof Uint8Array) || p.identityKey.length !== KEY_LENGTH)
      bad('identityKey');
    if (!(p.agreementKey instanceof Uint8Array) || p.agreementKey.length !== KEY_LENGTH)
      bad('agreementKey');
    previous = p.index;
    w.u16(p.index).ascii8(p.cosignerId).raw(p.identityKey).raw(p.agreementKey);
  }
  return w.finish();
}

/** Strict decoder of {@link encodeRoster}'s output: `ERR_CHANNEL_MALFORMED` on any deviation. */
export function decodeRoster(bytes: Uint8Array): Roster {
  const r = new WireReader(bytes, 'roster');
  const roster = readRoster(r);
  r.end();
  return roster;
}

function readRoster(r: WireReader): Roster {
  const tag = r.bytes8(TAG_BYTES.length, TAG_BYTES.length);
  if (!constantTimeEqual(tag, TAG_BYTES)) r.fail('domain tag');
  const sessionId = r.bytes8(MIN_SESSION_ID_LENGTH, MAX_SESSION_ID_LENGTH);
  const shareSetId = r.ascii8(ID_PATTERN, 'shareSetId');
  const purpose = r.ascii8(PURPOSE_PATTERN, 'purpose') as RosterPurpose;
  const expiresAt = r.u64();
  const n = r.u8();
  if (n < MIN_ROSTER_PARTIES || n > MAX_ROSTER_PARTIES) r.fail('party count');
  const parties: RosterParty[] = [];
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const index = r.u16();
    if (index <= previous) r.fail('party indices not strictly ascending');
    previous = index;
    const cosignerId = r.ascii8(ID_PATTERN, 'cosignerId');
    const identityKey = r.take(KEY_LENGTH);
    const agreementKey = r.take(KEY_LENGTH);
    parties.push({ index, cosignerId, identityKey, agreementKey });
  }
  return { sessionId, shareSetId, purpose, parties, expiresAt };
}

/**
 * Signs a roster with the platform authorization key and returns the signed roster bytes.
 * For the platform side of the embedded default, tools and tests; co-signers only verify.
 */
export function signRoster(roster: Roster, platformSecretKey: Uint8Array): Uint8Array {
  if (!(platformSecretKey instanceof Uint8Array) || platformSecretKey.length !== KEY_LENGTH)
    throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'platform secret key' });
  const body = encodeRoster(roster);
  return new WireWriter().raw(body).raw(ed25519.sign(body, platformSecretKey)).finish();
}

/** A signed roster split into its signed bytes and its signature, strictly decoded. */
export interface SignedRoster {
  readonly roster: Roster;
  /** The canonical roster bytes the signature covers. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** Strict decoder of signed roster bytes (`roster ‖ signature`). Verifies nothing. */
export function decodeSignedRoster(bytes: Uint8Array): SignedRoster {
  const r = new WireReader(bytes, 'signed roster');
  const roster = readRoster(r);
  const signedBytes = bytes.slice(0, r.position);
  const signature = r.take(SIGNATURE_LENGTH);
  r.end();
  return { roster, signedBytes, signature };
}

/** What the caller expects of the roster, from its own job (all optional). */
export interface ExpectedRoster {
  readonly sessionId?: Uint8Array;
  readonly shareSetId?: string;
  readonly purpose?: RosterPurpose;
}

/** Options of {@link verifyRoster}. */
export interface VerifyRosterOptions {
  /** The pinned Ed25519 public key of the platform's authorization key. */
  readonly platformKey: Uint8Array;
  /** This party's public keys (`identity.publicKeys()`). */
  readonly me: PartyPublicKeys;
  /** Current time in milliseconds since the Unix epoch; defaults to `Date.now()`. */
  readonly now?: number;
  readonly expected?: ExpectedRoster;
}

const VERIFIED: unique symbol = Symbol('verified roster');

/**
 * A roster whose platform signature, expiry and consistency were checked, and which contains
 * this party exactly once. Only {@link verifyRoster} creates one. Accessors return copies.
 */
export class VerifiedRoster {
  readonly #sessionId: Uint8Array;
  readonly #parties: ReadonlyMap<number, RosterParty>;
  readonly #digest: Uint8Array;
  readonly shareSetId: string;
  readonly purpose: RosterPurpose;
  readonly expiresAt: number;
  /** This party's index. */
  readonly myIndex: number;

  /** @internal Use {@link verifyRoster}. */
  constructor(token: typeof VERIFIED, roster: Roster, myIndex: number, digest: Uint8Array) {
    if (token !== VERIFIED)
      throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'use verifyRoster' });
    this.#sessionId = roster.sessionId.slice();
    this.#parties = new Map(roster.parties.map((p) => [p.index, copyParty(p)]));
    this.#digest = digest;
    this.shareSetId = roster.shareSetId;
    this.purpose = roster.purpose;
    this.expiresAt = roster.expiresAt;
    this.myIndex = myIndex;
    Object.freeze(this);
  }

  get sessionId(): Uint8Array {
    return this.#sessionId.slice();
  }

  /** SHA-256 of the signed roster bytes, to tie logs and transcripts to this roster. */
  get digest(): Uint8Array {
    return this.#digest.slice();
  }

  /** Party indices, ascending. */
  get indices(): number[] {
    return [...this.#parties.keys()];
  }

  get parties(): RosterParty[] {
    return [...this.#parties.values()].map(copyParty);
  }

  /** The party with this index, or `undefined`. */
  party(index: number): RosterParty | undefined {
    const p = this.#parties.get(index);
    return p === undefined ? undefined : copyParty(p);
  }

  /** Whether `sessionId` is this roster's session (compared in constant time). */
  isSession(sessionId: Uint8Array): boolean {
    return (
      sessionId.length === this.#sessionId.length && constantTimeEqual(sessionId, this.#sessionId)
    );
  }
}

function copyParty(p: RosterParty): RosterParty {
  return Object.freeze({
    index: p.index,
    cosignerId: p.cosignerId,
    identityKey: p.identityKey.slice(),
    agreementKey: p.agreementKey.slice(),
  });
}

/**
 * Verifies a signed roster, in this order: strict decoding, the platform signature against the
 * pinned key, expiry, the caller's expectations, key validity and uniqueness, and that `me`
 * appears exactly once with both of its keys.
 */
export function verifyRoster(
  signedRoster: Uint8Array,
  options: VerifyRosterOptions,
): VerifiedRoster {
  const { platformKey, me, expected } = options;
  assertIdentityKey(platformKey, 'platform key');
  assertIdentityKey(me?.identityKey, 'my identity key');
  assertAgreementKey(me?.agreementKey, 'my agreement key');
  const now = options.now ?? Date.now();
  if (!Number.isSafeInteger(now))
    throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'now' });

  const { roster, signedBytes, signature } = decodeSignedRoster(signedRoster);
  let valid = false;
  try {
    valid = ed25519.verify(signature, signedBytes, platformKey, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) throw new ChannelError('ERR_CHANNEL_ROSTER_SIGNATURE_INVALID');

  if (now >= roster.expiresAt) throw new ChannelError('ERR_CHANNEL_ROSTER_EXPIRED');
  checkExpected(roster, expected);

  const invalid = (detail: string): never => {
    throw new ChannelError('ERR_CHANNEL_ROSTER_INVALID', { detail });
  };
  const parties = roster.parties;
  for (const p of parties) {
    try {
      assertIdentityKey(p.identityKey);
      assertAgreementKey(p.agreementKey);
    } catch {
      invalid(`party ${p.index}: invalid key`);
    }
  }
  for (let i = 0; i < parties.length; i++)
    for (let j = i + 1; j < parties.length; j++) {
      const a = parties[i];
      const b = parties[j];
      if (a === undefined || b === undefined) continue;
      if (
        constantTimeEqual(a.identityKey, b.identityKey) ||
        constantTimeEqual(a.agreementKey, b.agreementKey)
      )
        invalid(`parties ${a.index} and ${b.index} share a key`);
    }

  const mine = parties.filter((p) => constantTimeEqual(p.identityKey, me.identityKey));
  const entry = mine[0];
  if (mine.length !== 1 || entry === undefined) throw new ChannelError('ERR_CHANNEL_NOT_IN_ROSTER');
  if (!constantTimeEqual(entry.agreementKey, me.agreementKey))
    throw new ChannelError('ERR_CHANNEL_NOT_IN_ROSTER', { detail: 'agreement key differs' });

  const digest = sha256(signedRoster);
  return new VerifiedRoster(VERIFIED, roster, entry.index, digest);
}

function checkExpected(roster: Roster, expected: ExpectedRoster | undefined): void {
  if (expected === undefined) return;
  const mismatch = (detail: string): never => {
    throw new ChannelError('ERR_CHANNEL_ROSTER_MISMATCH', { detail });
  };
  if (
    expected.sessionId !== undefined &&
    !(
      expected.sessionId.length === roster.sessionId.length &&
      constantTimeEqual(expected.sessionId, roster.sessionId)
    )
  )
    mismatch('sessionId');
  if (expected.shareSetId !== undefined && expected.shareSetId !== roster.shareSetId)
    mismatch('shareSetId');
  if (expected.purpose !== undefined && expected.purpose !== roster.purpose) mismatch('purpose');
}
