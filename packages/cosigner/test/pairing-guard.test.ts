// The PAIR_API_KEY question a dealer's Callback Handler is asked (reshare review M2): its request
// id binds the payload — the same for both algorithms' reshares and every retry of one pairing,
// another for any other co-signer, identity key, API key or approval request — and the payload
// is schema-valid, with the fingerprint the Owner compared.
import {
  ConfigChangeSignRequestSchema,
  identityFingerprint,
  type ReshareAuthorization,
} from '@countersign/protocol';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import type { VerifiedRoster } from '../src/channel/roster.js';
import { pairApiKeyRequest } from '../src/daemon/pairing-guard.js';

const authorization = (over: Partial<ReshareAuthorization> = {}): ReshareAuthorization => ({
  sessionId: new Uint8Array(32).fill(1),
  algorithm: 'EDDSA_ED25519',
  oldShareSetId: 'share-set-old',
  newShareSetId: 'share-set-new',
  oldSignerId: '00000000-0000-4000-8000-00000000000a',
  newSignerId: '00000000-0000-4000-8000-00000000000b',
  newCosignerId: '00000000-0000-4000-8000-00000000000c',
  approvalRequestId: '00000000-0000-4000-8000-00000000000d',
  dealers: [1, 2, 3],
  receivers: [1, 2, 4],
  threshold: 3,
  oldShareSet: new Uint8Array(8),
  expiresAt: Date.now() + 60_000,
  ...over,
});

/** A roster whose party 4 (the new member) has `identityKey`. */
const roster = (identityKey: Uint8Array): VerifiedRoster =>
  ({
    party: (i: number) => (i === 4 ? { index: 4, cosignerId: 'x', identityKey } : undefined),
  }) as unknown as VerifiedRoster;

describe('the PAIR_API_KEY request', () => {
  const key = new Uint8Array(32).fill(9);

  it('names the pairing and the fingerprint the Owner compared, schema-valid', () => {
    const request = pairApiKeyRequest(authorization(), roster(key));
    expect(Value.Check(ConfigChangeSignRequestSchema, request)).toBe(true);
    expect(request).toMatchObject({
      signerId: '00000000-0000-4000-8000-00000000000a',
      type: 'PAIR_API_KEY',
      extraInfo: {
        approvalRequestId: '00000000-0000-4000-8000-00000000000d',
        apiKeyId: '00000000-0000-4000-8000-00000000000b',
        cosignerId: '00000000-0000-4000-8000-00000000000c',
        identityKey: '09'.repeat(32),
        identityFingerprint: identityFingerprint(key),
      },
    });
    expect(request.requestId).toMatch(
      /^pair:00000000-0000-4000-8000-00000000000d:00000000-0000-4000-8000-00000000000b:[0-9a-f]{32}$/,
    );
  });

  it('one request id per payload: the same across algorithms and sessions, another for any other co-signer or key', () => {
    const id = (over: Partial<ReshareAuthorization>, identityKey = key) =>
      pairApiKeyRequest(authorization(over), roster(identityKey)).requestId;
    const first = id({});
    expect(
      id({
        algorithm: 'ECDSA_SECP256K1',
        sessionId: new Uint8Array(32).fill(2),
        newShareSetId: 'another-new-set',
        oldShareSetId: 'another-old-set',
        expiresAt: Date.now() + 1,
      }),
    ).toBe(first);
    expect(id({ newCosignerId: '00000000-0000-4000-8000-0000000000ff' })).not.toBe(first);
    expect(id({}, new Uint8Array(32).fill(8))).not.toBe(first);
    expect(id({ newSignerId: '00000000-0000-4000-8000-0000000000fe' })).not.toBe(first);
    expect(id({ approvalRequestId: '00000000-0000-4000-8000-0000000000fd' })).not.toBe(first);
  });
});
