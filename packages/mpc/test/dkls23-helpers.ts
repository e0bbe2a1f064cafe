// Shared fixtures of the DKLs23 tests: DKG, presigning and online signing through the
// in-process router, plus a deterministic randomness source for fast fixtures.
import {
  combineSignatureShares,
  createSignatureShare,
  dkls23Dkg,
  dkls23Presign,
  InMemoryPresignatureStore,
  publicShareSet,
  type DerivationPath,
  type Dkls23KeyShare,
  type Dkls23Presignature,
  type Dkls23Signature,
  type PresignatureStore,
  type ProtocolMessage,
  type Session,
} from '../src/index.js';
import { encodeMessage } from '../src/message.js';
import { runSessions, sid, type RunOutcome, type Tamper } from './helpers.js';

export function runDkls23Dkg(
  parties: number[],
  threshold: number,
  label = 'dkls23-dkg',
): Map<number, Dkls23KeyShare> {
  const sessions = new Map(
    parties.map((me) => [me, dkls23Dkg({ sid: sid(label), parties, me, threshold })]),
  );
  const out = runSessions(sessions);
  if (out.errors.size > 0 || out.results.size !== parties.length)
    throw new Error(`DKG failed: ${[...out.errors.values()].map((e) => e.message).join('; ')}`);
  return out.results;
}

let counter = 0;
/** A fresh 32-byte session id. */
export function freshSid(label = 'presign'): Uint8Array {
  const out = sid(label);
  new DataView(out.buffer).setUint32(28, ++counter);
  return out;
}

export function presignSessions(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
  id: Uint8Array = freshSid(),
) {
  return new Map(
    signers.map((me) => [me, dkls23Presign({ sid: id, keyShare: shares.get(me)!, signers })]),
  );
}

export function runPresign(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
  tamper?: Tamper,
): RunOutcome<Dkls23Presignature> {
  return runSessions(presignSessions(shares, signers), tamper);
}

/** Presigns and fails loudly. */
export function presign(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
): Map<number, Dkls23Presignature> {
  const out = runPresign(shares, signers);
  if (out.errors.size > 0 || out.results.size !== signers.length)
    throw new Error(`presign failed: ${[...out.errors.values()].map((e) => e.message).join('; ')}`);
  return out.results;
}

/** Online round for every signer, then combination by party `combiner`. */
export async function signWith(
  shares: Map<number, Dkls23KeyShare>,
  presignatures: Map<number, Dkls23Presignature>,
  messageHash: Uint8Array,
  path?: DerivationPath,
  stores?: Map<number, PresignatureStore>,
): Promise<Dkls23Signature> {
  const outs = [];
  for (const [i, p] of presignatures) {
    const store = stores?.get(i) ?? new InMemoryPresignatureStore();
    outs.push(
      await createSignatureShare({
        presignature: p,
        shareSet: publicShareSet(shares.get(i)!),
        messageHash,
        store,
        ...(path === undefined ? {} : { path }),
      }),
    );
  }
  return combineSignatureShares(
    outs[0]!.context,
    outs.map((o) => o.share),
  );
}

/**
 * Delivers `initial` (already produced messages) and everything they trigger, like
 * `runSessions` but without starting the sessions (for resume tests). The session map may be
 * changed by `beforeDelivery` (e.g. to swap in a restored session).
 */
export function deliver<R>(
  sessions: Map<number, Session<R>>,
  initial: ProtocolMessage[],
  beforeDelivery?: (m: ProtocolMessage, to: number) => void,
): Map<number, R> {
  const queue = [...initial];
  for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
    const targets =
      m.to === 'broadcast' ? [...sessions.keys()].filter((p) => p !== m.from) : [m.to];
    for (const to of targets) {
      beforeDelivery?.(m, to);
      queue.push(...sessions.get(to)!.receive(encodeMessage(m)));
    }
  }
  const results = new Map<number, R>();
  for (const [i, s] of sessions) results.set(i, s.result());
  return results;
}
