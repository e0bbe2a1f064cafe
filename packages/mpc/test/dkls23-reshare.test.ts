// DKLs23 reshare and refresh (ARCHITECTURE.md §3 "Next signer" and "Refresh"): the same public
// key and chain code, new shares, fresh zero seeds and OT setups for the new set; the old set
// keeps signing, and the new set signs under derived keys. The key model is enforced (review
// 2026-11-24, C3): t = |receivers|, exactly one new receiver, refresh = same set and threshold,
// each refused by default and allowed by its named option; parties given different parameters
// abort in round 1, before any dealer sends f_i(j). The old share set comes from a trusted
// dealer (dkls23-trusted-dealer.ts): the DKG is tested in dkls23-keygen, and a DKG here would
// cost seconds of base OTs per CI pass.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dkls23Refresh,
  dkls23Reshare,
  exportDkls23KeyShare,
  publicShareSet,
  resumeSession,
  type Dkls23KeyShare,
  type Dkls23ReshareParams,
  type ProtocolMessage,
  type Session,
} from '../src/index.js';
import { runSessions, sid, type RunOutcome } from './helpers.js';
import { presign, signWith } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const hash = () => crypto.getRandomValues(new Uint8Array(32));

async function expectSigns(shares: Map<number, Dkls23KeyShare>, signers: number[]) {
  const h = hash();
  const sig = await signWith(shares, presign(shares, signers), h, 'm/44/0/0/0/3');
  expect(secp256k1.verify(sig.compact, h, sig.publicKey, { prehash: false })).toBe(true);
}

const invalidParams = expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' });

/** Runs the sessions and records every message each party emitted. */
function runRecorded<R>(sessions: Map<number, Session<R>>) {
  const sent: ProtocolMessage[] = [];
  const out: RunOutcome<R> = runSessions(sessions, (m) => {
    sent.push(m);
    return m;
  });
  return { out, sent };
}

