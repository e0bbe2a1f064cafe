/**
 * Applying a DKLs23 ban to a stored key share (review 2026-11-24, H2; specs/dkls23.md,
 * "Building blocks" 4: "A failed check bans the counterparty and destroys this OT setup").
 *
 * A failed KOS or μ check destroys the OT setups with the banned party in the key share object
 * the session was given. The co-signer's durable copy of the key share is another object: it
 * must be marked too, or the next presign with that party reuses Δ — a selective-abort
 * campaign that leaks Δ about one bit per attempt, and with Δ Alice's RVOLE input. This helper
 * takes the error, or the bytes of the failed session (which keep the error's evidence, session
 * state v3), and marks the setups in any key share object; the caller then persists it
 * (`exportDkls23KeyShare` keeps the flags) and schedules a refresh, which builds fresh setups.
 *
 * The ban is also recorded in the process-wide table (`ot-ban-table.ts`, review 2026-11-27,
 * F1), so presigning sessions of this process still in flight on other copies of the key share
 * stop at their next use of the setups.
 *
 * Rule, fail closed: on `ERR_MPC_OT_CHECK` with culprit j, *both* ordered pairs with j are
 * destroyed, whatever the error says about directions (a v2 session state, or an error from
 * another source, carries no direction). An `ERR_MPC_OT_CHECK` that names nobody but me (a
 * party never bans itself) destroys the setups with every other party of the session. Other failures (Γ, Σ pk = X, R ≠ O,
 * commitments) do not endanger the setups and change nothing.
 * @module
 */
import { MpcError, isMpcError } from '../errors.js';
import { Session } from '../session.js';
import { Dkls23CheckError, restoreDkls23CheckError } from './check-error.js';
import { dkls23ProtocolIds } from './hashing.js';
import {
  checkDkls23KeyShare,
  shareSetId,
  type Dkls23KeyShare,
  type Dkls23Pair,
} from './key-share.js';
import { banOtSetups } from './ot-ban-table.js';
import { destroyOtSetup } from './ot-extension.js';

const DKLS23_PROTOCOLS: readonly string[] = Object.values(dkls23ProtocolIds);

/**
 * Marks in `keyShare` the OT setups that `failure` destroyed (see the module rule) and returns
 * them as ordered pairs `[sender, receiver]` (empty when the failure does not destroy setups).
 * `failure` is the error of a DKLs23 session, or the `toBytes()` of a DKLs23 session of this
 * key share's party (a session that did not fail changes nothing). No I/O.
 */
export function applyDkls23Ban(
  keyShare: Dkls23KeyShare,
  failure: MpcError | Uint8Array,
): (readonly [number, number])[] {
  let error: MpcError | undefined;
  let sessionParties: readonly number[] | undefined;
  if (failure instanceof Uint8Array) {
    const protocol = Session.peekProtocol(failure);
    if (!DKLS23_PROTOCOLS.includes(protocol))
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'not a DKLs23 session' });
    const peeked = Session.peekFailure(failure, restoreDkls23CheckError);
    if (peeked.header.me !== keyShare.index)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'session of another party' });
    error = peeked.failure;
    sessionParties = peeked.header.parties;
  } else if (isMpcError(failure)) error = failure;
  else throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'failure' });
  // A presigning failure names its share set: refuse to apply it to another one, which would
  // destroy setups there and leave the failing set's live (review 2026-11-27, F4).
  if (
    error instanceof Dkls23CheckError &&
    error.shareSetId !== undefined &&
    !Buffer.from(error.shareSetId).equals(shareSetId(keyShare))
  )
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'failure of another share set' });
  if (error === undefined || error.code !== 'ERR_MPC_OT_CHECK') return [];

  const me = keyShare.index;
  const banned = new Set<number>();
  if (error.culprit !== undefined) banned.add(error.culprit);
  if (error instanceof Dkls23CheckError)
    for (const [s, r] of error.otSetupDestroyed) banned.add(s === me ? r : s);
  // I cannot ban myself: an error that names only me (corrupted, or from another source) names
  // nobody, and falls to the rule below (review 2026-11-27, F3).
  banned.delete(me);
  if (banned.size === 0)
    for (const p of sessionParties ?? keyShare.parties) if (p !== me) banned.add(p);

  const pairs = [...banned]
    .sort((a, b) => a - b)
    .map((j) => {
      const pair = keyShare.pairs.find((p) => p.party === j);
      // The error names a party this key share has no pair with: not this share set's error.
      if (pair === undefined)
        throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'banned party not in key share' });
      return pair;
    });
  return destroyPairs(keyShare, pairs);
}

/**
 * Marks every OT setup of `keyShare` destroyed and returns them as ordered pairs. For the
 * restore from backup (ARCHITECTURE.md §9; review 2026-11-27, F5): a whole-database restore
 * brings back the `destroyed` flags as they were at the backup, so a setup banned after it would
 * come back to life, and the banned peer would get a fresh selective-abort budget on the same Δ.
 * The caller marks every DKLs23 key share it restored, persists it, and refreshes the share set
 * before it presigns again (a refresh builds fresh setups). The shares themselves stay valid.
 */
export function markAllDkls23SetupsDestroyed(
  keyShare: Dkls23KeyShare,
): (readonly [number, number])[] {
  checkDkls23KeyShare(keyShare);
  return destroyPairs(keyShare, keyShare.pairs);
}

/** Destroys both setups of each pair, in the object and in the process-wide table. */
function destroyPairs(
  keyShare: Dkls23KeyShare,
  pairs: readonly Dkls23Pair[],
): (readonly [number, number])[] {
  const me = keyShare.index;
  const destroyed: (readonly [number, number])[] = [];
  const setId = shareSetId(keyShare);
  for (const pair of pairs) {
    // The process-wide table too: sessions in flight on other copies stop at their next use (F1).
    banOtSetups(setId, me, pair.party);
    destroyOtSetup(pair.otSender);
    destroyOtSetup(pair.otReceiver);
    destroyed.push([me, pair.party], [pair.party, me]);
  }
  return destroyed;
}
