/**
 * The typed error of a failed DKLs23 check that bans a party (specs/dkls23.md, "Building
 * blocks" 4: "A failed check bans the counterparty and destroys this OT setup"; issue 4,
 * deliverable 5). The co-signer reads `banned` and `otSetupDestroyed` to mark the share set
 * for refresh: the destroyed setup is never used again, because retrying on it after a
 * selective abort would leak Δ bit by bit.
 * @module
 */
import { ByteReader, ByteWriter } from '../bytes.js';
import { MpcError, type MpcErrorCode } from '../errors.js';
import { FAILURE_EVIDENCE, type ErrorWithEvidence, type SessionHeader } from '../session.js';
import { dkls23ProtocolIds } from './hashing.js';

/** Length of a share-set id (`shareSetId`: a SHA-256 output). */
const SHARE_SET_ID_LENGTH = 32;

/** Which check failed. */
export type Dkls23Check =
  | 'kos'
  | 'mu'
  | 'gamma-u'
  | 'gamma-v'
  | 'sum-pk'
  | 'r-not-zero'
  | 'commitment'
  | 'proof-of-knowledge'
  | 'feldman'
  | 'transcript';

const CODES: Record<Dkls23Check, MpcErrorCode> = {
  kos: 'ERR_MPC_OT_CHECK',
  mu: 'ERR_MPC_OT_CHECK',
  'gamma-u': 'ERR_MPC_CONSISTENCY_CHECK',
  'gamma-v': 'ERR_MPC_CONSISTENCY_CHECK',
  'sum-pk': 'ERR_MPC_PUBLIC_KEY_MISMATCH',
  'r-not-zero': 'ERR_MPC_CONSISTENCY_CHECK',
  commitment: 'ERR_MPC_COMMITMENT_MISMATCH',
  'proof-of-knowledge': 'ERR_MPC_INVALID_PROOF',
  feldman: 'ERR_MPC_INVALID_SHARE',
  transcript: 'ERR_MPC_INCONSISTENT_BROADCAST',
};

/** A failed DKLs23 check naming the banned party. */
export class Dkls23CheckError extends MpcError implements ErrorWithEvidence {
  /** The check that failed. */
  readonly check: Dkls23Check;
  /**
   * The party at fault (same as `culprit`), banned from further sessions with this setup;
   * undefined when the check cannot tell which of several others deviated (`sum-pk` and
   * `r-not-zero` with three or more signers, docs/dkls23-notes.md).
   */
  readonly banned: number | undefined;
  /** The ordered pairs `[sender, receiver]` whose OT setup was wiped, if any. */
  readonly otSetupDestroyed: readonly (readonly [number, number])[];
  /**
   * Presigning: the id of the share set whose setups the failure concerns (`shareSetId`), so a
   * ban is never applied to another share set of the same party (review 2026-11-27, F4).
   * Undefined for key generation, whose checks destroy no setup.
   */
  readonly shareSetId: Uint8Array | undefined;

  /**
   * @param suspects when `banned` is undefined: the parties one of which is at fault (the
   *   framework's `MpcError.suspects`).
   * @param shareSetId presigning: the share set of the session (32 bytes).
   */
  constructor(
    check: Dkls23Check,
    banned: number | undefined,
    otSetupDestroyed: readonly (readonly [number, number])[] = [],
    suspects?: readonly number[],
    shareSetId?: Uint8Array,
  ) {
    super(CODES[check], {
      culprit: banned,
      suspects: banned === undefined ? suspects : undefined,
      detail: check,
    });
    this.name = 'Dkls23CheckError';
    this.check = check;
    this.banned = banned;
    this.otSetupDestroyed = otSetupDestroyed;
    if (shareSetId !== undefined && shareSetId.length !== SHARE_SET_ID_LENGTH)
      throw new RangeError('share-set id length');
    this.shareSetId = shareSetId?.slice();
  }

  /**
   * Evidence kept with a failed session (session state v3), so that `check` and
   * `otSetupDestroyed` survive a restart (review 2026-11-24, H2):
   * `ascii check | u8 count | count × (u16 sender, u16 receiver)`, then, for presigning, the
   * 32-byte share-set id (F4).
   */
  [FAILURE_EVIDENCE](): Uint8Array {
    const w = new ByteWriter().ascii(this.check).u8(this.otSetupDestroyed.length);
    for (const [s, r] of this.otSetupDestroyed) w.u16(s).u16(r);
    if (this.shareSetId !== undefined) w.raw(this.shareSetId);
    return w.finish();
  }
}

/**
 * {@link FailureLoader} of the DKLs23 sessions: the {@link Dkls23CheckError} of a restored
 * failed session, from its code, culprit and suspects and its evidence. Strict: the check must
 * be known and match the code, the culprit must be the banned party and not me (nor may me be
 * a suspect), and every destroyed pair must be an ordered pair of session members with me on one
 * side, at most once each. A presigning failure ends with its share-set id; one without it (a
 * state written before F4) is refused rather than guessed.
 */
export function restoreDkls23CheckError(
  header: SessionHeader,
  base: MpcError,
  evidence: Uint8Array,
): MpcError {
  const r = new ByteReader(evidence, 'DKLs23 check evidence');
  const check = r.ascii();
  if (!Object.prototype.hasOwnProperty.call(CODES, check)) return r.fail('check');
  const known = check as Dkls23Check;
  if (CODES[known] !== base.code) r.fail('check does not match the code');
  const pairs: (readonly [number, number])[] = [];
  for (let n = r.u8(); n > 0; n--) {
    const pair = [r.u16(), r.u16()] as const;
    const other = pair[0] === header.me ? pair[1] : pair[1] === header.me ? pair[0] : 0;
    if (other === header.me || !header.parties.includes(other)) r.fail('destroyed pair');
    if (pairs.some(([a, b]) => a === pair[0] && b === pair[1])) r.fail('destroyed pair twice');
    pairs.push(pair);
  }
  // Presigning evidence carries the share set (F4); the exact length tells the layouts apart.
  const setId =
    header.protocol === dkls23ProtocolIds.presign ? r.take(SHARE_SET_ID_LENGTH) : undefined;
  r.end();
  const banned = base.culprit;
  // No check of mine bans me: such a state is corrupted or forged (review 2026-11-27, F3).
  if (banned === header.me) r.fail('banned party is me');
  if (base.suspects?.includes(header.me) === true) r.fail('suspects include me');
  // The constructor keeps suspects only when nobody is banned.
  if (banned !== undefined && base.suspects !== undefined) r.fail('banned party and suspects');
  return new Dkls23CheckError(known, banned, pairs, base.suspects, setId);
}
