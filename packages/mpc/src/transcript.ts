/**
 * Broadcast consistency by transcript echo.
 *
 * A broadcast over a relay is only a multicast: a malicious sender (or relay) can show
 * different parties different "broadcasts". In the confirmation round of every protocol, each
 * party prefixes its broadcast with an echo: for every party k of the session (in index
 * order), a 32-byte digest of all broadcasts it received from k in the earlier rounds (its own
 * included). Each receiver compares the echo with its own view (the "echo broadcast" of
 * Goldwasser–Lindell, *Secure MPC without agreement*, J. Cryptology 2005, §3; RFC 9591 §5
 * leaves broadcast to the application). No honest party outputs before every echo matched.
 *
 * Attribution when party i receives an echo from j that differs on k's digest:
 * - k = j: j contradicts its own broadcast → j;
 * - k = i: j claims i sent something i did not → j;
 * - otherwise either k showed i and j different broadcasts, or j lies about what it received
 *   from k: i holds no evidence telling the two apart (only k's signed messages as j received
 *   them could), so nobody is named: `culprit` is unset and `suspects` is [j, k]. Naming k would
 *   let a malicious j frame an honest k.
 * @module
 */
import { constantTimeEqual, u16be } from './bytes.js';
import { MpcError } from './errors.js';
import { label, sessionHasher } from './hash.js';

/** Length of one digest in an echo. */
export const ECHO_DIGEST_LENGTH = 32;

/** Broadcast log: round → sender → payload (own broadcasts included). */
export type BroadcastLog = ReadonlyMap<number, ReadonlyMap<number, Uint8Array>>;

/** Digest of everything `party` broadcast before `beforeRound`. */
export function broadcastDigest(
  protocol: string,
  sid: Uint8Array,
  party: number,
  log: BroadcastLog,
  beforeRound: number,
): Uint8Array {
  const fields: Uint8Array[] = [label(protocol), sid, u16be(party)];
  for (let round = 1; round < beforeRound; round++) {
    const payload = log.get(round)?.get(party);
    fields.push(Uint8Array.of(round, payload === undefined ? 0 : 1), payload ?? new Uint8Array(0));
  }
  return sessionHasher.hash('echo', ...fields);
}

/** My echo: one digest per session party, in index order. */
export function computeEcho(
  protocol: string,
  sid: Uint8Array,
  parties: readonly number[],
  log: BroadcastLog,
  beforeRound: number,
): Uint8Array {
  const out = new Uint8Array(parties.length * ECHO_DIGEST_LENGTH);
  parties.forEach((k, idx) =>
    out.set(broadcastDigest(protocol, sid, k, log, beforeRound), idx * ECHO_DIGEST_LENGTH),
  );
  return out;
}

/**
 * Compares the echo received from `from` with mine; throws `ERR_MPC_INCONSISTENT_BROADCAST`
 * naming the culprit, or the suspects, by the rules above.
 */
export function checkEcho(
  parties: readonly number[],
  me: number,
  from: number,
  mine: Uint8Array,
  theirs: Uint8Array,
): void {
  if (theirs.length !== mine.length)
    throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'echo length' });
  // Check the parties whose mismatch is attributable to `from` first.
  const order = [from, me, ...parties.filter((k) => k !== from && k !== me)];
  for (const k of order) {
    const idx = parties.indexOf(k);
    const a = mine.subarray(idx * ECHO_DIGEST_LENGTH, (idx + 1) * ECHO_DIGEST_LENGTH);
    const b = theirs.subarray(idx * ECHO_DIGEST_LENGTH, (idx + 1) * ECHO_DIGEST_LENGTH);
    if (!constantTimeEqual(a, b)) {
      const detail = `broadcasts of party ${k}`;
      if (k === from || k === me)
        throw new MpcError('ERR_MPC_INCONSISTENT_BROADCAST', { culprit: from, detail });
      throw new MpcError('ERR_MPC_INCONSISTENT_BROADCAST', {
        suspects: [from, k].sort((x, y) => x - y),
        detail,
      });
    }
  }
}
