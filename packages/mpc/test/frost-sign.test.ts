// DKG and signing end to end: Ed25519 signatures verify with node:crypto and @noble/curves,
// BIP340 ones with schnorr.verify; 3-of-3 and 2-of-3; derived keys; Taproot key-path tweak.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import { derivePublicKey, sign, type KeyShare } from '../src/index.js';
import { runDkg, runSessions, sid } from './helpers.js';

function nodeVerifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return nodeVerify(null, message, key, signature);
}

function runSign(
  shares: Map<number, KeyShare>,
  signers: number[],
  message: Uint8Array,
  extra: { path?: string; taprootMerkleRoot?: Uint8Array } = {},
) {
  const sessions = new Map(
    signers.map((me) => [
      me,
      sign({
        sid: sid(`sign ${signers.join(',')}`),
        keyShare: shares.get(me)!,
        signers,
        message,
        ...extra,
      }),
    ]),
  );
  const out = runSessions(sessions);
  expect(out.errors.size).toBe(0);
  expect(out.results.size).toBe(signers.length);
  const first = out.results.get(signers[0]!)!;
  for (const r of out.results.values()) expect(r).toEqual(first); // every signer ends with the same signature
  return first;
}

const message = new TextEncoder().encode('countersign: transfer 1 BTC');

describe('FROST Ed25519', () => {
  for (const [t, signerSets] of [
    [3, [[1, 2, 3]]],
    [
      2,
      [
        [1, 2],
        [1, 3],
        [2, 3],
        [1, 2, 3],
      ],
    ],
  ] as const) {
    it(`${t}-of-3 DKG, every signing set signs; RFC 8032 verifiers accept`, () => {
      const shares = runDkg('ed25519', [1, 2, 3], t);
      const root = shares.get(1)!;
      for (const s of shares.values()) {
        expect(s.publicKey).toEqual(root.publicKey);
        expect(s.chainCode).toEqual(root.chainCode);
        expect(s.verificationShares).toEqual(root.verificationShares);
      }
      for (const signers of signerSets) {
        const { signature, publicKey } = runSign(shares, [...signers], message);
        expect(publicKey).toEqual(root.publicKey);
        expect(signature.length).toBe(64);
        expect(ed25519.verify(signature, message, publicKey, { zip215: false })).toBe(true);
        expect(nodeVerifyEd25519(publicKey, message, signature)).toBe(true);
        expect(nodeVerifyEd25519(publicKey, new TextEncoder().encode('other'), signature)).toBe(
          false,
        );
      }
    });
  }

  it('signs under a derived key (m/44/501/0/0/7); node:crypto verifies against derivePublicKey', () => {
    const shares = runDkg('ed25519', [1, 2, 3], 3);
    const path = 'm/44/501/0/0/7';
    const { signature, publicKey } = runSign(shares, [1, 2, 3], message, { path });
    expect(publicKey).toEqual(derivePublicKey(shares.get(1)!, path).publicKey);
    expect(publicKey).not.toEqual(shares.get(1)!.publicKey);
    expect(nodeVerifyEd25519(publicKey, message, signature)).toBe(true);
    expect(ed25519.verify(signature, message, publicKey, { zip215: false })).toBe(true);
  });
});

describe('FROST secp256k1 BIP340', () => {
  const msg32 = Uint8Array.from({ length: 32 }, (_, i) => i);
  for (const [t, signers] of [
    [3, [1, 2, 3]],
    [2, [2, 3]],
  ] as const) {
    it(`${t}-of-3: signatures verify with schnorr.verify against the x-only key`, () => {
      const shares = runDkg('secp256k1', [1, 2, 3], t);
      const root = shares.get(1)!;
      const { signature, publicKey } = runSign(shares, [...signers], msg32);
      expect(publicKey).toEqual(root.publicKey.subarray(1));
      expect(schnorr.verify(signature, msg32, publicKey)).toBe(true);
      expect(
        schnorr.verify(
          signature,
          msg32.map((b) => b ^ 1),
          publicKey,
        ),
      ).toBe(false);
    });
  }

  it('handles odd-Y and even-Y derived keys (BIP340 even-Y negation)', () => {
    const shares = runDkg('secp256k1', [1, 2, 3], 2);
    const byParity = new Map<number, string>();
    for (let i = 0; byParity.size < 2 && i < 64; i++) {
      const path = `m/44/0/0/0/${i}`;
      const prefix = derivePublicKey(shares.get(1)!, path).publicKey[0]!;
      if (!byParity.has(prefix)) byParity.set(prefix, path);
    }
    expect([...byParity.keys()].sort()).toEqual([2, 3]);
    for (const path of byParity.values()) {
      const derived = derivePublicKey(shares.get(1)!, path).publicKey;
      const { signature, publicKey } = runSign(shares, [1, 3], msg32, { path });
      expect(publicKey).toEqual(derived.subarray(1));
      expect(schnorr.verify(signature, msg32, publicKey)).toBe(true);
    }
  });

  it('BIP86 key-path spend: signature verifies under the TapTweak-ed output key', () => {
    const shares = runDkg('secp256k1', [1, 2, 3], 3);
    const path = 'm/86/0/0/0/1';
    const { signature, publicKey } = runSign(shares, [1, 2, 3], msg32, {
      path,
      taprootMerkleRoot: new Uint8Array(0),
    });
    // Output key Q = lift_x(P) + H_TapTweak(x(P))·G, computed independently.
    const P = derivePublicKey(shares.get(1)!, path).publicKey;
    const internal = schnorr.utils.lift_x(bytesToNumberBE(P.subarray(1)));
    const t = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', P.subarray(1)));
    const Q = internal.add(secp256k1.Point.BASE.multiply(t));
    expect(publicKey).toEqual(schnorr.utils.pointToBytes(Q));
    expect(schnorr.verify(signature, msg32, publicKey)).toBe(true);
  });

  it('RFC 9591 secp256k1 ciphersuite also signs (65-byte signature)', () => {
    const shares = runDkg('secp256k1', [1, 2, 3], 2);
    const sessions = new Map(
      [1, 2].map((me) => [
        me,
        sign({
          sid: sid('rfc'),
          keyShare: shares.get(me)!,
          signers: [1, 2],
          message,
          ciphersuite: 'secp256k1-rfc9591',
        }),
      ]),
    );
    const out = runSessions(sessions);
    const { signature, publicKey } = out.results.get(1)!;
    expect(signature.length).toBe(65);
    expect(secp256k1_FROST.verify(signature, message, publicKey)).toBe(true);
  });
});
