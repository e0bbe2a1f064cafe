// fast-check on every DKLs23 decoder: key shares (CSKS v2), presignatures, signature shares,
// every protocol payload (through Session.receive on restored states) and session state. Only
// typed MpcErrors may come out — and never the framework's "internal error" wrapper, which
// would mean an untyped exception escaped a decoder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
  publicShareSet,
  resumeSession,
  type ProtocolMessage,
  type Session,
} from '../src/index.js';
import { encodeMessage } from '../src/message.js';
import { sid } from './helpers.js';
import { presign } from './dkls23-helpers.js';

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

/** Runs sessions; for each message delivered to `watch`, its state right before. */
function record<R>(sessions: Map<number, Session<R>>, watch: number) {
  const queue: ProtocolMessage[] = [];
  const snaps: { state: Uint8Array; message: ProtocolMessage }[] = [];
  for (const s of sessions.values()) queue.push(...s.start());
  while (queue.length > 0) {
    const m = queue.shift()!;
    for (const to of m.to === 'broadcast'
      ? [...sessions.keys()].filter((p) => p !== m.from)
      : [m.to]) {
      const s = sessions.get(to)!;
      if (to === watch) snaps.push({ state: s.toBytes(), message: m });
      queue.push(...s.receive(encodeMessage(m)));
    }
  }
  return { snaps, results: [...sessions].map(([i, s]) => [i, s.result()] as const) };
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
  const pre = record(
    new Map(
      [1, 2].map((me) => [
        me,
        dkls23Presign({
          sid: sid('fuzz-dkls23-presign'),
          keyShare: shares.get(me)!,
          signers: [1, 2],
        }),
      ]),
    ),
    2,
  );

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

  it('importPresignature', () => {
    const valid = exportPresignature(presign(shares, [1, 2]).get(1)!);
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
    const ps = presign(shares, [1, 2]);
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

  for (const [name, snaps] of [
    ['DKG', dkg.snaps],
    ['presign', pre.snaps],
  ] as const) {
    it(`${name} payloads (${snaps.length} message slots)`, () => {
      expect(snaps.length).toBeGreaterThan(0);
      fc.assert(
        fc.property(fc.nat(), mutation, fc.boolean(), (pick, m, wholeMessage) => {
          const snap = snaps[pick % snaps.length]!;
          const session = resumeSession(snap.state);
          const bytes = wholeMessage
            ? mutate(encodeMessage(snap.message), m)
            : encodeMessage({ ...snap.message, payload: mutate(snap.message.payload, m) });
          typedOnly(() => session.receive(bytes));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('resumeSession on DKLs23 states', () => {
    const states = [dkg.snaps[1]!.state, pre.snaps[1]!.state];
    fc.assert(
      fc.property(fc.constantFrom(...states), mutation, (s, m) =>
        typedOnly(() => resumeSession(mutate(s, m))),
      ),
      { numRuns: RUNS },
    );
  });
});
