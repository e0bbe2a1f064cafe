// Building blocks of DKLs23, each on its own: GF(2^128), the hash helpers, MR19 base OT, the
// IKNP + KOS15 extension and the RVOLE with its DKLs19 check. Honest runs check the algebra;
// one adversarial test per check names the banned party and shows the setup destroyed. The
// per-use nonces n_B and n_A (review 2026-11-24, C1) are shown to defeat the repeated-pair-id
// extraction of Alice's input, next to a control run with replayed nonces where it succeeds.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secp256k1Suite } from '../src/curve-suite.js';
import { MpcError } from '../src/errors.js';
import {
  baseOtReceive,
  baseOtSenderFinish,
  baseOtSenderKey,
  BASE_OT_COUNT,
} from '../src/dkls23/base-ot.js';
import { Dkls23CheckError } from '../src/dkls23/check-error.js';
import { gfFromBytes, gfInnerProduct, gfMul, gfToBytes } from '../src/dkls23/gf128.js';
import {
  dkls23Hasher,
  fastHash,
  fastHashToScalar,
  modQ,
  pairSessionId,
  Q,
  u32,
} from '../src/dkls23/hashing.js';
import {
  extensionMessageLength,
  extensionReceive,
  extensionSend,
  receiverPads,
  senderPads,
  OT_NONCE_LENGTH,
  type OtReceiverSetup,
  type OtSenderSetup,
} from '../src/dkls23/ot-extension.js';
import {
  decodeAliceMessage,
  gadget,
  rvoleAliceRespond,
  rvoleBobFinish,
  rvoleBobStart,
  RVOLE_ALICE_MESSAGE_LENGTH,
  RVOLE_XI,
} from '../src/dkls23/rvole.js';
import type { RandomSource } from '../src/index.js';
import { label } from '../src/hash.js';

const ctx = [label('test'), new Uint8Array(32).fill(9)];
const bit = (b: Uint8Array, i: number): number => ((b[i >>> 3] ?? 0) >>> (i & 7)) & 1;

/** A correct setup for (alice → bob) dealt directly (the base OTs are tested separately). */
function dealtSetup(alice: number, bob: number): { a: OtSenderSetup; b: OtReceiverSetup } {
  const delta = randomBytes(16);
  const keys0 = Array.from({ length: 128 }, () => new Uint8Array(randomBytes(32)));
  const keys1 = Array.from({ length: 128 }, () => new Uint8Array(randomBytes(32)));
  const keys = keys0.map((k0, l) => (bit(delta, l) === 1 ? keys1[l]! : k0).slice());
  return {
    a: { sender: alice, receiver: bob, delta: new Uint8Array(delta), keys, destroyed: false },
    b: { sender: alice, receiver: bob, keys0, keys1, destroyed: false },
  };
}

describe('GF(2^128)', () => {
  const el = fc.uint8Array({ minLength: 16, maxLength: 16 });
  it('x^127 · x reduces by x^128 = x^7 + x^2 + x + 1', () => {
    const x127 = new Uint8Array(16);
    x127[15] = 0x80;
    const x = new Uint8Array(16);
    x[0] = 2;
    expect([...gfToBytes(gfMul(gfFromBytes(x127), gfFromBytes(x)))]).toEqual([
      0x87,
      ...new Array<number>(15).fill(0),
    ]);
  });
  it('multiplication is commutative and distributes over XOR', () => {
    fc.assert(
      fc.property(el, el, el, (a, b, c) => {
        const A = gfFromBytes(a);
        const B = gfFromBytes(b);
        const C = gfFromBytes(c);
        expect(gfToBytes(gfMul(A, B))).toEqual(gfToBytes(gfMul(B, A)));
        const bc = gfFromBytes(b.map((v, i) => v ^ (c[i] ?? 0)));
        const lhs = gfToBytes(gfMul(A, bc));
        const r1 = gfToBytes(gfMul(A, B));
        const r2 = gfToBytes(gfMul(A, C));
        expect(lhs).toEqual(r1.map((v, i) => v ^ (r2[i] ?? 0)));
      }),
      { numRuns: 50 },
    );
  });
  it('the bit-sliced inner product equals the sum of products', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), (n) => {
        const chis = new Uint8Array(randomBytes(16 * n));
        const rows = new Uint8Array(randomBytes(16 * n));
        let acc = new Uint8Array(16);
        for (let k = 0; k < n; k++) {
          const p = gfToBytes(gfMul(gfFromBytes(chis, 16 * k), gfFromBytes(rows, 16 * k)));
          acc = acc.map((v, i) => v ^ (p[i] ?? 0));
        }
        expect(gfToBytes(gfInnerProduct(chis, rows, n))).toEqual(acc);
      }),
      { numRuns: 30 },
    );
  });
});

