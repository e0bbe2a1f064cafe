// Real DKLs23 material for the co-signer's store tests, made in-process with the public API of
// @countersign/mpc: a 3-of-3 DKG among parties 1..3, and the genuine Dkls23CheckError of a
// presigning session in which party 2 flips one bit of its KOS message to party 1.
import { randomBytes } from 'node:crypto';
import {
  decodeMessage,
  dkls23Dkg,
  dkls23Presign,
  Dkls23CheckError,
  encodeMessage,
  NonDurablePresignSessionRegistry,
  type Dkls23KeyShare,
  type ProtocolMessage,
  type Session,
} from '@countersign/mpc';

const PARTIES = [1, 2, 3];

/** Delivers every message among `sessions` until none is left; returns each party's error. */
function route<R>(
  sessions: Map<number, Session<R>>,
  tamper: (m: ProtocolMessage, to: number) => ProtocolMessage = (m) => m,
): Map<number, unknown> {
  const queue: { to: number; bytes: Uint8Array }[] = [];
  const errors = new Map<number, unknown>();
  const post = (messages: readonly ProtocolMessage[]): void => {
    for (const m of messages)
      for (const to of m.to === 'broadcast' ? PARTIES.filter((p) => p !== m.from) : [m.to])
        queue.push({ to, bytes: encodeMessage(tamper(decodeMessage(encodeMessage(m)), to)) });
  };
  for (const s of sessions.values()) post(s.start());
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const session = sessions.get(next.to)!;
    if (session.status === 'failed') continue;
    try {
      post(session.receive(next.bytes));
    } catch (e) {
      errors.set(next.to, e);
    }
  }
  return errors;
}

/** Every party's key share of a fresh 3-of-3 DKLs23 DKG. */
export function dkls23KeyShares(): Map<number, Dkls23KeyShare> {
  const sid = randomBytes(32);
  const sessions = new Map(
    PARTIES.map((me) => [me, dkls23Dkg({ sid, parties: PARTIES, me, threshold: 3 })]),
  );
  const errors = route(sessions);
  if (errors.size > 0) throw new Error(`DKG failed: ${[...errors.values()].join('; ')}`);
  return new Map(PARTIES.map((me) => [me, sessions.get(me)!.result()]));
}

/** Party 1's error when party 2 corrupts its KOS message to party 1: a `kos` ban of party 2. */
export async function kosFailureAtParty1(
  shares: Map<number, Dkls23KeyShare>,
): Promise<Dkls23CheckError> {
  const sid = randomBytes(32);
  const registry = new NonDurablePresignSessionRegistry();
  const sessions = new Map<number, Session<unknown>>();
  for (const me of PARTIES)
    sessions.set(
      me,
      await dkls23Presign({ sid, keyShare: shares.get(me)!, signers: PARTIES, registry }),
    );
  const errors = route(sessions, (m, to) => {
    if (m.from !== 2 || to !== 1 || m.round !== 1 || m.to !== 1) return m;
    const payload = m.payload.slice();
    payload[40] = (payload[40] ?? 0) ^ 1; // inside the KOS matrix U, after Bob's nonce
    return { ...m, payload };
  });
  const error = errors.get(1);
  if (!(error instanceof Dkls23CheckError) || error.code !== 'ERR_MPC_OT_CHECK')
    throw new Error(`expected a KOS failure at party 1, got ${String(error)}`);
  return error;
}

/** The `destroyed` flag of both OT setups with each peer, by peer. */
export function setupsDestroyed(share: Dkls23KeyShare): Record<number, boolean> {
  return Object.fromEntries(
    share.pairs.map((p) => [p.party, p.otSender.destroyed && p.otReceiver.destroyed]),
  );
}
