// fast-check feeds random and mutated bytes to every decoder: the envelope, key shares, session
// state, and every protocol payload (through Session.receive). Only typed MpcErrors may come out.
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  bytesToNumberBE,
  bytesToNumberLE,
  numberToBytesBE,
  numberToBytesLE,
} from '@noble/curves/utils.js';
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
  rejectedOr(f);
}

const REJECTED = Symbol('rejected');

/** Runs `f`: its value, or REJECTED if it threw a typed MpcError (anything else fails). */
function rejectedOr<T>(f: () => T): T | typeof REJECTED {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof MpcError) || !e.code.startsWith('ERR_MPC_')) throw e;
    return REJECTED;
  }
}

/** The code of the typed error `f` throws, or 'accepted'. */
function refusal(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    if (!(e instanceof MpcError)) throw e;
    return e.code;
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

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
    const original = decodeMessage(validMessage);
    fc.assert(
      fc.property(mutation, (m) => {
        const bytes = mutate(validMessage, m);
        const d = rejectedOr(() => decodeMessage(bytes));
        if (d === REJECTED) return;
        // Accepted: the encoding is canonical (decodes only to itself), so a changed byte
        // string is a changed message, never the original read leniently.
        expect(encodeMessage(d)).toEqual(bytes);
        if (!sameBytes(bytes, validMessage)) expect(d).not.toEqual(original);
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
      fc.property(fc.constantFrom(...valid), mutation, (v, m) => {
        const bytes = mutate(v, m);
        const share = rejectedOr(() => importKeyShare(bytes));
        if (share === REJECTED) return;
        // Only a change the checks cannot see (the chain code) may pass, and then it is a
        // different, canonically encoded share.
        expect(exportKeyShare(share)).toEqual(bytes);
        if (!sameBytes(bytes, v)) expect(sameBytes(exportKeyShare(share), v)).toBe(false);
      }),
      { numRuns: RUNS },
    );
    // A changed signing share, public key or verification share is always refused.
    const v = valid[0]!;
    const signingShareOffset = 4 + 1 + 1 + 1 + 1 + 2 + 3 * 2;
    for (const at of [signingShareOffset, signingShareOffset + 31, signingShareOffset + 32 + 5]) {
      const bad = v.slice();
      bad[at] = (bad[at] ?? 0) ^ 1;
      expect(() => importKeyShare(bad)).toThrow(MpcError);
    }
  });

  it('curve points and scalars', () => {
    for (const suite of [secp256k1Suite, ed25519Suite]) {
      const toNumber = suite === ed25519Suite ? bytesToNumberLE : bytesToNumberBE;
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 30, maxLength: 34 }), (b) => {
          const p = rejectedOr(() => suite.decodePoint(b));
          if (p !== REJECTED) expect(suite.encodePoint(p)).toEqual(b); // canonical only
          const k = rejectedOr(() => suite.decodeScalar(b));
          // Accepted exactly when 32 bytes encode a value in [1, order).
          const inRange = b.length === 32 && toNumber(b) > 0n && toNumber(b) < suite.order;
          expect(k !== REJECTED).toBe(inRange);
          if (k !== REJECTED) expect(suite.encodeScalar(k)).toEqual(b);
        }),
        { numRuns: RUNS * 2 },
      );
      // Every scalar ≥ order is refused, whatever its bytes.
      fc.assert(
        fc.property(fc.bigInt({ min: suite.order, max: (1n << 256n) - 1n }), (k) => {
          const b = suite === ed25519Suite ? numberToBytesLE(k, 32) : numberToBytesBE(k, 32);
          expect(() => suite.decodeScalar(b)).toThrow(
            expect.objectContaining({ code: 'ERR_MPC_INVALID_SCALAR' }),
          );
        }),
        { numRuns: RUNS },
      );
      // A point with one bit flipped is refused or is another point (never read leniently).
      fc.assert(
        fc.property(fc.bigInt({ min: 1n, max: suite.order - 1n }), fc.nat(), (k, bit) => {
          const valid = suite.G.multiply(k).toBytes();
          const bad = valid.slice();
          const at = (bit >> 3) % bad.length;
          bad[at] = (bad[at] ?? 0) ^ (1 << (bit & 7));
          const p = rejectedOr(() => suite.decodePoint(bad));
          if (p !== REJECTED) expect(p.equals(suite.G.multiply(k))).toBe(false);
        }),
        { numRuns: RUNS },
      );
    }
    expect(() => secp256k1Suite.decodeScalar(new Uint8Array(32).fill(0xff))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_SCALAR' }),
    );
    expect(() => ed25519Suite.decodePoint(ed25519Suite.ZERO.toBytes())).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_POINT' }),
    );
    const offCurve = new Uint8Array(33).fill(0);
    offCurve[0] = 2;
    offCurve[32] = 5; // x = 5: 125 + 7 = 132 is not a square mod p
    expect(() => secp256k1.Point.fromBytes(offCurve)).toThrow(); // the fixture is off-curve
    expect(() => secp256k1Suite.decodePoint(offCurve)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_POINT' }),
    );
  });

  describe('points a lenient decoder would accept', () => {
    const edP = ed25519.Point.Fp.ORDER;
    const expectRejected = (f: () => unknown) =>
      expect(f).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_POINT' }));

    it('Ed25519 non-canonical encodings are refused: all of them, exhaustively', () => {
      // Non-canonical means y ≥ p (only y + p for y < 19 fits in 255 bits) or x = 0 with the
      // sign bit set (y = ±1). Enumerate every one that ZIP-215 decoding accepts.
      let lenient = 0;
      const candidates: Uint8Array[] = [];
      for (let y = 0n; y < 19n; y++)
        for (const sign of [0, 0x80]) {
          const b = numberToBytesLE(y + edP, 32);
          b[31] = (b[31] ?? 0) | sign;
          candidates.push(b);
        }
      for (const y of [1n, edP - 1n]) {
        const b = numberToBytesLE(y, 32);
        b[31] = (b[31] ?? 0) | 0x80; // "negative zero" x
        candidates.push(b);
      }
      for (const bytes of candidates) {
        try {
          ed25519.Point.fromBytes(bytes, true);
        } catch {
          continue; // not a point even leniently
        }
        lenient++;
        expectRejected(() => ed25519Suite.decodePoint(bytes));
        expectRejected(() => ed25519Suite.decodeValidatedPoint(bytes));
      }
      expect(lenient).toBeGreaterThanOrEqual(20); // the enumeration did find lenient points
    });

    it('Ed25519 small-order points (orders 2, 4, 8) are refused', () => {
      const fixtures = [
        'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, −1): order 2
        '0000000000000000000000000000000000000000000000000000000000000000', // y = 0: order 4
        '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
        'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
      ];
      for (const hex of fixtures) {
        const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
        const p = ed25519.Point.fromBytes(bytes);
        expect(p.isSmallOrder()).toBe(true); // the fixture is what it claims
        expect(p.is0()).toBe(false);
        expectRejected(() => ed25519Suite.decodePoint(bytes));
        expectRejected(() => ed25519Suite.decodeValidatedPoint(bytes));
      }
    });

    it('Ed25519 mixed-order points (prime-order part + torsion) are refused', () => {
      const torsion = ed25519.Point.fromBytes(
        Uint8Array.from(
          Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex'),
        ),
      );
      for (const k of [1n, 7n, 123456789n]) {
        const mixed = ed25519.Point.BASE.multiply(k).add(torsion);
        expect(mixed.isTorsionFree()).toBe(false);
        expect(mixed.isSmallOrder()).toBe(false);
        expectRejected(() => ed25519Suite.decodePoint(mixed.toBytes()));
        // decodeValidatedPoint leaves out exactly the subgroup check (its callers rely on a check
        // that follows, or on an earlier decodePoint of the same bytes).
        expect(ed25519Suite.decodeValidatedPoint(mixed.toBytes()).equals(mixed)).toBe(true);
        // The prime-order part alone is fine.
        expect(ed25519Suite.decodePoint(ed25519.Point.BASE.multiply(k).toBytes())).toBeDefined();
      }
    });

    it('secp256k1 x ≥ p is refused even when x − p is a valid x-coordinate', () => {
      const p = secp256k1.Point.Fp.ORDER;
      let x = 1n;
      for (; ; x++) {
        try {
          secp256k1.Point.fromBytes(Uint8Array.from([2, ...numberToBytesBE(x, 32)]));
          break;
        } catch {
          // not on the curve; try the next x
        }
      }
      expect(x + p).toBeLessThan(1n << 256n);
      for (const prefix of [2, 3]) {
        const reduced = Uint8Array.from([prefix, ...numberToBytesBE(x, 32)]);
        expect(secp256k1Suite.decodePoint(reduced)).toBeDefined();
        expectRejected(() =>
          secp256k1Suite.decodePoint(Uint8Array.from([prefix, ...numberToBytesBE(x + p, 32)])),
        );
        expectRejected(() =>
          secp256k1Suite.decodeValidatedPoint(
            Uint8Array.from([prefix, ...numberToBytesBE(x + p, 32)]),
          ),
        );
      }
      // And the uncompressed / hybrid forms are refused outright.
      const G = secp256k1.Point.BASE.toBytes(false);
      expectRejected(() => secp256k1Suite.decodePoint(G.subarray(0, 33)));
    });
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
        dkg({ curve: 'ed25519', sid: sid('fuzz-dkg'), parties: [1, 2, 3], me, threshold: 3 }),
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
          allowThresholdBelowPartyCount: true,
          me,
          ...(me === 4 ? { shareSet } : { keyShare: shares.get(me)! }),
        }),
      ]),
    ),
    4,
  );

  // A signing session saved in round 1 does not restore (its nonces are not persisted), so
  // its round-1 slot is fuzzed on a live session below; the round-2 slot restores.
  const signRestorable = signSnaps.filter((snap) => snap.message.round === 2);
  it('sign round-1 payloads, on live sessions', () => {
    fc.assert(
      fc.property(mutation, fc.boolean(), (m, wholeMessage) => {
        const make = (me: number) =>
          sign({
            sid: sid('fuzz-sign-live'),
            keyShare: shares.get(me)!,
            signers: [1, 3],
            message: new Uint8Array(32),
          });
        const s1 = make(1);
        s1.start();
        const [m3] = make(3).start();
        const original = encodeMessage(m3!);
        const bytes = wholeMessage
          ? mutate(original, m)
          : encodeMessage({ ...m3!, payload: mutate(m3!.payload, m) });
        const accepted = rejectedOr(() => s1.receive(bytes));
        if (sameBytes(bytes, original)) expect(accepted).not.toBe(REJECTED);
        else if (accepted !== REJECTED && !wholeMessage && s1.status === 'running')
          expect(['ERR_MPC_DUPLICATE_MESSAGE', 'ERR_MPC_WRONG_ROUND']).toContain(
            refusal(() => s1.receive(original)),
          );
      }),
      { numRuns: RUNS },
    );
  });

  for (const [name, snaps] of [
    ['DKG', dkgSnaps],
    ['sign', signRestorable],
    ['reshare', reshareSnaps],
  ] as const) {
    it(`${name} payloads (${snaps.length} message slots)`, () => {
      expect(snaps.length).toBeGreaterThan(0);
      fc.assert(
        fc.property(fc.nat(), mutation, fc.boolean(), (pick, m, wholeMessage) => {
          const snap = snaps[pick % snaps.length]!;
          const session = resumeSession(snap.state);
          const original = encodeMessage(snap.message);
          const bytes = wholeMessage
            ? mutate(original, m)
            : encodeMessage({ ...snap.message, payload: mutate(snap.message.payload, m) });
          const accepted = rejectedOr(() => session.receive(bytes));
          if (sameBytes(bytes, original)) {
            expect(accepted).not.toBe(REJECTED); // the unmutated message is accepted
            return;
          }
          if (accepted === REJECTED || wholeMessage || session.status !== 'running') return;
          // A mutated payload that passed the arrival checks took the sender's slot: the
          // original is now refused — a second, different message for the slot (fails the
          // session), or a message for a round already completed.
          expect(['ERR_MPC_DUPLICATE_MESSAGE', 'ERR_MPC_WRONG_ROUND']).toContain(
            refusal(() => session.receive(original)),
          );
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('resumeSession', () => {
    const states = [dkgSnaps[2]!.state, signRestorable[0]!.state, reshareSnaps[1]!.state];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (b) => typedOnly(() => resumeSession(b))),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.constantFrom(...states), mutation, (s, m) => {
        const bytes = mutate(s, m);
        const restored = rejectedOr(() => resumeSession(bytes));
        // Accepted state re-serializes to exactly the bytes read: nothing read leniently. A
        // mutation that turns the magic into v2's ("CSS2", still read) is written back as v3:
        // these states are not failed, so v2 and v3 differ in the magic alone.
        if (restored === REJECTED) return;
        const written = bytes.slice();
        if (
          written[0] === 0x43 &&
          written[1] === 0x53 &&
          written[2] === 0x53 &&
          written[3] === 0x32
        )
          written[3] = 0x33;
        expect(restored.toBytes()).toEqual(written);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
