// FROST key shares for the job tests: a real Ed25519 DKG among parties 1..3, run in-process.
import {
  dkg,
  encodeMessage,
  type KeyShare,
  type ProtocolMessage,
  type Session,
} from '@countersign/mpc';

/** Every party's share of a fresh Ed25519 key (DKG session `sidByte` repeated), by index. */
export function ed25519KeyShares(sidByte: number): Map<number, KeyShare> {
  const parties = [1, 2, 3];
  const sessions = new Map<number, Session<KeyShare>>(
    parties.map((me) => [
      me,
      dkg({ curve: 'ed25519', sid: new Uint8Array(32).fill(sidByte), parties, me, threshold: 3 }),
    ]),
  );
  const queue: { to: number; bytes: Uint8Array }[] = [];
  const post = (messages: ProtocolMessage[]): void => {
    for (const m of messages)
      for (const to of m.to === 'broadcast' ? parties.filter((p) => p !== m.from) : [m.to])
        queue.push({ to, bytes: encodeMessage(m) });
  };
  for (const session of sessions.values()) post(session.start());
  for (let next = queue.shift(); next !== undefined; next = queue.shift())
    post(sessions.get(next.to)!.receive(next.bytes));
  return new Map(parties.map((me) => [me, sessions.get(me)!.result()]));
}