describe('hashing', () => {
  it('native H and Hq equal the domain hasher (RFC 9380 hash_to_field)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 4 }), (fields) => {
        expect(fastHash('t', ...fields)).toEqual(dkls23Hasher.hash('t', ...fields));
        expect(fastHashToScalar('gadget', ...fields)).toBe(
          dkls23Hasher.hashToScalar(Q, 'gadget', ...fields),
        );
      }),
      { numRuns: 50 },
    );
  });
  it('the batched gadget hash equals Hq(tag, sid_pair, k)', () => {
    const sidPair = new Uint8Array(randomBytes(32));
    const g = gadget(sidPair);
    for (const k of [0, 1, 255, 511])
      expect(g[k]).toBe(dkls23Hasher.hashToScalar(Q, 'gadget', sidPair, u32(k)));
  });
  it('pair session ids differ per direction and role', () => {
    const ids = [
      pairSessionId(ctx, 1, 2, 'ot-ext'),
      pairSessionId(ctx, 2, 1, 'ot-ext'),
      pairSessionId(ctx, 1, 2, 'rvole'),
      pairSessionId([label('test'), new Uint8Array(32).fill(8)], 1, 2, 'ot-ext'),
    ].map((b) => Buffer.from(b).toString('hex'));
    expect(new Set(ids).size).toBe(4);
  });
});

