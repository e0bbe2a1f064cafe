// In-process router for tests and the benchmark: delivers every message of a set of sessions
// until all are done or one fails. A hook may rewrite (or drop) a message per recipient.
import {
  decodeMessage,
  dkg,
  encodeMessage,
  type CurveName,
  type KeyShare,
  type MpcError,
  type ProtocolMessage,
  type RandomSource,
  type Session,
} from '../src/index.js';
import { dkgForTesting } from '../src/test-hooks.js';
import { sha256 } from '@noble/hashes/sha2.js';

export type Tamper = (m: ProtocolMessage, to: number) => ProtocolMessage | null;

export interface RunOutcome<R> {
  results: Map<number, R>;
  errors: Map<number, MpcError>;
  /** Bytes sent per round (sum over all parties, counting each p2p and broadcast once). */
  bytesPerRound: Map<number, number>;
}

export function runSessions<R>(sessions: Map<number, Session<R>>, tamper?: Tamper): RunOutcome<R> {
  const queue: { to: number; bytes: Uint8Array }[] = [];
  const bytesPerRound = new Map<number, number>();
  const errors = new Map<number, MpcError>();
  const post = (msgs: ProtocolMessage[]): void => {
    for (const m of msgs) {
      const encoded = encodeMessage(m);
      bytesPerRound.set(m.round, (bytesPerRound.get(m.round) ?? 0) + encoded.length);
      const targets =
        m.to === 'broadcast' ? [...sessions.keys()].filter((p) => p !== m.from) : [m.to];
      for (const to of targets) {
        const t = tamper ? tamper(decodeMessage(encoded), to) : m;
        if (t !== null) queue.push({ to, bytes: encodeMessage(t) });
      }
    }
  };
  for (const s of sessions.values()) post(s.start());
  while (queue.length > 0) {
    const { to, bytes } = queue.shift()!;
    const s = sessions.get(to)!;
    if (s.status === 'failed') continue;
    try {
      post(s.receive(bytes));
    } catch (e) {
      errors.set(to, e as MpcError);
    }
  }
  const results = new Map<number, R>();
  for (const [i, s] of sessions) if (s.status === 'done') results.set(i, s.result());
  return { results, errors, bytesPerRound };
}

export function sid(label: string): Uint8Array {
  const out = new Uint8Array(32);
  out.set(new TextEncoder().encode(label).subarray(0, 32));
  return out;
}

/** Deterministic randomness for tests: SHA-256(label ‖ counter) blocks. */
export function seededRandom(label: string): RandomSource {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = sha256(new TextEncoder().encode(`${label}/${counter++}`));
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

/**
 * Runs a DKG among `parties` and returns every party's key share. A threshold below the party
 * count (2-of-3 tests) passes the explicit opt-out; `seed` makes the key deterministic.
 */
export function runDkg(
  curve: CurveName,
  parties: number[],
  threshold: number,
  label = 'dkg',
  seed?: string,
): Map<number, KeyShare> {
  const params = (me: number) => ({
    curve,
    sid: sid(label),
    parties,
    me,
    threshold,
    ...(threshold < parties.length ? { allowThresholdBelowPartyCount: true } : {}),
  });
  const sessions = new Map(
    parties.map((me) => [
      me,
      seed === undefined
        ? dkg(params(me))
        : dkgForTesting(params(me), { random: seededRandom(`${seed}/${me}`) }),
    ]),
  );
  const out = runSessions(sessions);
  if (out.errors.size > 0 || out.results.size !== parties.length) throw new Error('DKG failed');
  return out.results;
}
