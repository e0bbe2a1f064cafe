// Reshare (old share set → new party set) and refresh keep the group key and chain code;
// old and new share sets both sign.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
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

  it('reshares a 2-of-3 set with two dealers to a new 2-of-3 set', () => {
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