describe('DKLs23 reshare and refresh, 3-of-3', () => {
  let old: Map<number, Dkls23KeyShare>;
  /** Party `me`'s parameters for the next-signer reshare {1,2,3} → {1,2,4}, t = 3. */
  let next: (me: number, overrides?: Partial<Dkls23ReshareParams>) => Dkls23ReshareParams;
  beforeAll(() => {
    old = dealDkls23Shares([1, 2, 3], 3);
    const shareSet = publicShareSet(old.get(1)!);
    next = (me, overrides = {}) => ({
      sid: sid('reshare-next'),
      dealers: [1, 2, 3],
      receivers: [1, 2, 4],
      threshold: 3,
      me,
      ...(old.has(me) ? { keyShare: old.get(me)! } : { shareSet }),
      ...overrides,
    });
  });

  it('next signer: {1,2,3} re-deal to {1,2,4}; same key and chain code, new set signs, old set too', async () => {
    const before = exportDkls23KeyShare(old.get(1)!);
    const sessions = new Map([1, 2, 3, 4].map((me) => [me, dkls23Reshare(next(me))]));
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    expect(out.results.get(3)!.keyShare).toBeNull();
    const fresh = new Map(
      [1, 2, 4].map((i) => [i, out.results.get(i)!.keyShare as Dkls23KeyShare]),
    );
    for (const s of fresh.values()) {
      expect(s.publicKey).toEqual(old.get(1)!.publicKey);
      expect(s.chainCode).toEqual(old.get(1)!.chainCode);
      expect(s.parties).toEqual([1, 2, 4]);
      expect(s.threshold).toBe(3);
    }
    expect(fresh.get(1)!.signingShare).not.toEqual(old.get(1)!.signingShare);
    // Fresh OT setups: party 1's Δ towards 2 changed; the caller's old share is untouched.
    expect(fresh.get(1)!.pairs[0]!.otSender.delta).not.toEqual(
      old.get(1)!.pairs[0]!.otSender.delta,
    );
    expect(Buffer.from(exportDkls23KeyShare(old.get(1)!)).equals(before)).toBe(true);
    await expectSigns(fresh, [1, 2, 4]);
    await expectSigns(old, [1, 2, 3]);
  });

  it('refresh: new shares and setups for the same parties, same key', async () => {
    // Two parties: the refresh logic does not depend on n, and each ordered pair costs 128 base
    // OTs (the next-signer test above covers three receivers).
    const pair = dealDkls23Shares([1, 2], 2);
    const sessions = new Map(
      [1, 2].map((me) => [me, dkls23Refresh({ sid: sid('refresh'), keyShare: pair.get(me)! })]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    const fresh = new Map([1, 2].map((i) => [i, out.results.get(i)!.keyShare!]));
    for (const i of [1, 2]) {
      expect(fresh.get(i)!.publicKey).toEqual(pair.get(i)!.publicKey);
      expect(fresh.get(i)!.chainCode).toEqual(pair.get(i)!.chainCode);
      expect(fresh.get(i)!.parties).toEqual([1, 2]);
      expect(fresh.get(i)!.signingShare).not.toEqual(pair.get(i)!.signingShare);
      expect(fresh.get(i)!.pairs[0]!.zeroSeed).not.toEqual(pair.get(i)!.pairs[0]!.zeroSeed);
    }
    await expectSigns(fresh, [1, 2]);
  });

  describe('key model (review C3): refused at creation unless opted out by name', () => {
    // Every party's creation is checked, the new member's (no key share) included.
    const everyone = [1, 2, 3, 4];

    it('t below the receiver count: refused; allowed with allowThresholdBelowPartyCount', () => {
      for (const me of everyone)
        expect(() => dkls23Reshare(next(me, { threshold: 2 }))).toThrow(invalidParams);
      for (const me of everyone) {
        const s = dkls23Reshare(next(me, { threshold: 2, allowThresholdBelowPartyCount: true }));
        expect(s.start().some((m) => m.to === 'broadcast')).toBe(true);
      }
    });

    it('two receivers that are not dealers: refused; allowed with allowAnyReceiverSet', () => {
      const two = { receivers: [1, 2, 4, 5], threshold: 4 };
      for (const me of [...everyone, 5])
        expect(() => dkls23Reshare(next(me, two))).toThrow(invalidParams);
      for (const me of [...everyone, 5])
        expect(dkls23Reshare(next(me, { ...two, allowAnyReceiverSet: true })).status).toBe(
          'created',
        );
    });

    it('no receiver that is not a dealer: refused; allowed with allowAnyReceiverSet', () => {
      const none = { receivers: [1, 2], threshold: 2 };
      for (const me of [1, 2, 3])
        expect(() => dkls23Reshare(next(me, none))).toThrow(invalidParams);
      for (const me of [1, 2, 3])
        expect(dkls23Reshare(next(me, { ...none, allowAnyReceiverSet: true })).status).toBe(
          'created',
        );
    });

    it('dealers outside the old set or fewer than its threshold are refused', () => {
      expect(() => dkls23Reshare(next(1, { dealers: [1, 2] }))).toThrow(invalidParams);
      expect(() => dkls23Reshare(next(4, { dealers: [1, 2, 3, 5] }))).toThrow(invalidParams);
    });

    it('refresh of a share set below n-of-n needs allowThresholdBelowPartyCount', () => {
      const twoOfThree = dealDkls23Shares([1, 2, 3], 2);
      const keyShare = twoOfThree.get(1)!;
      expect(() => dkls23Refresh({ sid: sid('refresh-2of3'), keyShare })).toThrow(invalidParams);
      expect(
        dkls23Refresh({ sid: sid('refresh-2of3'), keyShare, allowThresholdBelowPartyCount: true })
          .status,
      ).toBe('created');
    });

    it('the rules are checked again on restore: a refresh state with another threshold is refused', () => {
      const s = dkls23Refresh({ sid: sid('refresh-state'), keyShare: old.get(1)! });
      s.start();
      const bytes = s.toBytes();
      // Protocol state: u8 flags | u8 t | u8 3 | 1, 2, 3 | u8 3 | 1, 2, 3 (dealers, receivers).
      const config = Uint8Array.of(0, 3, 3, 0, 1, 0, 2, 0, 3, 3, 0, 1, 0, 2, 0, 3);
      const at = Buffer.from(bytes).indexOf(Buffer.from(config));
      expect(at).toBeGreaterThan(0);
      expect(() => resumeSession(bytes)).not.toThrow();
      // t = 2 with the threshold flag: valid for a reshare, not for a refresh of a 3-of-3 set.
      const lowered = bytes.slice();
      lowered[at] = 1;
      lowered[at + 1] = 2;
      expect(() => resumeSession(lowered)).toThrow(invalidParams);
      // Without the flag, t = 2 of 3 receivers is refused by the threshold rule itself.
      const noFlag = bytes.slice();
      noFlag[at + 1] = 2;
      expect(() => resumeSession(noFlag)).toThrow(invalidParams);
    });

    it('appendix C regression: {1,2,3} → {1,2,4,5} with t = 2 is refused at creation for every party', () => {
      // The review's exploit: accepted before, after which receivers 4 and 5 alone interpolated
      // x from one evaluation each of every dealer's degree-1 polynomial.
      const exploit = { receivers: [1, 2, 4, 5], threshold: 2 };
      for (const me of [1, 2, 3, 4, 5]) {
        expect(() => dkls23Reshare(next(me, exploit))).toThrow(invalidParams);
        // Each opt-out alone still refuses it: both rules are violated.
        expect(() =>
          dkls23Reshare(next(me, { ...exploit, allowThresholdBelowPartyCount: true })),
        ).toThrow(invalidParams);
        expect(() => dkls23Reshare(next(me, { ...exploit, allowAnyReceiverSet: true }))).toThrow(
          invalidParams,
        );
      }
    });
  });

  describe('parameters disagree: abort in round 1, no share sent (review C3)', () => {
    it('a dealer given another threshold: everyone else names it, nobody reaches round 2', () => {
      const sessions = new Map(
        [1, 2, 3, 4].map((me) => [
          me,
          dkls23Reshare(
            me === 3 ? next(me, { threshold: 2, allowThresholdBelowPartyCount: true }) : next(me),
          ),
        ]),
      );
      const { out, sent } = runRecorded(sessions);
      for (const honest of [1, 2, 4])
        expect(out.errors.get(honest)).toMatchObject({
          code: 'ERR_MPC_CONTEXT_MISMATCH',
          culprit: 3,
        });
      expect(out.results.size).toBe(0);
      expect(sent.filter((m) => m.round >= 2)).toEqual([]);
    });

    it('the new member given another old share set: the dealers name it before dealing', () => {
      const otherSet = publicShareSet(dealDkls23Shares([1, 2, 3], 3).get(1)!);
      const sessions = new Map(
        [1, 2, 3, 4].map((me) => [
          me,
          dkls23Reshare(me === 4 ? next(me, { shareSet: otherSet }) : next(me)),
        ]),
      );
      const { out, sent } = runRecorded(sessions);
      for (const dealer of [1, 2, 3])
        expect(out.errors.get(dealer)).toMatchObject({
          code: 'ERR_MPC_CONTEXT_MISMATCH',
          culprit: 4,
        });
      expect(sent.filter((m) => m.round >= 2)).toEqual([]);
    });

    it('a leaving dealer given another receiver set: it deals nothing, the others name it', () => {
      // Dealer 3's roster says {1,2,5}. It never completes round 1 (4's messages are not of its
      // session), and 1, 2 and 4 see its digest differ.
      const sessions = new Map(
        [1, 2, 3, 4].map((me) => [
          me,
          dkls23Reshare(me === 3 ? next(me, { receivers: [1, 2, 5] }) : next(me)),
        ]),
      );
      const { out, sent } = runRecorded(sessions);
      for (const honest of [1, 2, 4])
        expect(out.errors.get(honest)).toMatchObject({
          code: 'ERR_MPC_CONTEXT_MISMATCH',
          culprit: 3,
        });
      expect(sent.filter((m) => m.round >= 2)).toEqual([]);
    });
  });
});
