// The DKLs23 key-share format (CSKS v2) under structured corruption of its pairs section (review
// 2026-11-24, L3: random inputs of a few hundred bytes never reach the pairs of a ~25 KB share):
// truncation inside every field of every pair, flag bytes outside {0..3}, duplicated, foreign,
// self and out-of-order pair parties, trailing bytes, and in-memory shares with malformed pairs.
// Every refusal is typed; every accepted input re-exports byte for byte. The share comes from
// the test-only trusted dealer, so this file runs no DKG.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  exportDkls23KeyShare,
  importDkls23KeyShare,
  MpcError,
  type Dkls23KeyShare,
  type Dkls23Pair,
} from '../src/index.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const N = 3;
/** "CSKS" | ver | curve | t | n | u16 index | n × u16 | 32 share | 33 X | 32 cc | n × 33 X_j */
const PAIRS_AT = 4 + 1 + 1 + 1 + 1 + 2 + 2 * N + 32 + 33 + 32 + 33 * N;
/** u16 j | 32 zero seed | u8 flags | 16 Δ | 3 × 128 × 32 keys */
const FIELDS = { party: 0, zeroSeed: 2, flags: 34, delta: 35, keys: 51, keys0: 4147, keys1: 8243 };
const PAIR_LENGTH = 51 + 3 * 128 * 32;

const malformed = expect.objectContaining({ code: 'ERR_MPC_MALFORMED' });
const badShare = expect.objectContaining({ code: 'ERR_MPC_KEY_SHARE' });

/** Byte equality without vitest's element-wise diff (slow on 25 KB). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

function refusedTyped(bytes: Uint8Array): MpcError {
  try {
    importDkls23KeyShare(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(MpcError);
    return e as MpcError;
  }
  throw new Error('accepted');
}

describe('CSKS v2 pairs section', () => {
  let share: Dkls23KeyShare;
  let valid: Uint8Array;
  const pairAt = (k: number): number => PAIRS_AT + k * PAIR_LENGTH;

  beforeAll(() => {
    share = dealDkls23Shares([1, 2, 3], 3).get(1)!;
    valid = exportDkls23KeyShare(share);
  });

  it('the layout assumed here is the exporter’s (two pairs, parties 2 and 3)', () => {
    expect(valid).toHaveLength(PAIRS_AT + (N - 1) * PAIR_LENGTH);
    expect(valid[pairAt(0) + 1]).toBe(2);
    expect(valid[pairAt(1) + 1]).toBe(3);
    expect(sameBytes(exportDkls23KeyShare(importDkls23KeyShare(valid)), valid)).toBe(true);
  });

  it('truncation inside every field of every pair, and one trailing byte, are ERR_MPC_MALFORMED', () => {
    const cuts: number[] = [];
    for (let k = 0; k < N - 1; k++)
      for (const offset of Object.values(FIELDS))
        cuts.push(pairAt(k) + offset, pairAt(k) + offset + 1);
    cuts.push(valid.length - 1);
    for (const cut of cuts)
      expect(() => importDkls23KeyShare(valid.subarray(0, cut))).toThrow(malformed);
    expect(() => importDkls23KeyShare(Uint8Array.from([...valid, 0]))).toThrow(malformed);
  });

  it('flags 1..3 mark destroyed setups and round-trip; 4 and above are refused', () => {
    for (const k of [0, 1])
      for (const flags of [1, 2, 3]) {
        const b = valid.slice();
        b[pairAt(k) + FIELDS.flags] = flags;
        const back = importDkls23KeyShare(b);
        expect(back.pairs[k]!.otSender.destroyed).toBe((flags & 1) !== 0);
        expect(back.pairs[k]!.otReceiver.destroyed).toBe((flags & 2) !== 0);
        expect(sameBytes(exportDkls23KeyShare(back), b)).toBe(true);
      }
    for (const k of [0, 1])
      for (const flags of [4, 0x80, 0xff]) {
        const b = valid.slice();
        b[pairAt(k) + FIELDS.flags] = flags;
        const e = refusedTyped(b);
        expect(e.code).toBe('ERR_MPC_MALFORMED');
        expect(e.message).toContain('flags');
      }
  });

  it('a duplicated, self, foreign or out-of-order pair party is ERR_MPC_KEY_SHARE', () => {
    const withParties = (p0: number, p1: number): Uint8Array => {
      const b = valid.slice();
      new DataView(b.buffer).setUint16(pairAt(0), p0);
      new DataView(b.buffer).setUint16(pairAt(1), p1);
      return b;
    };
    for (const [p0, p1] of [
      [2, 2], // duplicated
      [3, 3],
      [1, 3], // my own index
      [2, 4], // not a member
      [3, 2], // members, out of order
      [0, 3],
    ] as const)
      expect(() => importDkls23KeyShare(withParties(p0, p1))).toThrow(badShare);
  });

  it('any single-byte change or truncation inside the pairs is refused typed or re-exports exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: PAIRS_AT, max: PAIRS_AT + 2 * PAIR_LENGTH - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (at, byte, truncate) => {
          const b = truncate ? valid.slice(0, at) : valid.slice();
          if (!truncate) b[at] = byte;
          let back: Dkls23KeyShare;
          try {
            back = importDkls23KeyShare(b);
          } catch (e) {
            expect(e).toBeInstanceOf(MpcError);
            expect((e as MpcError).code).toMatch(/^ERR_MPC_(MALFORMED|KEY_SHARE)$/);
            return;
          }
          expect(truncate).toBe(false);
          expect(sameBytes(exportDkls23KeyShare(back), b)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('export refuses in-memory shares whose pairs are malformed (typed, never a TypeError)', () => {
    const withPair = (k: number, change: (p: Dkls23Pair) => unknown): Dkls23KeyShare => {
      const pairs = share.pairs.map((p, i) => (i === k ? change(p) : p)) as Dkls23Pair[];
      return { ...share, pairs };
    };
    const shortKey = (p: Dkls23Pair) => ({
      ...p,
      otSender: {
        ...p.otSender,
        keys: p.otSender.keys.map((key, l) => (l === 5 ? key.subarray(1) : key)),
      },
    });
    const cases: ((p: Dkls23Pair) => unknown)[] = [
      shortKey,
      (p) => ({ ...p, otReceiver: { ...p.otReceiver, keys1: p.otReceiver.keys1.slice(1) } }),
      (p) => ({ ...p, otSender: { ...p.otSender, destroyed: 'no' } }),
      (p) => ({ ...p, otReceiver: { ...p.otReceiver, sender: 1 } }),
      (p) => ({ ...p, zeroSeed: p.zeroSeed.subarray(1) }),
      (p) => ({ ...p, otSender: null }),
      () => null,
    ];
    for (const change of cases) {
      expect(() => exportDkls23KeyShare(withPair(1, change))).toThrow(badShare);
    }
    expect(() => exportDkls23KeyShare({ ...share, pairs: share.pairs.slice(1) })).toThrow(badShare);
  });
});
