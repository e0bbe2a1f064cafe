// Shared fixtures of the DKLs23 tests: DKG, presigning and online signing through the
// in-process router, plus a deterministic randomness source for fast fixtures.
import {
  combineSignatureShares,
  createSignatureShare,
  dkls23Dkg,
  dkls23Presign,
  InMemoryPresignatureStore,
  NonDurablePresignSessionRegistry,
  publicShareSet,
  type DerivationPath,
  type Dkls23KeyShare,
  type Dkls23Presignature,
  type Dkls23Signature,
  type PresignatureStore,
  type PresignSessionRegistry,
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
    parties.map((me) => [
      me,
      dkls23Dkg({
        sid: sid(label),
        parties,
        me,
        threshold,
        // 2-of-3 fixtures are outside the key model (t = n): opt in by name.
        ...(threshold < parties.length ? { allowThresholdBelowPartyCount: true } : {}),
      }),
    ]),
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

/**
 * The sid registry of the tests: one for every party of this process (the claimed id includes
 * the party), in memory — fine here, as every test draws fresh sids.
 */
export const testRegistry: PresignSessionRegistry = new NonDurablePresignSessionRegistry();

export async function presignSessions(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
  id: Uint8Array = freshSid(),
  registry: PresignSessionRegistry = testRegistry,
): Promise<Map<number, Session<Dkls23Presignature>>> {
  const sessions = new Map<number, Session<Dkls23Presignature>>();
  for (const me of signers)
    sessions.set(
      me,
      await dkls23Presign({ sid: id, keyShare: shares.get(me)!, signers, registry }),
    );
  return sessions;
}

export async function runPresign(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
  tamper?: Tamper,
): Promise<RunOutcome<Dkls23Presignature>> {
  return runSessions(await presignSessions(shares, signers), tamper);
}

/** Presigns and fails loudly. */
export async function presign(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
): Promise<Map<number, Dkls23Presignature>> {
  const out = await runPresign(shares, signers);
  if (out.errors.size > 0 || out.results.size !== signers.length)
    throw new Error(`presign failed: ${[...out.errors.values()].map((e) => e.message).join('; ')}`);
  return out.results;
}

/** Online round for every signer, then combination by party `combiner`. */
export async function signWith(
  shares: Map<number, Dkls23KeyShare>,
  presignatures: Map<number, Dkls23Presignature> | Promise<Map<number, Dkls23Presignature>>,
  messageHash: Uint8Array,
  path?: DerivationPath,
  stores?: Map<number, PresignatureStore>,
): Promise<Dkls23Signature> {
  const outs = [];
  for (const [i, p] of await presignatures) {
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
