// DKLs23 DKG: 3-of-3 (Countersign) and 2-of-3, the pairwise state it produces (zero seeds, one
// OT setup per ordered pair, consistent across the pair), and the versioned key-share format.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  exportDkls23KeyShare,
  exportKeyShare,
  importDkls23KeyShare,
  importKeyShare,
  dkls23Dkg,
  resumeSession,
  type Dkls23KeyShare,
  type ProtocolMessage,
} from '../src/index.js';
import { sid } from './helpers.js';
import { deliver, runDkls23Dkg } from './dkls23-helpers.js';

const bit = (b: Uint8Array, i: number): number => ((b[i >>> 3] ?? 0) >>> (i & 7)) & 1;

function checkPairs(shares: Map<number, Dkls23KeyShare>): void {
  for (const [i, s] of shares)
    for (const p of s.pairs) {
      const other = shares.get(p.party)!.pairs.find((q) => q.party === i)!;
      expect(p.zeroSeed).toEqual(other.zeroSeed);
      // (i → j): Alice i holds k_l^{Δ_l}; Bob j holds both.
      const bob = other.otReceiver;
      expect(bob.sender).toBe(i);
      p.otSender.keys.forEach((k, l) =>
        expect(k).toEqual(bit(p.otSender.delta, l) === 1 ? bob.keys1[l] : bob.keys0[l]),
      );
    }
}

describe('DKLs23 DKG 3-of-3', () => {
  let shares: Map<number, Dkls23KeyShare>;
  beforeAll(() => {
    shares = runDkls23Dkg([1, 2, 3], 3, 'keygen-3of3');
  });

  it('every party holds the same public key, chain code and verification shares', () => {
    const [a, b, c] = [...shares.values()];
    for (const s of [b!, c!]) {
      expect(s.publicKey).toEqual(a!.publicKey);
      expect(s.chainCode).toEqual(a!.chainCode);
      expect(s.verificationShares).toEqual(a!.verificationShares);
    }
    // Σ λ_i x_i = x: with t = n the shares interpolate to the key.
    const X = secp256k1.Point.fromBytes(a!.publicKey);
    let acc = secp256k1.Point.ZERO;
    for (const s of shares.values()) {
      const lambda = lagrange3(s.index);
      acc = acc.add(secp256k1.Point.BASE.multiply(bytesToScalar(s.signingShare)).multiply(lambda));
    }
    expect(acc.equals(X)).toBe(true);
  });

  it('zero seeds and the OT setups of each ordered pair agree', () => {
    checkPairs(shares);
    for (const s of shares.values()) expect(s.pairs.map((p) => p.party)).toHaveLength(2);
  });

  it('the key share exports as CSKS version 2 and imports back; FROST v1 import refuses it', () => {
    const s = shares.get(2)!;
    const bytes = exportDkls23KeyShare(s);
    expect(bytes[4]).toBe(2);
    const back = importDkls23KeyShare(bytes);
    expect(exportDkls23KeyShare(back)).toEqual(bytes);
    expect(() => importKeyShare(bytes)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_KEY_SHARE' }),
    );
    expect(() => importDkls23KeyShare(exportKeyShare(s))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_KEY_SHARE' }),
    );
  });

  it('a tampered signing share is refused at import', () => {
    const bytes = exportDkls23KeyShare(shares.get(1)!);
    const bad = bytes.slice();
    bad[4 + 1 + 1 + 1 + 1 + 2 + 6 + 31]! ^= 1;
    expect(() => importDkls23KeyShare(bad)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_KEY_SHARE' }),
    );
  });
});

describe('DKLs23 DKG persistence', () => {
  it('a DKG restored from bytes before every delivery completes with consistent setups', () => {
    const parties = [1, 2];
    const sessions = new Map(
      parties.map((me) => [
        me,
        dkls23Dkg({ sid: sid('keygen-resume'), parties, me, threshold: 2 }),
      ]),
    );
    const initial: ProtocolMessage[] = [];
    for (const s of sessions.values()) initial.push(...s.start());
    const shares = deliver(sessions, initial, (_m, to) => {
      sessions.set(to, resumeSession<Dkls23KeyShare>(sessions.get(to)!.toBytes()));
    });
    expect(shares.get(1)!.publicKey).toEqual(shares.get(2)!.publicKey);
    checkPairs(shares);
  });
});

describe('DKLs23 DKG 2-of-3', () => {
  it('produces a consistent 2-of-3 sharing with pairwise state', () => {
    const shares = runDkls23Dkg([1, 2, 3], 2, 'keygen-2of3');
    expect(shares.get(1)!.threshold).toBe(2);
    checkPairs(shares);
    // Any two shares interpolate to the key.
    const X = secp256k1.Point.fromBytes(shares.get(1)!.publicKey);
    const q = secp256k1.Point.Fn.ORDER;
    const x1 = bytesToScalar(shares.get(1)!.signingShare);
    const x3 = bytesToScalar(shares.get(3)!.signingShare);
    // λ_1 = 3/(3−1), λ_3 = 1/(1−3) over {1, 3}
    const inv2 = secp256k1.Point.Fn.inv(2n);
    const x = (((3n * inv2 * x1 - inv2 * x3) % q) + q) % q;
    expect(secp256k1.Point.BASE.multiply(x).equals(X)).toBe(true);
  });
});

function bytesToScalar(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b).toString('hex'));
}

function lagrange3(i: number): bigint {
  const Fn = secp256k1.Point.Fn;
  let num = 1n;
  let den = 1n;
  for (const j of [1, 2, 3])
    if (j !== i) {
      num = Fn.mul(num, BigInt(j));
      den = Fn.mul(den, Fn.sub(BigInt(j), BigInt(i)));
    }
  return Fn.mul(num, Fn.inv(den));
}
