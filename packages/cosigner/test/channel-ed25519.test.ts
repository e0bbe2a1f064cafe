// Ed25519 through node:crypto (src/channel/ed25519-strict.ts) against RFC 8032 and against noble's
// strict verification (`zip215: false`), which it replaced on the channel's hot path: the same
// signatures, and nothing verifies that noble strict refuses.
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertIdentityKey, PartyIdentity } from '../src/channel/index.js';
import { verifyEd25519Strict } from '../src/channel/ed25519-strict.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const nobleStrict = (sig: Uint8Array, msg: Uint8Array, key: Uint8Array): boolean => {
  try {
    return ed25519.verify(sig, msg, key, { zip215: false });
  } catch {
    return false;
  }
};

/** 32-byte little-endian encoding of `n` (RFC 8032 §5.1.2 integers). */
function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}
function fromLe(bytes: Uint8Array): bigint {
  return bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
}
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
const RFC8032_VECTORS = [
  {
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

function identityOf(seed: Uint8Array): PartyIdentity {
  return PartyIdentity.fromSecretKeys({
    identitySecretKey: seed,
    agreementSecretKey: new Uint8Array(32).fill(7),
  });
}

describe('Ed25519 through node:crypto', () => {
  it('signs and verifies the RFC 8032 §7.1 vectors', () => {
    for (const v of RFC8032_VECTORS) {
      const identity = identityOf(hex(v.secretKey));
      expect(Buffer.from(identity.publicKeys().identityKey).toString('hex')).toBe(v.publicKey);
      expect(Buffer.from(identity.sign(hex(v.message))).toString('hex')).toBe(v.signature);
      expect(verifyEd25519Strict(hex(v.signature), hex(v.message), hex(v.publicKey))).toBe(true);
      identity.dispose();
    }
  });

  it('makes the signatures noble makes, and verifies what noble strict verifies', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        (seed, message) => {
          const identity = identityOf(seed);
          const signature = identity.sign(message);
          const key = identity.publicKeys().identityKey;
          identity.dispose();
          expect(signature).toEqual(ed25519.sign(message, seed));
          expect(verifyEd25519Strict(signature, message, key)).toBe(true);
          expect(nobleStrict(signature, message, key)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('accepts an altered signature, message or key only where noble strict does (never, here)', () => {
    const seed = new Uint8Array(32).fill(3);
    const message = new TextEncoder().encode('countersign channel message');
    const key = ed25519.getPublicKey(seed);
    const signature = ed25519.sign(message, seed);
    let altered = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('signature', 'message', 'key'),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (part, at, bit) => {
          const s = signature.slice();
          const m = message.slice();
          const k = key.slice();
          const target = part === 'signature' ? s : part === 'message' ? m : k;
          target[at % target.length]! ^= 1 << bit;
          const ours = verifyEd25519Strict(s, m, k);
          expect(ours && !nobleStrict(s, m, k)).toBe(false);
          expect(ours).toBe(false);
          altered += 1;
        },
      ),
      { numRuns: 300 },
    );
    expect(altered).toBe(300);
  });

  it('refuses s ≥ L, which noble strict refuses too', () => {
    const seed = new Uint8Array(32).fill(9);
    const message = Uint8Array.of(1, 2, 3);
    const key = ed25519.getPublicKey(seed);
    const signature = ed25519.sign(message, seed);
    const s = fromLe(signature.subarray(32));
    for (const bad of [s + L, L]) {
      const forged = signature.slice();
      forged.set(le32(bad), 32);
      expect(verifyEd25519Strict(forged, message, key)).toBe(false);
      expect(nobleStrict(forged, message, key)).toBe(false);
    }
  });

  it('refuses a small-order public key, whose forgery a permissive verifier accepts', () => {
    // A = the neutral point, R = the neutral point, s = 0: [s]B − [k]A encodes as R for every
    // message, so the verification equation holds. ZIP-215 accepts it; so does the OpenSSL that
    // Node 20 bundles, while Node 24's refuses it: OpenSSL's answer depends on its version, which
    // is why the key check in front of it exists and is what this test holds to.
    const neutral = le32(1n);
    const forged = new Uint8Array(64);
    forged.set(neutral, 0);
    const message = new TextEncoder().encode('any message at all');
    expect(ed25519.verify(forged, message, neutral, { zip215: true })).toBe(true);
    expect(verifyEd25519Strict(forged, message, neutral)).toBe(false);
    expect(nobleStrict(forged, message, neutral)).toBe(false);
    expect(() => assertIdentityKey(neutral)).toThrow();
  });

  it('refuses a non-canonical public key encoding (y ≥ p) of a point of large order', () => {
    // y = 3 decodes to a point that is not of small order; y + p is its non-canonical encoding,
    // which ZIP-215 accepts and RFC 8032 strict decoding refuses.
    const nonCanonical = le32(3n + P);
    expect(ed25519.Point.fromBytes(nonCanonical, true).isSmallOrder()).toBe(false);
    expect(() => assertIdentityKey(nonCanonical)).toThrow();
    expect(verifyEd25519Strict(new Uint8Array(64), new Uint8Array(0), nonCanonical)).toBe(false);
  });

  it('refuses malformed inputs without throwing', () => {
    const key = ed25519.getPublicKey(new Uint8Array(32).fill(1));
    expect(verifyEd25519Strict(new Uint8Array(63), new Uint8Array(1), key)).toBe(false);
    expect(verifyEd25519Strict(new Uint8Array(64), new Uint8Array(1), key.subarray(1))).toBe(false);
    expect(verifyEd25519Strict(new Uint8Array(64), 'text' as unknown as Uint8Array, key)).toBe(
      false,
    );
  });
});
