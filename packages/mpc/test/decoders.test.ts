// fast-check feeds random and mutated bytes to every decoder: the envelope, key shares, session
// state, and every protocol payload (through Session.receive). Only typed MpcErrors may come out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ed25519Suite, secp256k1Suite } from '../src/curve-suite.js';
import {
  MpcError,
  decodeMessage,
  derivePublicKey,
  dkg,
  encodeMessage,
  exportKeyShare,
  importKeyShare,
  publicShareSet,
  reshare,
  resumeSession,
  sign,
  type ProtocolMessage,
  type Session,
} from '../src/index.js';
import { runDkg, sid } from './helpers.js';

const RUNS = 40;

function typedOnly(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof MpcError) || !e.code.startsWith('ERR_MPC_')) throw e;
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

/** Runs sessions and records, for each message delivered to `watch`, its state right before. */
function record<R>(
  sessions: Map<number, Session<R>>,
  watch: number,
): { state: Uint8Array; message: ProtocolMessage }[] {
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
  return snaps;
}

describe('decoders under random and mutated input', () => {
  const shares = runDkg('secp256k1', [1, 2, 3], 2, 'fuzz');
  const edShares = runDkg('ed25519', [1, 2, 3], 3, 'fuzz-ed');
  const validMessage = encodeMessage({
    sid: sid('m'),
    protocol: 'frost-ed25519/dkg/v1',
    round: 2,
    from: 1,
    to: 3,
    payload: new Uint8Array(32).fill(5),
  });

  it('decodeMessage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => typedOnly(() => decodeMessage(b))),
      { numRuns: RUNS * 5 },
    );
    fc.assert(
      fc.property(mutation, (m) => {
        typedOnly(() => {
          const d = decodeMessage(mutate(validMessage, m));
          expect(encodeMessage(d)).toEqual(mutate(validMessage, m)); // canonical: decodes only to itself
        });
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('importKeyShare', () => {
    const valid = [exportKeyShare(shares.get(2)!), exportKeyShare(edShares.get(1)!)];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => typedOnly(() => importKeyShare(b))),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.constantFrom(...valid), mutation, (v, m) =>
        typedOnly(() => importKeyShare(mutate(v, m))),
      ),
      { numRuns: RUNS },
    );
  });

  it('curve points and scalars', () => {
    for (const suite of [secp256k1Suite, ed25519Suite]) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 30, maxLength: 34 }), (b) => {
          typedOnly(() => suite.decodePoint(b));
          typedOnly(() => suite.decodeScalar(b));
        }),
        { numRuns: RUNS * 2 },
      );
    }
    // Scalars ≥ order and the identity are refused.
    expect(() => secp256k1Suite.decodeScalar(new Uint8Array(32).fill(0xff))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_SCALAR' }),
    );
    expect(() => ed25519Suite.decodePoint(ed25519Suite.ZERO.toBytes())).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_POINT' }),
    );
    const offCurve = new Uint8Array(33).fill(0);
    offCurve[0] = 2;
    offCurve[32] = 5; // x = 5: 125 + 7 = 132 is not a square mod p
    typedOnly(() => secp256k1Suite.decodePoint(offCurve));
  });

  it('derivePublicKey with random roots and paths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 33, maxLength: 33 }),
        fc.uint8Array({ minLength: 31, maxLength: 33 }),
        (pk, cc) =>
          typedOnly(() =>
            derivePublicKey({ curve: 'secp256k1', publicKey: pk, chainCode: cc }, [1, 2]),
          ),
      ),
      { numRuns: RUNS },
    );
  });

  // Every protocol payload decoder, reached through Session.receive from a restored state.
  const dkgSnaps = record(
    new Map(
      [1, 2, 3].map((me) => [
        me,
        dkg({ curve: 'ed25519', sid: sid('fuzz-dkg'), parties: [1, 2, 3], me, threshold: 2 }),
      ]),
    ),
    1,
  );
  const signSnaps = record(
    new Map(
      [1, 3].map((me) => [
        me,
        sign({
          sid: sid('fuzz-sign'),
          keyShare: shares.get(me)!,
          signers: [1, 3],
          message: new Uint8Array(32),
        }),
      ]),
    ),
    1,
  );
  const shareSet = publicShareSet(shares.get(1)!);
  const reshareSnaps = record(
    new Map(
      [1, 2, 4].map((me) => [
        me,
        reshare({
          sid: sid('fuzz-reshare'),
          dealers: [1, 2],
          receivers: [1, 2, 4],
          threshold: 2,
          me,
          ...(me === 4 ? { shareSet } : { keyShare: shares.get(me)! }),
        }),
      ]),
    ),
    4,
  );

  for (const [name, snaps] of [
    ['DKG', dkgSnaps],
    ['sign', signSnaps],
    ['reshare', reshareSnaps],
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

  it('resumeSession', () => {
    const states = [dkgSnaps[2]!.state, signSnaps[1]!.state, reshareSnaps[1]!.state];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (b) => typedOnly(() => resumeSession(b))),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.constantFrom(...states), mutation, (s, m) =>
        typedOnly(() => resumeSession(mutate(s, m))),
      ),
      { numRuns: RUNS },
    );
  });
});
