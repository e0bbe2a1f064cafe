// Reshare (old share set → new party set) and refresh keep the group key and chain code;
// old and new share sets both sign.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  dkg,
  publicShareSet,
  refresh,
  reshare,
  sign,
  type CurveName,
  type KeyShare,
} from '../src/index.js';
import { runDkg, runSessions, sid } from './helpers.js';

const message = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

function verifies(curve: CurveName, shares: Map<number, KeyShare>, signers: number[]): boolean {
  const sessions = new Map(
    signers.map((me) => [
      me,
      sign({ sid: sid(`sign ${signers.join()}`), keyShare: shares.get(me)!, signers, message }),
    ]),
  );
  const out = runSessions(sessions);
  const r = out.results.get(signers[0]!);
  if (out.errors.size > 0 || r === undefined) return false;
  if (curve === 'secp256k1') return schnorr.verify(r.signature, message, r.publicKey);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), r.publicKey]);
  return nodeVerify(
    null,
    message,
    createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    r.signature,
  );
}

describe.each(['ed25519', 'secp256k1'] as const)('%s reshare and refresh', (curve) => {
  it('reshares {1,2,3} → {1,2,4} (new signer joins); both sets sign, same key', () => {
    const old = runDkg(curve, [1, 2, 3], 3);
    const shareSet = publicShareSet(old.get(1)!);
    const dealers = [1, 2, 3];
    const receivers = [1, 2, 4];
    const sessions = new Map(
      [1, 2, 3, 4].map((me) => [
        me,
        reshare({
          sid: sid('reshare'),
          dealers,
          receivers,
          threshold: 3,
          me,
          ...(me === 4 ? { shareSet } : { keyShare: old.get(me)! }),
        }),
      ]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    expect(out.results.get(3)!.keyShare).toBeNull(); // the dealer that is not in the new set
    const fresh = new Map(receivers.map((i) => [i, out.results.get(i)!.keyShare!]));
    for (const s of fresh.values()) {
      expect(s.publicKey).toEqual(shareSet.publicKey);
      expect(s.chainCode).toEqual(shareSet.chainCode);
      expect(s.parties).toEqual(receivers);
    }
    expect(fresh.get(1)!.signingShare).not.toEqual(old.get(1)!.signingShare);
    expect(verifies(curve, old, [1, 2, 3])).toBe(true);
    expect(verifies(curve, fresh, [1, 2, 4])).toBe(true);
  });

  it('reshares a 2-of-3 set with two dealers to a new 2-of-3 set (explicit opt-out only)', () => {
    const old = runDkg(curve, [1, 2, 3], 2);
    const shareSet = publicShareSet(old.get(1)!);
    const sessions = new Map(
      [1, 3, 5].map((me) => [
        me,
        reshare({
          sid: sid('reshare 2of3'),
          dealers: [1, 3],
          receivers: [1, 3, 5],
          threshold: 2,
          allowThresholdBelowPartyCount: true, // 2-of-3 is outside the key model: opt in
          me,
          ...(me === 5 ? { shareSet } : { keyShare: old.get(me)! }),
        }),
      ]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    const fresh = new Map([1, 3, 5].map((i) => [i, out.results.get(i)!.keyShare!]));
    expect(verifies(curve, fresh, [3, 5])).toBe(true);
    expect(verifies(curve, old, [1, 2])).toBe(true);
  });

  it('refresh: same parties, new shares, same key; both old and refreshed shares sign', () => {
    const old = runDkg(curve, [1, 2, 3], 3);
    const sessions = new Map(
      [1, 2, 3].map((me) => [me, refresh({ sid: sid('refresh'), keyShare: old.get(me)! })]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    const fresh = new Map([1, 2, 3].map((i) => [i, out.results.get(i)!.keyShare!]));
    for (const i of [1, 2, 3]) {
      expect(fresh.get(i)!.publicKey).toEqual(old.get(i)!.publicKey);
      expect(fresh.get(i)!.signingShare).not.toEqual(old.get(i)!.signingShare);
      expect(fresh.get(i)!.verificationShares[i - 1]).not.toEqual(
        old.get(i)!.verificationShares[i - 1],
      );
    }
    expect(verifies(curve, fresh, [1, 2, 3])).toBe(true);
    expect(verifies(curve, old, [1, 2, 3])).toBe(true);
  });
});

describe('reshare parameters: the key model is enforced, disagreement aborts', () => {
  const old = runDkg('ed25519', [1, 2, 3], 3, 'reshare-params');
  const shareSet = publicShareSet(old.get(1)!);
  const base = (me: number) => ({
    sid: sid('reshare-params'),
    dealers: [1, 2, 3],
    receivers: [1, 2, 4],
    threshold: 3,
    me,
    ...(me === 4 ? { shareSet } : { keyShare: old.get(me)! }),
  });

  it('refuses a threshold below the receiver count unless allowThresholdBelowPartyCount', () => {
    // The reviewer's attack: the honest co-signer (3) told t = 2 for receivers {1, 2, 4} would
    // deal a degree-1 polynomial, and cloud-1 and cloud-2 would rebuild its share.
    expect(() => reshare({ ...base(3), threshold: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }),
    );
    expect(() =>
      reshare({ ...base(3), threshold: 2, allowThresholdBelowPartyCount: true }),
    ).not.toThrow();
  });

  it('refuses receiver sets without exactly one new member unless allowAnyReceiverSet', () => {
    for (const receivers of [
      [1, 2], // the leaving dealer's polynomial would reach only cloud-1 and cloud-2
      [1, 2, 4, 5], // two newcomers (both could be the cloud's)
      [1, 2, 3], // no newcomer: that is a refresh
    ]) {
      expect(() => reshare({ ...base(3), receivers, threshold: receivers.length })).toThrow(
        expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }),
      );
      expect(() =>
        reshare({ ...base(3), receivers, threshold: receivers.length, allowAnyReceiverSet: true }),
      ).not.toThrow();
    }
  });

  it('refresh: the threshold of a 2-of-3 set needs the opt-out; DKG likewise', () => {
    const twoOfThree = runDkg('ed25519', [1, 2, 3], 2, 'refresh-2of3');
    expect(() => refresh({ sid: sid('r'), keyShare: twoOfThree.get(1)! })).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }),
    );
    const sessions = new Map(
      [1, 2, 3].map((me) => [
        me,
        refresh({
          sid: sid('r'),
          keyShare: twoOfThree.get(me)!,
          allowThresholdBelowPartyCount: true,
        }),
      ]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    expect(out.results.get(1)!.keyShare!.threshold).toBe(2);
    expect(() =>
      dkg({ curve: 'ed25519', sid: sid('d'), parties: [1, 2, 3], me: 1, threshold: 2 }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
  });

  it('parties given different thresholds abort with ERR_MPC_CONTEXT_MISMATCH; nobody outputs', () => {
    // Cloud-1 and cloud-2 run with t = 2 (opt-out), the others with t = 3.
    const sessions = new Map(
      [1, 2, 3, 4].map((me) => [
        me,
        reshare(
          me <= 2 ? { ...base(me), threshold: 2, allowThresholdBelowPartyCount: true } : base(me),
        ),
      ]),
    );
    const out = runSessions(sessions);
    expect(out.results.size).toBe(0);
    for (const h of [3, 4]) {
      const e = out.errors.get(h);
      expect(e?.code).toBe('ERR_MPC_CONTEXT_MISMATCH');
      expect([1, 2]).toContain(e?.culprit);
    }
  });

  it('parties given different receiver sets abort with ERR_MPC_CONTEXT_MISMATCH; nobody outputs', () => {
    // Party 4 is told the receivers are {1, 3, 4}: its session has other parties, so it sees
    // the dealers' digests (which bind dealers, receivers and threshold) disagree with its own.
    const sessions = new Map(
      [1, 2, 3, 4].map((me) => [
        me,
        reshare(me === 4 ? { ...base(me), receivers: [1, 3, 4] } : base(me)),
      ]),
    );
    const out = runSessions(sessions);
    expect(out.results.size).toBe(0);
    expect(out.errors.get(4)).toMatchObject({ code: 'ERR_MPC_CONTEXT_MISMATCH' });
  });

  it('DKG parties given different thresholds abort in round 1, before any share is dealt', () => {
    const parties = [1, 2, 3];
    const sent: number[] = [];
    const sessions = new Map(
      parties.map((me) => [
        me,
        dkg({
          curve: 'secp256k1',
          sid: sid('dkg-params'),
          parties,
          me,
          threshold: me === 3 ? 3 : 2,
          allowThresholdBelowPartyCount: true,
        }),
      ]),
    );
    const out = runSessions(sessions, (m) => {
      sent.push(m.round);
      return m;
    });
    expect(out.results.size).toBe(0);
    expect(out.errors.get(3)).toMatchObject({ code: 'ERR_MPC_CONTEXT_MISMATCH' });
    expect(out.errors.get(1)).toMatchObject({ code: 'ERR_MPC_CONTEXT_MISMATCH', culprit: 3 });
    expect(sent.every((r) => r === 1)).toBe(true); // no round-2 share left anyone
  });
});
