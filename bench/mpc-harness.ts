// Shared by the MPC benchmarks: runs a set of sessions in one process to completion,
// delivering every message, and counts the bytes each round puts on the wire.
import {
  dkls23Presign,
  encodeMessage,
  type Dkls23KeyShare,
  type Dkls23Presignature,
  type PresignSessionRegistry,
  type ProtocolMessage,
  type Session,
} from '@countersign/mpc';

export interface Run<R> {
  results: Map<number, R>;
  bytesPerRound: Record<string, number>;
}

/** Delivers all messages; counts each encoded message once (a broadcast is one message). */
export function run<R>(sessions: Map<number, Session<R>>): Run<R> {
  const queue: { to: number; bytes: Uint8Array }[] = [];
  const bytesPerRound: Record<string, number> = {};
  const post = (msgs: ProtocolMessage[]): void => {
    for (const m of msgs) {
      const bytes = encodeMessage(m);
      bytesPerRound[`round${m.round}`] = (bytesPerRound[`round${m.round}`] ?? 0) + bytes.length;
      for (const to of m.to === 'broadcast'
        ? [...sessions.keys()].filter((p) => p !== m.from)
        : [m.to])
        queue.push({ to, bytes });
    }
  };
  for (const s of sessions.values()) post(s.start());
  for (let next = queue.shift(); next !== undefined; next = queue.shift())
    post(sessions.get(next.to)!.receive(next.bytes));
  const results = new Map<number, R>();
  for (const [i, s] of sessions) results.set(i, s.result());
  return { results, bytesPerRound };
}

let counter = 0;
/** A fresh 32-byte session id per call. */
export const sid = (): Uint8Array => {
  const out = new Uint8Array(32);
  new DataView(out.buffer).setUint32(0, ++counter);
  return out;
};

/**
 * One DKLs23 presigning run among the holders of `shares` under a fresh sid, each party claiming
 * it in its own registry (each co-signer has its own durable one).
 */
export async function presignAll(
  shares: ReadonlyMap<number, Dkls23KeyShare>,
  registries: ReadonlyMap<number, PresignSessionRegistry>,
): Promise<Run<Dkls23Presignature>> {
  const id = sid();
  const signers = [...shares.keys()];
  const sessions = new Map<number, Session<Dkls23Presignature>>();
  for (const [me, keyShare] of shares)
    sessions.set(
      me,
      await dkls23Presign({ sid: id, keyShare, signers, registry: registries.get(me)! }),
    );
  return run(sessions);
}
