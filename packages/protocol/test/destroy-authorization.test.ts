// The destroy authorization's canonical encoding (countersign/destroy-authorization/v1): it
// round-trips; every altered byte either fails to decode or decodes to other signed bytes (so
// the platform's signature no longer covers them); another domain tag — a reshare
// authorization's — is refused; trailing and missing bytes are refused; bad fields are refused
// at encoding. The signature itself is checked by the co-signer (cosigner destroy-job tests).
import { describe, expect, it } from 'vitest';
import {
  decodeSignedDestroyAuthorization,
  encodeDestroyAuthorization,
  encodeReshareAuthorization,
  type DestroyAuthorization,
} from '../src/index.js';

const authorization: DestroyAuthorization = {
  sessionId: new Uint8Array(32).fill(0xab),
  workspaceId: '00000000-0000-4000-8000-000000000001',
  apiKeyId: '00000000-0000-4000-8000-000000000002',
  cosignerId: '00000000-0000-4000-8000-000000000003',
  shareSetId: '00000000-0000-4000-8000-000000000004',
  algorithm: 'ECDSA_SECP256K1',
  reason: 'UNPAIRED_BY_OWNER',
  expiresAt: 1_800_000_000_000,
};
/** A stand-in signature: the decoder takes any 64 bytes, the co-signer verifies them. */
const signature = new Uint8Array(64).fill(7);
const signed = (a: DestroyAuthorization = authorization): Uint8Array =>
  Uint8Array.from([...encodeDestroyAuthorization(a), ...signature]);

describe('destroy authorization encoding', () => {
  it('round-trips, the signed bytes being exactly the encoding, which starts with the tag', () => {
    const bytes = encodeDestroyAuthorization(authorization);
    expect(Buffer.from(bytes.subarray(1, 1 + bytes[0]!)).toString()).toBe(
      'countersign/destroy-authorization/v1',
    );
    const decoded = decodeSignedDestroyAuthorization(signed());
    expect(decoded.authorization).toEqual(authorization);
    expect(decoded.signedBytes).toEqual(bytes);
    expect(decoded.signature).toEqual(signature);
    const other = decodeSignedDestroyAuthorization(
      signed({ ...authorization, algorithm: 'EDDSA_ED25519', reason: 'UNPAIRED_BY_COSIGNER' }),
    );
    expect(other.authorization).toMatchObject({
      algorithm: 'EDDSA_ED25519',
      reason: 'UNPAIRED_BY_COSIGNER',
    });
  });

  it('every altered byte of the signed part fails to decode or changes the signed bytes', () => {
    const bytes = signed();
    const signedLength = bytes.length - 64;
    let refused = 0;
    let changed = 0;
    for (let i = 0; i < signedLength; i++) {
      const altered = Uint8Array.from(bytes);
      altered[i]! ^= 0x01;
      let decoded;
      try {
        decoded = decodeSignedDestroyAuthorization(altered);
      } catch (error) {
        expect(error).toMatchObject({ code: 'ERR_DESTROY_AUTHORIZATION_MALFORMED' });
        refused++;
        continue;
      }
      expect(
        Buffer.from(decoded.signedBytes).equals(Buffer.from(bytes.subarray(0, signedLength))),
      ).toBe(false);
      changed++;
    }
    // Counted, so a decoder that silently accepted nothing (or everything) shows.
    expect(refused + changed).toBe(signedLength);
    expect(refused).toBeGreaterThan(0);
    expect(changed).toBeGreaterThan(0);
  });

  it('refuses another domain tag, trailing or missing bytes, and unknown reasons', () => {
    const reshare = encodeReshareAuthorization({
      sessionId: authorization.sessionId,
      algorithm: 'ECDSA_SECP256K1',
      oldShareSetId: 'old',
      newShareSetId: 'new',
      oldSignerId: 'a',
      newSignerId: 'b',
      newCosignerId: 'c',
      approvalRequestId: 'd',
      dealers: [1, 2, 3],
      receivers: [1, 2, 4],
      threshold: 3,
      oldShareSet: new Uint8Array([1]),
      expiresAt: authorization.expiresAt,
    });
    const malformed = { code: 'ERR_DESTROY_AUTHORIZATION_MALFORMED' };
    expect(() =>
      decodeSignedDestroyAuthorization(Uint8Array.from([...reshare, ...signature])),
    ).toThrow(expect.objectContaining(malformed));
    expect(() => decodeSignedDestroyAuthorization(Uint8Array.from([...signed(), 0]))).toThrow(
      expect.objectContaining(malformed),
    );
    expect(() => decodeSignedDestroyAuthorization(signed().subarray(0, -1))).toThrow(
      expect.objectContaining(malformed),
    );
    // A reason outside the enumeration, spliced in with a consistent length prefix.
    const bytes = Buffer.from(signed());
    const at = bytes.indexOf('UNPAIRED_BY_OWNER');
    const forged = Buffer.concat([
      bytes.subarray(0, at - 1),
      Buffer.from([17]),
      Buffer.from('REVOKED_BY_ADMINS'),
      bytes.subarray(at + 17),
    ]);
    expect(() => decodeSignedDestroyAuthorization(forged)).toThrow(/reason/);
  });

  it('refuses to encode bad fields', () => {
    const invalid = { code: 'ERR_DESTROY_AUTHORIZATION_INVALID_ARGUMENT' };
    const cases: Partial<Record<keyof DestroyAuthorization, unknown>>[] = [
      { sessionId: new Uint8Array(8) },
      { workspaceId: '' },
      { apiKeyId: 'has space' },
      { cosignerId: 'x'.repeat(129) },
      { shareSetId: 'ünïcode' },
      { algorithm: 'RSA' },
      { reason: 'BECAUSE' },
      { expiresAt: -1 },
      { expiresAt: 1.5 },
    ];
    for (const change of cases)
      expect(() =>
        encodeDestroyAuthorization({ ...authorization, ...change } as DestroyAuthorization),
      ).toThrow(expect.objectContaining(invalid));
  });
});
