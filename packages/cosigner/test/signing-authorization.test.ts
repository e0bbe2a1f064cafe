// The signing authorization as a co-signer checks it: the canonical bytes the platform signs
// (countersign/signing-authorization/v2), verified against the pinned key and the job, with
// every altered byte, other key, other session, share set or algorithm, and expiry refused.
import {
  decodeSignedSigningAuthorization,
  encodeSigningAuthorization,
  type LeasedJob,
  type SigningAuthorization,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { verifySigningAuthorization } from '../src/daemon/signing-authorization.js';

const platformSecret = ed25519.utils.randomSecretKey();
const platformKey = ed25519.getPublicKey(platformSecret);
const sessionHex = 'ab'.repeat(32);
const now = 1_800_000_000_000;

const authorization: SigningAuthorization = {
  sessionId: Buffer.from(sessionHex, 'hex'),
  shareSetId: 'share-set-1',
  algorithm: 'EDDSA_ED25519',
  transactionId: '5f0c6f9e-4b8a-4f55-9a43-1d2f3e4a5b6c',
  messageIndex: 2,
  derivationPath: [44, 501, 7, 0, 3],
  content: Buffer.from('a message to sign'),
  expiresAt: now + 60_000,
};
const job = {
  sessionId: sessionHex,
  shareSetId: 'share-set-1',
  algorithm: 'EDDSA_ED25519',
} as LeasedJob;

const signed = (a: SigningAuthorization = authorization, key = platformSecret): string => {
  const bytes = encodeSigningAuthorization(a);
  return Buffer.concat([bytes, ed25519.sign(bytes, key)]).toString('base64');
};

describe('signing authorization', () => {
  it('round-trips and verifies what the platform signed', () => {
    const verified = verifySigningAuthorization(signed(), job, platformKey, now);
    const hex = (a: SigningAuthorization) => ({
      ...a,
      sessionId: Buffer.from(a.sessionId).toString('hex'),
      content: Buffer.from(a.content).toString('hex'),
    });
    expect(hex(verified)).toEqual(hex(authorization));
    const decoded = decodeSignedSigningAuthorization(Buffer.from(signed(), 'base64'));
    expect(decoded.signature).toHaveLength(64);
  });

  it('refuses any altered byte, another key, and a missing authorization', () => {
    const bytes = Buffer.from(signed(), 'base64');
    let refused = 0;
    for (let i = 0; i < bytes.length; i++) {
      const altered = Buffer.from(bytes);
      altered[i]! ^= 0x01;
      expect(() =>
        verifySigningAuthorization(altered.toString('base64'), job, platformKey, now),
      ).toThrow(/signing authorization/);
      refused++;
    }
    expect(refused).toBe(bytes.length);
    const other = ed25519.utils.randomSecretKey();
    expect(() =>
      verifySigningAuthorization(signed(authorization, other), job, platformKey, now),
    ).toThrow(/does not verify/);
    expect(() => verifySigningAuthorization(undefined, job, platformKey, now)).toThrow(/missing/);
  });

  it('refuses another session, share set or algorithm, and an expired one', () => {
    const cases: [Partial<LeasedJob>, RegExp][] = [
      [{ sessionId: 'cd'.repeat(32) }, /another session/],
      [{ shareSetId: 'share-set-2' }, /another share set/],
      [{ algorithm: 'ECDSA_SECP256K1' }, /another algorithm/],
    ];
    for (const [change, message] of cases)
      expect(() =>
        verifySigningAuthorization(signed(), { ...job, ...change }, platformKey, now),
      ).toThrow(message);
    expect(() =>
      verifySigningAuthorization(signed(), job, platformKey, authorization.expiresAt),
    ).toThrow(/expired/);
  });

  it('cannot encode a hardened index, or an ECDSA message that is not a 32-byte digest', () => {
    expect(() =>
      encodeSigningAuthorization({ ...authorization, derivationPath: [44, 0x80000000] }),
    ).toThrow(/derivationPath/);
    expect(() =>
      encodeSigningAuthorization({ ...authorization, algorithm: 'ECDSA_SECP256K1' }),
    ).toThrow(/content/);
    expect(() =>
      encodeSigningAuthorization({
        ...authorization,
        algorithm: 'ECDSA_SECP256K1',
        content: new Uint8Array(32),
      }),
    ).not.toThrow();
  });

  it('names a pooled presignature for ECDSA only; the name is signed like every other field', () => {
    const ecdsa: SigningAuthorization = {
      ...authorization,
      algorithm: 'ECDSA_SECP256K1',
      content: new Uint8Array(32).fill(7),
      presignSessionId: Buffer.from('cd'.repeat(32), 'hex'),
    };
    const ecdsaJob = { ...job, algorithm: 'ECDSA_SECP256K1' } as LeasedJob;
    const verified = verifySigningAuthorization(signed(ecdsa), ecdsaJob, platformKey, now);
    expect(Buffer.from(verified.presignSessionId!).toString('hex')).toBe('cd'.repeat(32));
    // Without one, the field is absent (presign in the session), not empty.
    const inline: SigningAuthorization = {
      ...authorization,
      algorithm: ecdsa.algorithm,
      content: ecdsa.content,
    };
    expect(
      verifySigningAuthorization(signed(inline), ecdsaJob, platformKey, now).presignSessionId,
    ).toBeUndefined();
    // Stripping or swapping the name breaks the platform's signature.
    const bytes = Buffer.from(signed(ecdsa), 'base64');
    const stripped = Buffer.concat([bytes.subarray(0, bytes.length - 64 - 33), Buffer.of(0)]);
    expect(() =>
      verifySigningAuthorization(
        Buffer.concat([stripped, bytes.subarray(bytes.length - 64)]).toString('base64'),
        ecdsaJob,
        platformKey,
        now,
      ),
    ).toThrow(/does not verify/);
    for (const presignSessionId of [new Uint8Array(15), new Uint8Array(65)])
      expect(() => encodeSigningAuthorization({ ...ecdsa, presignSessionId })).toThrow(
        /presignSessionId/,
      );
    // An EdDSA authorization names a pooled FROST nonce set the same way (decision 0006).
    const pooledEddsa: SigningAuthorization = {
      ...authorization,
      presignSessionId: Buffer.from('ef'.repeat(16), 'hex'),
    };
    expect(
      Buffer.from(
        verifySigningAuthorization(signed(pooledEddsa), job, platformKey, now).presignSessionId!,
      ).toString('hex'),
    ).toBe('ef'.repeat(16));
  });
});
