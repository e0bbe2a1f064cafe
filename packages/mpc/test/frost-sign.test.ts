// DKG and signing end to end: Ed25519 signatures verify with node:crypto and @noble/curves,
// BIP340 ones with schnorr.verify; 3-of-3 and 2-of-3; derived keys; Taproot key-path tweak.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import { derivePublicKey, resumeSession, sign, type KeyShare } from '../src/index.js';
import { signForTesting } from '../src/test-hooks.js';
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

  // A deterministic key (seeded DKG), so that each parity case is pinned instead of left to the
  // luck of a random key. The paths were chosen for their parities; the test asserts them, so a
  // change of the DKG's derivation of the key fails here loudly rather than dropping a case.
  const pinned = runDkg('secp256k1', [1, 2, 3], 3, 'pinned-bip340', 'pinned-bip340');
  const pinnedRoot = pinned.get(1)!;
  const EVEN_Y_PATH = 'm/44/0/0/0/1';
  const ODD_Y_PATH = 'm/44/0/0/0/0';
  /** [path, prefix of the internal key P, prefix of the BIP86 output key Q]. */
  const BIP86_CASES = [
    ['m/86/0/0/0/2', 0x02, 0x02],
    ['m/86/0/0/0/8', 0x02, 0x03],
    ['m/86/0/0/0/1', 0x03, 0x02],
    ['m/86/0/0/0/0', 0x03, 0x03],
  ] as const;
  const internalKey = (path: string) => derivePublicKey(pinnedRoot, path).publicKey;
  /** Q = lift_x(P) + H_TapTweak(x(P) ‖ root)·G, computed independently of the library. */
  const outputKey = (P: Uint8Array, merkleRoot: Uint8Array) => {
    const internal = schnorr.utils.lift_x(bytesToNumberBE(P.subarray(1)));
    const t = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', P.subarray(1), merkleRoot));
    return internal.add(secp256k1.Point.BASE.multiply(t));
  };

  it('the seeded DKG is deterministic (pins the key the parity cases rely on)', () => {
    expect(Buffer.from(pinnedRoot.publicKey).toString('hex')).toBe(
      '02c227b4339558f1e8b31d9578ada5dee96af84501b9062388b524feb4685bdcb4',
    );
  });

  it('BIP340 with an even-Y and an odd-Y derived key (even-Y negation)', () => {
    for (const [path, prefix] of [
      [EVEN_Y_PATH, 0x02],
      [ODD_Y_PATH, 0x03],
    ] as const) {
      const derived = internalKey(path);
      expect(derived[0]).toBe(prefix);
      const { signature, publicKey } = runSign(pinned, [1, 2, 3], msg32, { path });
      expect(publicKey).toEqual(derived.subarray(1));
      expect(schnorr.verify(signature, msg32, publicKey)).toBe(true);
    }
  });

  it('BIP86 key-path spends: internal key even/odd Y × output key even/odd Y', () => {
    const merkleRoot = new Uint8Array(0);
    for (const [path, internalPrefix, outputPrefix] of BIP86_CASES) {
      const P = internalKey(path);
      expect(P[0]).toBe(internalPrefix);
      const Q = outputKey(P, merkleRoot);
      expect(Q.toBytes()[0]).toBe(outputPrefix);
      const { signature, publicKey } = runSign(pinned, [1, 2, 3], msg32, {
        path,
        taprootMerkleRoot: merkleRoot,
      });
      expect(publicKey).toEqual(schnorr.utils.pointToBytes(Q));
      expect(schnorr.verify(signature, msg32, publicKey)).toBe(true);
    }
  });

  it('Taproot script-tree root (32 bytes): the signature verifies under the output key', () => {
    const merkleRoot = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const { signature, publicKey } = runSign(pinned, [1, 2, 3], msg32, {
      path: ODD_Y_PATH,
      taprootMerkleRoot: merkleRoot,
    });
    expect(publicKey).toEqual(
      schnorr.utils.pointToBytes(outputKey(internalKey(ODD_Y_PATH), merkleRoot)),
    );
    expect(schnorr.verify(signature, msg32, publicKey)).toBe(true);
  });

  it('the RFC 9591 secp256k1 ciphersuite is refused for production keys, test path only', () => {
    const shares = runDkg('secp256k1', [1, 2, 3], 2);
    expect(() =>
      sign({
        sid: sid('rfc'),
        keyShare: shares.get(1)!,
        signers: [1, 2],
        message,
        // A JavaScript caller can still pass it; the type no longer allows it.
        ciphersuite: 'secp256k1-rfc9591' as 'secp256k1-bip340',
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
    const sessions = new Map(
      [1, 2].map((me) => [
        me,
        signForTesting(
          {
            sid: sid('rfc'),
            keyShare: shares.get(me)!,
            signers: [1, 2],
            message,
            ciphersuite: 'secp256k1-rfc9591',
          },
          { allowTestVectorCiphersuite: true },
        ),
      ]),
    );
    const out = runSessions(sessions);
    const { signature, publicKey } = out.results.get(1)!;
    expect(signature.length).toBe(65);
    expect(secp256k1_FROST.verify(signature, message, publicKey)).toBe(true);
    // A persisted session of that ciphersuite does not restore either.
    expect(() => resumeSession(sessions.get(1)!.toBytes())).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
  });
});
