/**
 * The typed error of a failed DKLs23 check that bans a party (specs/dkls23.md, "Building
 * blocks" 4: "A failed check bans the counterparty and destroys this OT setup"; issue 4,
 * deliverable 5). The co-signer reads `banned` and `otSetupDestroyed` to mark the share set
 * for refresh: the destroyed setup is never used again, because retrying on it after a
 * selective abort would leak Δ bit by bit.
 * @module
 */
import { MpcError, type MpcErrorCode } from '../errors.js';

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
export class Dkls23CheckError extends MpcError {
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
   * @param suspects when `banned` is undefined: the parties one of which is at fault (the
   *   framework's `MpcError.suspects`).
   */
  constructor(
    check: Dkls23Check,
    banned: number | undefined,
    otSetupDestroyed: readonly (readonly [number, number])[] = [],
    suspects?: readonly number[],
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
  }
}
