// DKLs23 DKG: 3-of-3 (Countersign) and 2-of-3, the pairwise state it produces (zero seeds, one
// OT setup per ordered pair, consistent across the pair), and the versioned key-share format.
// Both DKGs' shares presign and sign: the suite's real DKG → presign → sign path.
// Key model (review 2026-11-24, H1): t = n unless allowThresholdBelowPartyCount, checked at
// creation and on restore, and the hash context binds the parties, threshold and options.
import { inspect } from 'node:util';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  exportDkls23KeyShare,
  exportKeyShare,
  importDkls23KeyShare,
  importKeyShare,
  dkls23Dkg,
  resumeSession,
  type Dkls23DkgParams,
  type Dkls23KeyShare,
  type ProtocolMessage,
} from '../src/index.js';
import { ByteWriter } from '../src/bytes.js';
import { loadDkls23Keygen } from '../src/dkls23/keygen.js';
import { makeHeader } from '../src/session.js';
import { dkls23DkgForTesting } from '../src/test-hooks.js';
import { runSessions, seededRandom, sid } from './helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';
import { deliver, presign, runDkls23Dkg, signWith } from './dkls23-helpers.js';

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

  // The suite's real DKG → presign → sign path (the signing files use trusted-dealer shares).
  it('the DKG shares presign and sign: the signature verifies under the derived key', async () => {
    const hash = crypto.getRandomValues(new Uint8Array(32));
    const path = 'm/44/60/0/0/5';
    const sig = await signWith(shares, presign(shares, [1, 2, 3]), hash, path);
    const root = shares.get(1)!;
    const xpub = new HDKey({ publicKey: root.publicKey, chainCode: root.chainCode });
    expect(sig.publicKey).toEqual(xpub.derive(path).publicKey);
    expect(secp256k1.verify(sig.compact, hash, sig.publicKey, { prehash: false })).toBe(true);
  });

  // dkls23-redaction.test.ts renders trusted-dealer shares; this is the DKG's own output.
  it('a fresh key share renders its public part only', () => {
    const s = shares.get(1)!;
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    for (const r of [inspect(s, { depth: Infinity }), JSON.stringify(s)]) {
      expect(r).toContain(hex(s.publicKey));
      for (const secret of [s.signingShare, s.pairs[0]!.zeroSeed, s.pairs[0]!.otSender.delta])
        expect(r).not.toContain(hex(secret));
    }
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
    // Buffer comparison: vitest's element-wise toEqual costs ~70 ms on a 25 KB share.
    expect(Buffer.from(exportDkls23KeyShare(back)).equals(bytes)).toBe(true);
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

describe('DKLs23 DKG key model (review H1)', () => {
  const params = (me: number, extra: Partial<Dkls23DkgParams> = {}): Dkls23DkgParams => ({
    sid: sid('keygen-model'),
    parties: [1, 2, 3],
    me,
    threshold: 3,
    ...extra,
  });
  const invalidParams = expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' });

  it('t < n is refused for every party unless allowThresholdBelowPartyCount', () => {
    for (const me of [1, 2, 3]) {
      expect(() => dkls23Dkg(params(me, { threshold: 2 }))).toThrow(invalidParams);
      const s = dkls23Dkg(params(me, { threshold: 2, allowThresholdBelowPartyCount: true }));
      expect(s.start().filter((m) => m.to === 'broadcast')).toHaveLength(1);
    }
    // The opt-out does not stretch the basic bounds.
    expect(() =>
      dkls23Dkg(params(1, { threshold: 1, allowThresholdBelowPartyCount: true })),
    ).toThrow(invalidParams);
    expect(() => dkls23Dkg(params(1, { threshold: 4 }))).toThrow(invalidParams);
  });

  it('the commitment is bound to the parties, threshold and options (same randomness, other commitment)', () => {
    // Same seed, hence the same polynomial, chain-code contribution and salt: only the context
    // differs. Round-1 broadcast = P ‖ com.
    const round1 = (extra: Partial<Dkls23DkgParams>) => {
      const s = dkls23DkgForTesting(params(1, extra), { random: seededRandom('keygen-bind') });
      const b = s.start().find((m) => m.to === 'broadcast')!.payload;
      expect(b).toHaveLength(64);
      return { P: b.subarray(0, 32), com: b.subarray(32) };
    };
    const base = round1({});
    expect(round1({}).com).toEqual(base.com); // deterministic given the seed
    for (const other of [
      round1({ allowThresholdBelowPartyCount: true }),
      round1({ parties: [1, 2, 4] }),
      round1({ sid: sid('keygen-model-2') }),
    ]) {
      expect(other.P).not.toEqual(base.P);
      expect(other.com).not.toEqual(base.com);
    }
  });

  it('the rules are checked again on restore: a 2-of-3 state without its opt-out is refused', () => {
    const s = dkls23Dkg(params(1, { threshold: 2, allowThresholdBelowPartyCount: true }));
    s.start();
    const bytes = s.toBytes();
    // Protocol state: u8 flags | u8 t | u8 3 | 1, 2, 3 | u8 3 | 1, 2, 3 | u8 0 (no old set).
    const config = Uint8Array.of(1, 2, 3, 0, 1, 0, 2, 0, 3, 3, 0, 1, 0, 2, 0, 3, 0);
    const at = Buffer.from(bytes).indexOf(Buffer.from(config));
    expect(at).toBeGreaterThan(0);
    expect(resumeSession(bytes).status).toBe('running');
    const cleared = bytes.slice();
    cleared[at] = 0;
    expect(() => resumeSession(cleared)).toThrow(invalidParams);
    const unknownFlag = bytes.slice();
    unknownFlag[at] = 4;
    expect(() => resumeSession(unknownFlag)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
    // allowAnyReceiverSet (bit 1) is not an option of a DKG.
    const receiverFlag = bytes.slice();
    receiverFlag[at] = 3;
    expect(() => resumeSession(receiverFlag)).toThrow(invalidParams);
  });
});

describe('DKLs23 key generation keeps its secrets in #private fields (review L1)', () => {
  it('no rendering of a reshare dealer shows its seed or dealt secret λ_i·x_i', () => {
    // A reshare dealer's protocol object, loaded from a hand-built state with known secrets.
    const old = dealDkls23Shares([1, 2, 3], 3).get(1)!;
    const seed = new Uint8Array(32).fill(0xa7);
    const dealt = new Uint8Array(32).fill(0x5c);
    const w = new ByteWriter().u8(0).u8(3).u8(3).u16(1).u16(2).u16(3).u8(3).u16(1).u16(2).u16(4);
    w.u8(1).u8(old.threshold).u8(3).u16(1).u16(2).u16(3).raw(old.publicKey).raw(old.chainCode);
    for (const v of old.verificationShares) w.raw(v);
    const empty = new Uint8Array(0);
    w.u8(0).raw(seed).bytes(dealt).bytes(Uint8Array.of(0)).bytes(Uint8Array.of(0));
    w.bytes(empty).bytes(empty).u8(0).bytes(empty);
    const header = makeHeader(
      'dkls23-secp256k1/reshare/v1',
      sid('keygen-private'),
      [1, 2, 3, 4],
      1,
    );
    const protocol = loadDkls23Keygen(header, w.finish());
    expect(protocol.start().find((m) => m.to === 'broadcast')!.payload).toHaveLength(64);
    const secrets = [seed, dealt].flatMap((b) => [
      Buffer.from(b).toString('hex'),
      [...b].join(', '),
      [...b].join(','),
      BigInt('0x' + Buffer.from(b).toString('hex')).toString(10),
    ]);
    const renderings = [
      inspect(protocol),
      inspect(protocol, { depth: Infinity, showHidden: true }),
      inspect(protocol, { depth: Infinity, showHidden: true, customInspect: false }),
      JSON.stringify(protocol),
    ];
    for (const text of renderings) for (const f of secrets) expect(text).not.toContain(f);
    expect(inspect(protocol)).toContain('dkls23-secp256k1/reshare/v1');
    expect(JSON.parse(JSON.stringify(protocol))).toMatchObject({ me: 1, receivers: [1, 2, 4] });
  });
});

describe('DKLs23 DKG 2-of-3 (allowThresholdBelowPartyCount)', () => {
  it('produces a consistent 2-of-3 sharing with pairwise state; two of them sign', async () => {
    const parties = [1, 2, 3];
    const out = runSessions(
      new Map(
        parties.map((me) => [
          me,
          dkls23Dkg({
            sid: sid('keygen-2of3'),
            parties,
            me,
            threshold: 2,
            allowThresholdBelowPartyCount: true,
          }),
        ]),
      ),
    );
    expect(out.errors.size).toBe(0);
    const shares = out.results;
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
    // And a pair of them presigns and signs.
    const hash = crypto.getRandomValues(new Uint8Array(32));
    const sig = await signWith(shares, presign(shares, [1, 3]), hash);
    expect(secp256k1.verify(sig.compact, hash, X.toBytes(), { prehash: false })).toBe(true);
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
