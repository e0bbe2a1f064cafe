/**
 * Session roster (ARCHITECTURE.md §5): who takes part in one MPC session, under which long-term
 * keys, signed by the platform's Ed25519 authorization key (RFC 8032 §5.1.6/§5.1.7, strict
 * verification: canonical encodings, not ZIP-215).
 *
 * The canonical encoding (`countersign/roster/v1`) lives in `@countersign/protocol`, shared with
 * the platform that signs it; this module adds the co-signer's side: strict verification and the
 * verified roster. Format errors surface as `ERR_CHANNEL_INVALID_ARGUMENT` (encoding) and
 * `ERR_CHANNEL_MALFORMED` (decoding), as for every channel format.
 * @module
 */
import {
  decodeRoster as decodeRosterBytes,
  decodeSignedRoster as decodeSignedRosterBytes,
  encodeRoster as encodeRosterBytes,
  RosterFormatError,
  type Roster,
  type RosterParty,
  type RosterPurpose,
  type SignedRoster,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ChannelError } from './channel-errors.js';
import { assertIdentityKey, verifyEd25519Strict } from './ed25519-strict.js';
import { assertAgreementKey, KEY_LENGTH, type PartyPublicKeys } from './identity.js';
import { constantTimeEqual, WireWriter } from './wire-bytes.js';

export { ROSTER_DOMAIN_TAG } from '@countersign/protocol';
export {
  ROSTER_MAX_PARTY_INDEX as MAX_PARTY_INDEX,
  ROSTER_MAX_SESSION_ID_LENGTH as MAX_SESSION_ID_LENGTH,
  ROSTER_MIN_SESSION_ID_LENGTH as MIN_SESSION_ID_LENGTH,
} from '@countersign/protocol';
export type { Roster, RosterParty, RosterPurpose, SignedRoster } from '@countersign/protocol';

/** Runs a protocol roster codec, reporting its format errors as channel errors. */
function asChannelError<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof RosterFormatError)) throw error;
    const code =
      error.code === 'ERR_ROSTER_MALFORMED'
        ? 'ERR_CHANNEL_MALFORMED'
        : 'ERR_CHANNEL_INVALID_ARGUMENT';
    throw new ChannelError(code, {
      detail: code === 'ERR_CHANNEL_MALFORMED' ? error.detail : `roster: ${error.detail}`,
    });
  }
}

/**
 * Canonical encoding of a roster (the bytes the platform signs). Parties are sorted by index.
 * Throws `ERR_CHANNEL_INVALID_ARGUMENT` on any field out of range or duplicate index.
 */
export function encodeRoster(roster: Roster): Uint8Array {
  return asChannelError(() => encodeRosterBytes(roster));
}

/** Strict decoder of {@link encodeRoster}'s output: `ERR_CHANNEL_MALFORMED` on any deviation. */
export function decodeRoster(bytes: Uint8Array): Roster {
  return asChannelError(() => decodeRosterBytes(bytes));
}

/** Strict decoder of signed roster bytes (`roster ‖ signature`). Verifies nothing. */
export function decodeSignedRoster(bytes: Uint8Array): SignedRoster {
  return asChannelError(() => decodeSignedRosterBytes(bytes));
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
  if (!verifyEd25519Strict(signature, signedBytes, platformKey))
    throw new ChannelError('ERR_CHANNEL_ROSTER_SIGNATURE_INVALID');

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
