// The reshare authorization as a co-signer checks it (countersign/reshare-authorization/v1):
// what the platform signed round-trips; every altered byte, another key, another session, share
// set, algorithm or signer, an expired one, a roster that is not the dealers and receivers, a
// new member that is not the new signer's co-signer, two new members and a threshold below the
// receivers are refused. And the config_change_sign_request the old signer's co-signer asks.
import {
  encodeReshareAuthorization,
  encodeRoster,
  type LeasedJob,
  type ReshareAuthorization,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, describe, expect, it } from 'vitest';
import { PartyIdentity } from '../src/channel/identity.js';
import { verifyRoster, type VerifiedRoster } from '../src/channel/roster.js';
import { verifyReshareAuthorization } from '../src/daemon/reshare-authorization.js';

const platformSecret = ed25519.utils.randomSecretKey();
const platformKey = ed25519.getPublicKey(platformSecret);
const sessionHex = 'ab'.repeat(32);
const now = 1_800_000_000_000;
const identities = [1, 2, 3, 4].map(() => PartyIdentity.generate());
afterAll(() => identities.forEach((i) => i.dispose()));

const authorization: ReshareAuthorization = {
  sessionId: Buffer.from(sessionHex, 'hex'),
  algorithm: 'EDDSA_ED25519',
  oldShareSetId: 'share-set-old',
  newShareSetId: 'share-set-new',
  oldSignerId: '00000000-0000-4000-8000-00000000000a',
  newSignerId: '00000000-0000-4000-8000-00000000000b',
  newCosignerId: 'cosigner-4',
  approvalRequestId: '00000000-0000-4000-8000-00000000000c',
  dealers: [1, 2, 3],
  receivers: [1, 2, 4],
  threshold: 3,
  oldShareSet: new Uint8Array([1, 2, 3, 4]),
  expiresAt: now + 60_000,
};
const job = {
  sessionId: sessionHex,
  shareSetId: 'share-set-new',
  algorithm: 'EDDSA_ED25519',
  apiKeyId: authorization.newSignerId,
  threshold: 3,
} as LeasedJob;

const sign = (bytes: Uint8Array, key = platformSecret): string =>
  Buffer.concat([bytes, ed25519.sign(bytes, key)]).toString('base64');
const signed = (a: ReshareAuthorization = authorization, key = platformSecret): string =>
  sign(encodeReshareAuthorization(a), key);

/** The roster of the session as party `me` (0-based) verifies it; `indices` per identity. */
function rosterFor(me = 0, indices = [1, 2, 3, 4], purpose = 'RESHARE' as const): VerifiedRoster {
  const bytes = encodeRoster({
    sessionId: Buffer.from(sessionHex, 'hex'),
    shareSetId: 'share-set-new',
    purpose,
    expiresAt: now + 60_000,
    parties: indices.map((index, k) => ({
      index,
      cosignerId: `cosigner-${index}`,
      ...identities[k]!.publicKeys(),
    })),
  });
  return verifyRoster(Buffer.from(sign(bytes), 'base64'), {
    platformKey,
    me: identities[me]!.publicKeys(),
    now,
    expected: { sessionId: Buffer.from(sessionHex, 'hex'), shareSetId: 'share-set-new', purpose },
  });
}

describe('reshare authorization', () => {
  it('round-trips and verifies what the platform signed', () => {
    const verified = verifyReshareAuthorization(signed(), job, rosterFor(), platformKey, now);
    expect({ ...verified, sessionId: Buffer.from(verified.sessionId).toString('hex') }).toEqual({
      ...authorization,
      sessionId: sessionHex,
      oldShareSet: new Uint8Array([1, 2, 3, 4]),
    });
  });

  it('refuses any altered byte, another key, and a missing authorization', () => {
    const bytes = Buffer.from(signed(), 'base64');
    const roster = rosterFor();
    for (let i = 0; i < bytes.length; i++) {
      const altered = Buffer.from(bytes);
      altered[i]! ^= 0x01;
      expect(() =>
        verifyReshareAuthorization(altered.toString('base64'), job, roster, platformKey, now),
      ).toThrow(/reshare authorization/);
    }
    const other = ed25519.utils.randomSecretKey();
    expect(() =>
      verifyReshareAuthorization(signed(authorization, other), job, roster, platformKey, now),
    ).toThrow(/does not verify/);
    expect(() => verifyReshareAuthorization(undefined, job, roster, platformKey, now)).toThrow(
      /missing/,
    );
  });

  it('refuses another session, share set, algorithm or signer, an expired one, and a roster that does not match', () => {
    const roster = rosterFor();
    const jobCases: [Partial<LeasedJob>, RegExp][] = [
      [{ sessionId: 'cd'.repeat(32) }, /another session/],
      [{ shareSetId: 'share-set-2' }, /another share set/],
      [{ algorithm: 'ECDSA_SECP256K1' }, /another algorithm/],
      [{ apiKeyId: authorization.oldSignerId }, /another signer/],
      [{ threshold: 4 }, /threshold/],
    ];
    for (const [change, message] of jobCases)
      expect(() =>
        verifyReshareAuthorization(signed(), { ...job, ...change }, roster, platformKey, now),
      ).toThrow(message);
    expect(() =>
      verifyReshareAuthorization(signed(), job, roster, platformKey, authorization.expiresAt),
    ).toThrow(/expired/);
    const cases: [Partial<ReshareAuthorization>, RegExp][] = [
      [{ receivers: [1, 2, 5] }, /not the dealers and receivers/],
      [{ newCosignerId: 'cosigner-3' }, /new signer's co-signer/],
      [{ dealers: [1, 2], receivers: [1, 2, 3, 4], threshold: 4 }, /exactly one receiver/],
      [{ threshold: 2 }, /threshold/],
    ];
    for (const [change, message] of cases)
      expect(() =>
        verifyReshareAuthorization(
          signed({ ...authorization, ...change }),
          job,
          roster,
          platformKey,
          now,
        ),
      ).toThrow(message);
  });
});
