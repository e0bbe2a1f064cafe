/**
 * The process-wide table of banned DKLs23 OT setups (review 2026-11-27, F1).
 *
 * A failed KOS or μ check destroys the setups with the banned party in the key share *object*
 * the session was given, and `applyDkls23Ban` marks whichever object the caller passes. But the
 * same stored share is usually loaded many times: every presigning session of a pool refill has
 * its own copy, created before the ban and still running after it. Each KOS probe, pass or fail,
 * tells the prober one bit of Δ; with a copy per session, a batch of N sessions gives N bits, and
 * with ≈ 100 of 128 bits the prober finds Δ, hence Alice's RVOLE input (r_i, sk_i).
 *
 * So a ban is also recorded here, keyed by public data only — H("ot-setup", share-set id,
 * u16 sender, u16 receiver), both directions — and checked synchronously at creation and at the
 * moment each setup is used (Bob before his extension message, Alice before her answer), so every
 * session of this process, on any copy, stops at the first failure.
 *
 * Scope: one JavaScript module instance — one process, or one worker thread, which has its own
 * module instances (two copies of the package in one process would also hold two tables). Other
 * processes and threads sharing the share set learn of a ban only through the durable key share,
 * which they cannot consult synchronously; the caller bounds what slips through by capping
 * in-flight presigning sessions (docs/dkls23-notes.md, "Requirements on the caller").
 * Memory: two 64-character keys per ban, never evicted — evicting would revive a setup — and
 * bans are rare (each needs a misbehaving peer, and is followed by a refresh, which builds
 * setups under a new share-set id).
 * @module
 */
import { MpcError } from '../errors.js';
import { dkls23Hasher, u16 } from './hashing.js';

const banned = new Set<string>();

function key(setId: Uint8Array, sender: number, receiver: number): string {
  return Buffer.from(dkls23Hasher.hash('ot-setup', setId, u16(sender), u16(receiver))).toString(
    'hex',
  );
}

/** Records the ban of both OT setups between `me` and `j` in share set `setId`. */
export function banOtSetups(setId: Uint8Array, me: number, j: number): void {
  banned.add(key(setId, me, j));
  banned.add(key(setId, j, me));
}

/** Whether either OT setup between `me` and `j` in share set `setId` was banned in this process. */
export function isOtPairBanned(setId: Uint8Array, me: number, j: number): boolean {
  return banned.has(key(setId, me, j)) || banned.has(key(setId, j, me));
}

/** Throws `ERR_MPC_OT_SETUP_DESTROYED` (culprit j) if a setup between `me` and `j` is banned. */
export function assertOtPairNotBanned(setId: Uint8Array, me: number, j: number): void {
  if (isOtPairBanned(setId, me, j))
    throw new MpcError('ERR_MPC_OT_SETUP_DESTROYED', { culprit: j, detail: 'banned' });
}
