// fast-check on every DKLs23 decoder: key shares (CSKS v2), presignatures, signature shares,
// every protocol payload (DKG: through Session.receive on restored states; presign, whose
// states do not restore mid-way: on a session rebuilt and replayed to the slot), and session
// state, including a failed session's check evidence. Only typed MpcErrors may come out — and
// never the framework's "internal error" wrapper, which would mean an untyped exception escaped
// a decoder.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createSignatureShare,
  decodeSignatureShare,
  dkls23Dkg,
  dkls23Presign,
  exportDkls23KeyShare,
  exportPresignature,
  importDkls23KeyShare,
  importPresignature,
  InMemoryPresignatureStore,
  MpcError,
  NonDurablePresignSessionRegistry,
  publicShareSet,
  resumeSession,
  type Dkls23KeyShare,
  type Dkls23Presignature,
  type ProtocolMessage,
  type Session,
} from '../src/index.js';
import { encodeMessage } from '../src/message.js';
import { dkls23PresignForTesting } from '../src/test-hooks.js';
import { seededRandom, sid } from './helpers.js';
import { presign } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const RUNS = 30;

function typedOnly(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof MpcError) || !e.code.startsWith('ERR_MPC_')) throw e;
    if (e.code === 'ERR_MPC_SESSION_STATE' && e.cause !== undefined)
      throw new Error('untyped exception escaped a decoder', { cause: e.cause });
  }
}

const mutation = fc.record({
  op: fc.constantFrom('flip', 'truncate', 'extend', 'set', 'splice'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  extra: fc.uint8Array({ maxLength: 40 }),
});
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : m.at % bytes.length;
  const out = bytes.slice();
  switch (m.op) {
    case 'flip':
      if (out.length > 0) out[at] = (out[at] ?? 0) ^ (m.byte | 1);
      return out;
    case 'set':
      if (out.length > 0) out[at] = m.byte;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'extend':
      return Uint8Array.from([...out, ...m.extra, m.byte]);
    default:
      return Uint8Array.from([...out.subarray(0, at), ...m.extra, ...out.subarray(at + 1)]);
  }
}

/**
 * Runs sessions; for each message delivered to `watch`, its state right before and the
 * messages `watch` received before it.
 */
function record<R>(sessions: Map<number, Session<R>>, watch: number) {
  const queue: ProtocolMessage[] = [];
  const snaps: { state: Uint8Array; message: ProtocolMessage; before: ProtocolMessage[] }[] = [];
  const received: ProtocolMessage[] = [];
  for (const s of sessions.values()) queue.push(...s.start());
  while (queue.length > 0) {
    const m = queue.shift()!;
    for (const to of m.to === 'broadcast'
      ? [...sessions.keys()].filter((p) => p !== m.from)
      : [m.to]) {
      const s = sessions.get(to)!;
      if (to === watch) {
        snaps.push({ state: s.toBytes(), message: m, before: [...received] });
        received.push(m);
      }
      queue.push(...s.receive(encodeMessage(m)));
    }
  }
  return {
    snaps,
    sessions,
    results: [...sessions].map(([i, s]) => [i, s.result()] as const),
  };
}

const PRESIGN_SID = sid('fuzz-dkls23-presign');

/** Party `me` of the recorded presigning session; party 2's randomness is a fixed seed. */
function presignParty(
  shares: Map<number, Dkls23KeyShare>,
  me: number,
): Promise<Session<Dkls23Presignature>> {
  const params = {
    sid: PRESIGN_SID,
    // A copy: a failed KOS or μ check destroys setups in the object it is given.
    keyShare: importDkls23KeyShare(exportDkls23KeyShare(shares.get(me)!)),
    signers: [1, 2],
    registry: new NonDurablePresignSessionRegistry(),
  };
  return me === 2
    ? dkls23PresignForTesting(params, { random: seededRandom('fuzz-dkls23-presign/2') })
    : dkls23Presign(params);
}

/**
 * A presigning session recorded on a fresh trusted-dealer share set (its own set: a failed OT
 * check bans the pair for every copy in this process, review 2026-11-27 F1, so fuzzing that
 * trips one moves on to a new fixture).
 */
async function presignFixture() {
  const shares = dealDkls23Shares([1, 2], 2);
  const sessions = new Map<number, Session<Dkls23Presignature>>();
  for (const me of [1, 2]) sessions.set(me, await presignParty(shares, me));
  return { shares, ...record(sessions, 2) };
}

/**
 * Party 2 of a recorded presigning session, rebuilt and replayed up to a slot. Test-only
 * bypasses, to feed one slot many inputs without a state restore (presigning states do not
 * restore mid-way): the sid is claimed again in a fresh non-durable registry, and party 2's
 * randomness is replayed from a fixed seed, so its messages equal the recorded ones and party
 * 1's recorded round 2 (echo included) stays consistent with them.
 */
