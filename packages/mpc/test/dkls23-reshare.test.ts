// DKLs23 reshare and refresh (ARCHITECTURE.md §3 "Next signer" and "Refresh"): the same public
// key and chain code, new shares, fresh zero seeds and OT setups for the new set; the old set
// keeps signing, and the new set signs under derived keys.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { dkls23Refresh, dkls23Reshare, publicShareSet, type Dkls23KeyShare } from '../src/index.js';
import { runSessions, sid } from './helpers.js';
import { presign, runDkls23Dkg, signWith } from './dkls23-helpers.js';

const hash = () => crypto.getRandomValues(new Uint8Array(32));

async function expectSigns(shares: Map<number, Dkls23KeyShare>, signers: number[]) {
  const h = hash();
  const sig = await signWith(shares, presign(shares, signers), h, 'm/44/0/0/0/3');
  expect(secp256k1.verify(sig.compact, h, sig.publicKey, { prehash: false })).toBe(true);
}

describe('DKLs23 reshare and refresh, 3-of-3', () => {
  let old: Map<number, Dkls23KeyShare>;
  beforeAll(() => {
    old = runDkls23Dkg([1, 2, 3], 3, 'reshare-base');
  });

  it('next signer: {1,2,3} re-deal to {1,2,4}; same key and chain code, new set signs, old set too', async () => {
    const shareSet = publicShareSet(old.get(1)!);
    const sessions = new Map(
      [1, 2, 3, 4].map((me) => [
        me,
        dkls23Reshare({
          sid: sid('reshare-next'),
          dealers: [1, 2, 3],
          receivers: [1, 2, 4],
          threshold: 3,
          me,
          ...(me === 4 ? { shareSet } : { keyShare: old.get(me)! }),
        }),
      ]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    expect(out.results.get(3)!.keyShare).toBeNull();
    const fresh = new Map(
      [1, 2, 4].map((i) => [i, out.results.get(i)!.keyShare as Dkls23KeyShare]),
    );
    for (const s of fresh.values()) {
      expect(s.publicKey).toEqual(shareSet.publicKey);
      expect(s.chainCode).toEqual(shareSet.chainCode);
      expect(s.parties).toEqual([1, 2, 4]);
    }
    expect(fresh.get(1)!.signingShare).not.toEqual(old.get(1)!.signingShare);
    // Fresh OT setups: party 1's Δ towards 2 changed.
    expect(fresh.get(1)!.pairs[0]!.otSender.delta).not.toEqual(
      old.get(1)!.pairs[0]!.otSender.delta,
    );
    await expectSigns(fresh, [1, 2, 4]);
    await expectSigns(old, [1, 2, 3]);
  });

  it('refresh: new shares and setups for the same parties, same key', async () => {
    const sessions = new Map(
      [1, 2, 3].map((me) => [me, dkls23Refresh({ sid: sid('refresh'), keyShare: old.get(me)! })]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    const fresh = new Map([1, 2, 3].map((i) => [i, out.results.get(i)!.keyShare!]));
    expect(fresh.get(2)!.publicKey).toEqual(old.get(2)!.publicKey);
    expect(fresh.get(2)!.signingShare).not.toEqual(old.get(2)!.signingShare);
    expect(fresh.get(2)!.pairs[1]!.zeroSeed).not.toEqual(old.get(2)!.pairs[1]!.zeroSeed);
    await expectSigns(fresh, [1, 2, 3]);
  });
});