describe('MR19 base OT', () => {
  const sid = pairSessionId(ctx, 1, 2, 'base-ot');
  it('the receiver gets exactly the key of its choice bit', () => {
    const choices = new Uint8Array(randomBytes(16));
    const { y, Y } = baseOtSenderKey();
    const { message, keys: got } = baseOtReceive(sid, choices, Y, 2);
    const { keys0, keys1 } = baseOtSenderFinish(sid, y, message, 1);
    for (let l = 0; l < BASE_OT_COUNT; l++) {
      const [mine, other] = bit(choices, l) === 1 ? [keys1[l], keys0[l]] : [keys0[l], keys1[l]];
      expect(got[l]).toEqual(mine);
      expect(got[l]).not.toEqual(other);
    }
  });
  it('a receiver message with an off-curve point names the receiver', () => {
    const { y, Y } = baseOtSenderKey();
    const { message } = baseOtReceive(sid, new Uint8Array(16), Y, 2);
    const bad = message.slice();
    bad[0] = 0x05;
    expect(() => baseOtSenderFinish(sid, y, bad, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_POINT', culprit: 1 }),
    );
  });
});

describe('IKNP + KOS15 extension', () => {
  const count = 512;
  it('rows satisfy q_k = t_k ⊕ w_k·Δ and the random OTs agree', () => {
    const { a, b } = dealtSetup(1, 2);
    const sid = pairSessionId(ctx, 1, 2, 'ot-ext');
    const choices = new Uint8Array(randomBytes(count / 8));
    const nB = new Uint8Array(randomBytes(OT_NONCE_LENGTH));
    const ext = extensionReceive(b, sid, choices, new Uint8Array(randomBytes(16)), nB, count);
    expect(ext.message.length).toBe(extensionMessageLength(count));
    expect(ext.message.subarray(0, OT_NONCE_LENGTH)).toEqual(nB);
    const q = extensionSend(a, sid, ext.message, count);
    for (let k = 0; k < count; k++) {
      const w = bit(choices, k);
      for (let i = 0; i < 16; i++)
        expect(q[16 * k + i]).toBe((ext.rows[16 * k + i] ?? 0) ^ (w * (a.delta[i] ?? 0)));
    }
    const n = 16;
    const nA = new Uint8Array(randomBytes(OT_NONCE_LENGTH));
    const { pads0, pads1 } = senderPads(sid, nA, q, a.delta, n, 2);
    const mine = receiverPads(sid, nA, ext.rows, n, 2);
    for (let k = 0; k < n; k++)
      expect(mine.slice(2 * k, 2 * k + 2)).toEqual(
        (bit(choices, k) === 1 ? pads1 : pads0).slice(2 * k, 2 * k + 2),
      );
    // Under another n_A, every pad is different (n_A is what keeps Alice's pads fresh).
    const other = receiverPads(sid, new Uint8Array(randomBytes(OT_NONCE_LENGTH)), ext.rows, n, 2);
    expect(other.some((v, i) => v === mine[i])).toBe(false);
  });
  it("Bob's nonce: the same choices under another n_B give an unrelated U", () => {
    const { b } = dealtSetup(1, 2);
    const sid = pairSessionId(ctx, 1, 2, 'ot-ext');
    const choices = new Uint8Array(randomBytes(count / 8));
    const pad = new Uint8Array(16);
    const m1 = extensionReceive(b, sid, choices, pad, new Uint8Array(32).fill(1), count).message;
    const m2 = extensionReceive(b, sid, choices, pad, new Uint8Array(32).fill(2), count).message;
    const U1 = m1.subarray(OT_NONCE_LENGTH, OT_NONCE_LENGTH + 128 * 80);
    const U2 = m2.subarray(OT_NONCE_LENGTH, OT_NONCE_LENGTH + 128 * 80);
    // Without n_B both would equal T0 ⊕ T1 ⊕ w: identical. Here about half the bits differ.
    let differing = 0;
    for (let i = 0; i < U1.length; i++) differing += popcount((U1[i] ?? 0) ^ (U2[i] ?? 0));
    expect(differing).toBeGreaterThan(U1.length * 3);
    expect(() => extensionReceive(b, sid, choices, pad, new Uint8Array(31), count)).toThrow(
      RangeError,
    );
  });
  it('KOS check: a tampered U bans Bob (party 2) and destroys the setup', () => {
    const { a, b } = dealtSetup(1, 2);
    const sid = pairSessionId(ctx, 1, 2, 'ot-ext');
    const ext = extensionReceive(
      b,
      sid,
      new Uint8Array(count / 8),
      new Uint8Array(16),
      new Uint8Array(randomBytes(32)),
      count,
    );
    const bad = ext.message.slice();
    // Bob flips one choice bit in one column of U only: a probe of Δ_0.
    bad[OT_NONCE_LENGTH + 5] = (bad[OT_NONCE_LENGTH + 5] ?? 0) ^ 1;
    let err: unknown;
    try {
      extensionSend(a, sid, bad, count);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Dkls23CheckError);
    expect(err).toMatchObject({ code: 'ERR_MPC_OT_CHECK', check: 'kos', banned: 2, culprit: 2 });
    expect((err as Dkls23CheckError).otSetupDestroyed).toEqual([[1, 2]]);
    expect(a.destroyed).toBe(true);
    expect(a.delta.every((v) => v === 0)).toBe(true);
    expect(() => extensionSend(a, sid, ext.message, count)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_OT_SETUP_DESTROYED' }),
    );
  });
  it('a message made for the other direction (or another session) fails the check', () => {
    const { a, b } = dealtSetup(1, 2);
    const wrongDirection = pairSessionId(ctx, 2, 1, 'ot-ext');
    const ext = extensionReceive(
      b,
      wrongDirection,
      new Uint8Array(count / 8),
      new Uint8Array(16),
      new Uint8Array(randomBytes(32)),
      count,
    );
    expect(() => extensionSend(a, pairSessionId(ctx, 1, 2, 'ot-ext'), ext.message, count)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_OT_CHECK', culprit: 2 }),
    );
  });
  it('a message of the wrong length is refused, naming Bob, without a ban', () => {
    const { a } = dealtSetup(1, 2);
    expect(() => extensionSend(a, new Uint8Array(32), new Uint8Array(10), count)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED', culprit: 2 }),
    );
    expect(a.destroyed).toBe(false);
  });
});

describe('RVOLE (DKLs23 §5, DKLs19 check)', () => {
  const sid = pairSessionId(ctx, 3, 1, 'rvole');
  it('c + d = χ·a', () => {
    const { a, b } = dealtSetup(3, 1);
    const input: [bigint, bigint] = [modQ(BigInt('0x' + randomBytes(32).toString('hex'))), 5n];
    const bob = rvoleBobStart(b, sid);
    const alice = rvoleAliceRespond(a, sid, bob.message, input);
    const d = rvoleBobFinish(b, sid, bob.state, alice.message);
    expect(modQ(alice.c[0] + d[0])).toBe(modQ(bob.chi * input[0]));
    expect(modQ(alice.c[1] + d[1])).toBe(modQ(bob.chi * input[1]));
    expect(RVOLE_XI).toBe(512);
  });
  it('μ check: a tampered τ bans Alice (party 3) and destroys the setup', () => {
    const { a, b } = dealtSetup(3, 1);
    const bob = rvoleBobStart(b, sid);
    const alice = rvoleAliceRespond(a, sid, bob.message, [7n, 11n]);
    const bad = alice.message.slice();
    // τ_1[1] + 1 (τ follows n_A): a selective-failure probe of β_1.
    bad[OT_NONCE_LENGTH + 31] = (bad[OT_NONCE_LENGTH + 31] ?? 0) ^ 1;
    let err: unknown;
    try {
      rvoleBobFinish(b, sid, bob.state, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Dkls23CheckError);
    expect(err).toMatchObject({ code: 'ERR_MPC_OT_CHECK', check: 'mu', banned: 3 });
    expect(b.destroyed).toBe(true);
  });
  it('a non-canonical scalar in τ is refused naming Alice', () => {
    const { a, b } = dealtSetup(3, 1);
    const bob = rvoleBobStart(b, sid);
    const alice = rvoleAliceRespond(a, sid, bob.message, [7n, 11n]);
    const bad = alice.message.slice();
    bad.fill(0xff, OT_NONCE_LENGTH, OT_NONCE_LENGTH + 32);
    expect(() => rvoleBobFinish(b, sid, bob.state, bad)).toThrow(MpcError);
    expect(() => rvoleBobFinish(b, sid, bob.state, bad)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_SCALAR', culprit: 3 }),
    );
  });

  it('a message whose n_A is missing or extra is refused by length, naming Alice', () => {
    const { a, b } = dealtSetup(3, 1);
    const bob = rvoleBobStart(b, sid);
    const { message } = rvoleAliceRespond(a, sid, bob.message, [7n, 11n]);
    expect(message.length).toBe(RVOLE_ALICE_MESSAGE_LENGTH);
    for (const bad of [message.subarray(1), Uint8Array.from([...message, 0])])
      expect(() => decodeAliceMessage(bad, 3)).toThrow(
        expect.objectContaining({ code: 'ERR_MPC_MALFORMED', culprit: 3 }),
      );
    expect(b.destroyed).toBe(false);
  });
});

/**
 * Review 2026-11-24, appendix A at the RVOLE level: two uses of one setup under one sid_pair,
 * Alice's input a = (a_1, a_2) the same in both (as sk_i is under a repeated presigning sid).
 * Bob's candidate for a_2 on row k is −(τ_k[2] + τ'_k[2])/2, right wherever the two runs
 * swapped Alice's pads. Returns the candidates (rows where the τ differ).
 */
function candidates(tau1: bigint[], tau2: bigint[]): bigint[] {
  const half = secp256k1Suite.inv(2n);
  const out: bigint[] = [];
  for (let k = 0; k < RVOLE_XI; k++) {
    const x = tau1[3 * k + 1]!;
    const y = tau2[3 * k + 1]!;
    if (x !== y) out.push(modQ(-(x + y) * half));
  }
  return out;
}

/** A random source that replays the same bytes on every call sequence (a stored seed). */
function replaying(seed: Uint8Array): () => RandomSource {
  return () => {
    let ctr = 0;
    return (n) => {
      const out = new Uint8Array(n);
      for (let off = 0; off < n; off += 32)
        out.set(fastHash('replay', seed, u32(ctr++)).subarray(0, Math.min(32, n - off)), off);
      return out;
    };
  };
}

describe('per-use nonces defeat a repeated pair id (review C1, appendix A)', () => {
  const sid = pairSessionId(ctx, 3, 1, 'rvole');
  const a2 = modQ(BigInt('0x' + randomBytes(32).toString('hex')));
  const input: [bigint, bigint] = [5n, a2];
  /** Bob replays n_B but changes β: his first 32 random bytes are fixed, the rest fresh. */
  const bobReplayingNonce = (): RandomSource => {
    let first = true;
    return (n) => {
      if (first && n === OT_NONCE_LENGTH) {
        first = false;
        return new Uint8Array(OT_NONCE_LENGTH).fill(0x5a);
      }
      return new Uint8Array(randomBytes(n));
    };
  };
  const twoRuns = (aliceRandom: () => RandomSource, bobRandom: () => RandomSource) => {
    const { a, b } = dealtSetup(3, 1);
    return [0, 1].map(() => {
      const bob = rvoleBobStart(b, sid, bobRandom());
      const alice = rvoleAliceRespond(a, sid, bob.message, input, aliceRandom());
      return decodeAliceMessage(alice.message, 3).tau;
    });
  };

  it('control: with n_A replayed (a stored seed), a Bob who replays n_B extracts a_2', () => {
    const [t1, t2] = twoRuns(replaying(new Uint8Array(randomBytes(32))), bobReplayingNonce);
    const found = candidates(t1!, t2!);
    expect(found.length).toBeGreaterThan(100); // ≈ 256 rows where β changed
    expect(found.every((c) => c === a2)).toBe(true);
  });

  it('with a fresh n_A, the same malicious Bob learns nothing: no candidate is a_2', () => {
    const [t1, t2] = twoRuns(() => (n) => new Uint8Array(randomBytes(n)), bobReplayingNonce);
    const found = candidates(t1!, t2!);
    expect(found.length).toBe(RVOLE_XI); // fresh pads: τ differs on every row
    expect(found.includes(a2)).toBe(false);
  });

  it('with a fresh n_B, even a replayed n_A gives an honest Bob nothing', () => {
    const fresh = () => (n: number) => new Uint8Array(randomBytes(n));
    const [t1, t2] = twoRuns(replaying(new Uint8Array(randomBytes(32))), fresh);
    const found = candidates(t1!, t2!);
    expect(found.length).toBe(RVOLE_XI);
    expect(found.includes(a2)).toBe(false);
  });
});

function popcount(v: number): number {
  let c = 0;
  for (let x = v; x !== 0; x &= x - 1) c++;
  return c;
}