async function replayedParty2(
  shares: Map<number, Dkls23KeyShare>,
  before: readonly ProtocolMessage[],
): Promise<Session<Dkls23Presignature>> {
  const s = await presignParty(shares, 2);
  s.start();
  for (const m of before) s.receive(encodeMessage(m));
  return s;
}

describe('DKLs23 decoders under random and mutated input', () => {
  const dkg = record(
    new Map(
      [1, 2].map((me) => [
        me,
        dkls23Dkg({ sid: sid('fuzz-dkls23-dkg'), parties: [1, 2], me, threshold: 2 }),
      ]),
    ),
    1,
  );
  const shares = new Map(dkg.results);
  let pre: Awaited<ReturnType<typeof presignFixture>>;
  /** States of the presigning session: finished, and failed with a μ-check evidence. */
  const presignStates: Uint8Array[] = [];
  beforeAll(async () => {
    pre = await presignFixture();
    presignStates.push(pre.sessions.get(2)!.toBytes());
    // Party 1's round-2 answer with one τ byte flipped: party 2's μ check fails (evidence). On
    // a share set of its own, which the failure bans.
    const banned = await presignFixture();
    const last = banned.snaps.find((s) => s.message.round === 2 && s.message.to === 2)!;
    const failing = await replayedParty2(
      banned.shares,
      banned.snaps.filter((s) => s !== last).map((s) => s.message),
    );
    const p = last.message.payload.slice();
    p[32 + 63] = (p[32 + 63] ?? 0) ^ 1;
    let err: unknown;
    try {
      failing.receive(encodeMessage({ ...last.message, payload: p }));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_MPC_OT_CHECK', culprit: 1 });
    presignStates.push(failing.toBytes());
    expect(resumeSession(presignStates[1]!).error).toMatchObject({ check: 'mu', banned: 1 });
  });

  it('importDkls23KeyShare', () => {
    const valid = exportDkls23KeyShare(shares.get(1)!);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) =>
        typedOnly(() => importDkls23KeyShare(b)),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(mutation, (m) => typedOnly(() => importDkls23KeyShare(mutate(valid, m)))),
      { numRuns: RUNS },
    );
  });

  it('importPresignature', async () => {
    const valid = exportPresignature((await presign(shares, [1, 2])).get(1)!);
    expect(exportPresignature(importPresignature(valid))).toEqual(valid);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => typedOnly(() => importPresignature(b))),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(mutation, (m) => typedOnly(() => importPresignature(mutate(valid, m)))),
      { numRuns: RUNS * 3 },
    );
  });

  it('decodeSignatureShare', async () => {
    const ps = await presign(shares, [1, 2]);
    const { share, context } = await createSignatureShare({
      presignature: ps.get(1)!,
      shareSet: publicShareSet(shares.get(1)!),
      messageHash: new Uint8Array(32).fill(1),
      store: new InMemoryPresignatureStore(),
    });
    expect(decodeSignatureShare(context, share).from).toBe(1);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) =>
        typedOnly(() => decodeSignatureShare(context, b)),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(mutation, (m) =>
        typedOnly(() => decodeSignatureShare(context, mutate(share, m))),
      ),
      { numRuns: RUNS * 3 },
    );
  });

  const mutated = (message: ProtocolMessage, m: Mutation, wholeMessage: boolean): Uint8Array =>
    wholeMessage
      ? mutate(encodeMessage(message), m)
      : encodeMessage({ ...message, payload: mutate(message.payload, m) });

  it(`DKG payloads (${dkg.snaps.length} message slots)`, () => {
    expect(dkg.snaps.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.nat(), mutation, fc.boolean(), (pick, m, wholeMessage) => {
        const snap = dkg.snaps[pick % dkg.snaps.length]!;
        const session = resumeSession(snap.state);
        typedOnly(() => session.receive(mutated(snap.message, m, wholeMessage)));
      }),
      { numRuns: RUNS },
    );
  });

  it('presign payloads (every message slot of party 2)', async () => {
    expect(pre.snaps.length).toBe(4);
    let fixture = await presignFixture();
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, fc.boolean(), async (pick, m, wholeMessage) => {
        const snap = fixture.snaps[pick % fixture.snaps.length]!;
        const session = await replayedParty2(fixture.shares, snap.before);
        typedOnly(() => session.receive(mutated(snap.message, m, wholeMessage)));
        // A failed OT check banned this share set's pair: the next input needs a fresh one.
        if (session.error?.code === 'ERR_MPC_OT_CHECK') fixture = await presignFixture();
      }),
      { numRuns: RUNS },
    );
  });

  it('resumeSession on DKLs23 states', () => {
    // Mid-way presigning states refuse to load whatever their bytes; the finished and the
    // failed (with check evidence) states are the ones with content to fuzz.
    const states = [dkg.snaps[1]!.state, pre.snaps[1]!.state, ...presignStates];
    fc.assert(
      fc.property(fc.constantFrom(...states), mutation, (s, m) =>
        typedOnly(() => resumeSession(mutate(s, m))),
      ),
      { numRuns: RUNS },
    );
  });
});
