// Party identity keys and platform-signed session rosters of the secure channel
// (ARCHITECTURE.md §5, docs/channel.md).
import { inspect } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import type { ChannelError, ChannelErrorCode, Roster, RosterParty } from '../src/channel/index.js';
import {
  CRYPTO_FAILURE_MESSAGE,
  PartyIdentity,
  VerifiedRoster,
  decodeRoster,
  decodeSignedRoster,
  encodeRoster,
  isChannelError,
  signRoster,
  verifyRoster,
} from '../src/channel/index.js';

const NOW = 1_750_000_000_000;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function refused(fn: () => unknown, code: ChannelErrorCode): ChannelError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isChannelError(error), String(error)).toBe(true);
  expect((error as ChannelError).code).toBe(code);
  return error as ChannelError;
}

function fixture(count = 3) {
  const platformSecretKey = ed25519.utils.randomSecretKey();
  const platformKey = ed25519.getPublicKey(platformSecretKey);
  const identities = Array.from({ length: count }, () => PartyIdentity.generate());
  const roster: Roster = {
    sessionId: randomBytes(32),
    shareSetId: 'share-set-1',
    purpose: 'KEYGEN',
    expiresAt: NOW + 60_000,
    parties: identities.map((id, i) => ({
      index: i + 1,
      cosignerId: `cosigner-${i + 1}`,
      ...id.publicKeys(),
    })),
  };
  const me = (identities[1] as PartyIdentity).publicKeys();
  return { platformSecretKey, platformKey, identities, roster, me };
}

function withParties(roster: Roster, f: (p: RosterParty[]) => RosterParty[]): Roster {
  return { ...roster, parties: f([...roster.parties]) };
}

describe('party identity', () => {
  // RFC 8032 §7.1, TEST 1 (empty message).
  it('matches the RFC 8032 Ed25519 test vector', () => {
    const identity = PartyIdentity.fromSecretKeys({
      identitySecretKey: hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
      agreementSecretKey: new Uint8Array(32).fill(7),
    });
    expect(toHex(identity.publicKeys().identityKey)).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    expect(toHex(identity.sign(new Uint8Array(0)))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  // RFC 7748 §6.1 (Alice and Bob).
  it('matches the RFC 7748 X25519 test vector', () => {
    const filler = new Uint8Array(32).fill(1);
    const alice = PartyIdentity.fromSecretKeys({
      identitySecretKey: filler,
      agreementSecretKey: hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
    });
    const bob = PartyIdentity.fromSecretKeys({
      identitySecretKey: filler,
      agreementSecretKey: hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
    });
    expect(toHex(alice.publicKeys().agreementKey)).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(toHex(bob.publicKeys().agreementKey)).toBe(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    );
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(alice.agree(bob.publicKeys().agreementKey))).toBe(shared);
    expect(toHex(bob.agree(alice.publicKeys().agreementKey))).toBe(shared);
  });

  it('round-trips raw 32-byte secret keys, copying them in and out', () => {
    const a = PartyIdentity.generate();
    const secrets = a.exportSecretKeys();
    expect(secrets.identitySecretKey).toHaveLength(32);
    expect(secrets.agreementSecretKey).toHaveLength(32);
    const b = PartyIdentity.fromSecretKeys(secrets);
    expect(b.publicKeys()).toEqual(a.publicKeys());
    secrets.identitySecretKey.fill(0);
    secrets.agreementSecretKey.fill(0);
    expect(b.publicKeys()).toEqual(a.publicKeys());
    const message = randomBytes(16);
    expect(ed25519.verify(b.sign(message), message, a.publicKeys().identityKey)).toBe(true);
  });

  it('keeps secret keys out of JSON and inspect output', () => {
    const a = PartyIdentity.generate();
    const { identitySecretKey, agreementSecretKey } = a.exportSecretKeys();
    for (const text of [JSON.stringify(a), inspect(a, { showHidden: true, depth: 5 })]) {
      expect(text).not.toContain(toHex(identitySecretKey));
      expect(text).not.toContain(toHex(agreementSecretKey));
      expect(text).not.toContain(
        String(identitySecretKey[0]) + ', ' + String(identitySecretKey[1]),
      );
    }
  });

  it('is unusable after dispose, and dispose is idempotent', () => {
    const a = PartyIdentity.generate();
    a.dispose();
    a.dispose();
    expect(a.disposed).toBe(true);
    refused(() => a.sign(new Uint8Array(1)), 'ERR_CHANNEL_DISPOSED');
    refused(() => a.exportSecretKeys(), 'ERR_CHANNEL_DISPOSED');
    refused(() => a.publicKeys(), 'ERR_CHANNEL_DISPOSED');
    refused(() => a.agree(new Uint8Array(32).fill(9)), 'ERR_CHANNEL_DISPOSED');
  });

  it('refuses secret keys of the wrong size or type and low-order peer keys', () => {
    const ok = new Uint8Array(32).fill(3);
    for (const bad of [new Uint8Array(31), new Uint8Array(33), 'x'.repeat(32), undefined])
      for (const keys of [
        { identitySecretKey: bad, agreementSecretKey: ok },
        { identitySecretKey: ok, agreementSecretKey: bad },
      ])
        refused(() => PartyIdentity.fromSecretKeys(keys as never), 'ERR_CHANNEL_INVALID_ARGUMENT');
    const a = PartyIdentity.generate();
    refused(() => a.agree(new Uint8Array(32)), 'ERR_CHANNEL_INVALID_ARGUMENT');
    refused(() => a.agree(new Uint8Array(31)), 'ERR_CHANNEL_INVALID_ARGUMENT');
  });
});

describe('roster encoding', () => {
  it('round-trips, sorting parties by index, and starts with its domain tag', () => {
    const { roster } = fixture(4);
    const shuffled = withParties(roster, (p) => p.reverse());
    const bytes = encodeRoster(shuffled);
    expect(bytes).toEqual(encodeRoster(roster));
    expect(Buffer.from(bytes.subarray(1, 22)).toString()).toBe('countersign/roster/v1');
    expect(decodeRoster(bytes)).toEqual(roster);
  });

  it('refuses to encode out-of-range fields and duplicate indices', () => {
    const { roster } = fixture();
    const first = roster.parties[0] as RosterParty;
    const cases: Roster[] = [
      { ...roster, sessionId: randomBytes(15) },
      { ...roster, sessionId: randomBytes(65) },
      { ...roster, shareSetId: '' },
      { ...roster, shareSetId: 'has space' },
      { ...roster, purpose: 'DKG' as never },
      { ...roster, expiresAt: -1 },
      { ...roster, expiresAt: 1.5 },
      withParties(roster, (p) => p.slice(0, 1)),
      withParties(roster, (p) => [...p, { ...first }]),
      withParties(roster, (p) => [...p, { ...first, index: 0 }]),
      withParties(roster, (p) => [...p, { ...first, index: 65536 }]),
      withParties(roster, (p) => [{ ...first, identityKey: new Uint8Array(31) }, ...p.slice(1)]),
      withParties(roster, (p) => [{ ...first, cosignerId: 'é' }, ...p.slice(1)]),
    ];
    for (const bad of cases) refused(() => encodeRoster(bad), 'ERR_CHANNEL_INVALID_ARGUMENT');
  });

  it('decodes strictly: non-ascending indices, trailing bytes, bad tag are malformed', () => {
    const { roster } = fixture();
    const bytes = encodeRoster(roster);
    // Swap the index fields of parties 1 and 2 (u16 at the start of each 69-byte+ entry).
    const partyStart = bytes.length - 3 * (2 + 1 + 'cosigner-1'.length + 64);
    const swapped = bytes.slice();
    swapped[partyStart + 1] = 2;
    const second = partyStart + 2 + 1 + 'cosigner-1'.length + 64;
    swapped[second + 1] = 1;
    refused(() => decodeRoster(swapped), 'ERR_CHANNEL_MALFORMED');
    const duplicate = bytes.slice();
    duplicate[second + 1] = 1;
    refused(() => decodeRoster(duplicate), 'ERR_CHANNEL_MALFORMED');
    refused(() => decodeRoster(Uint8Array.of(...bytes, 0)), 'ERR_CHANNEL_MALFORMED');
    const tag = bytes.slice();
    tag[1] = 0x43;
    refused(() => decodeRoster(tag), 'ERR_CHANNEL_MALFORMED');
    refused(() => decodeSignedRoster(bytes), 'ERR_CHANNEL_MALFORMED');
  });
});

describe('roster verification', () => {
  it('accepts a roster signed by the pinned platform key that lists me once', () => {
    const { platformSecretKey, platformKey, roster, me } = fixture();
    const signed = signRoster(roster, platformSecretKey);
    const v = verifyRoster(signed, {
      platformKey,
      me,
      now: NOW,
      expected: { sessionId: roster.sessionId, shareSetId: 'share-set-1', purpose: 'KEYGEN' },
    });
    expect(v).toBeInstanceOf(VerifiedRoster);
    expect(v.myIndex).toBe(2);
    expect(v.indices).toEqual([1, 2, 3]);
    expect(v.sessionId).toEqual(roster.sessionId);
    expect(v.parties).toEqual(roster.parties);
    expect(v.party(3)).toEqual(roster.parties[2]);
    expect(v.party(4)).toBeUndefined();
    expect(v.digest).toHaveLength(32);
    // Accessors hand out copies: mutating them changes nothing.
    v.sessionId.fill(0);
    (v.party(1) as RosterParty).identityKey.fill(0);
    expect(v.sessionId).toEqual(roster.sessionId);
    expect(v.party(1)).toEqual(roster.parties[0]);
    // Non-contiguous indices (a reshare's new member) are fine.
    const sparse = withParties(roster, (p) =>
      p.map((x, i) => ({ ...x, index: [1, 2, 7][i] ?? 0 })),
    );
    expect(
      verifyRoster(signRoster(sparse, platformSecretKey), { platformKey, me, now: NOW }).indices,
    ).toEqual([1, 2, 7]);
  });

  it('refuses a roster signed by a key other than the pinned platform key', () => {
    const { platformKey, roster, me, identities } = fixture();
    const other = ed25519.utils.randomSecretKey();
    const e = refused(
      () => verifyRoster(signRoster(roster, other), { platformKey, me, now: NOW }),
      'ERR_CHANNEL_ROSTER_SIGNATURE_INVALID',
    );
    expect(e.message).toBe(CRYPTO_FAILURE_MESSAGE);
    expect(e.cause).toBeUndefined();
    // A party's own identity key is no platform key either.
    const party = identities[0] as PartyIdentity;
    const forged = encodeRoster(roster);
    refused(
      () =>
        verifyRoster(Uint8Array.of(...forged, ...party.sign(forged)), {
          platformKey,
          me,
          now: NOW,
        }),
      'ERR_CHANNEL_ROSTER_SIGNATURE_INVALID',
    );
  });

  it('refuses a roster altered after signing, whatever byte changed', () => {
    const { platformSecretKey, platformKey, roster, me } = fixture();
    const signed = signRoster(roster, platformSecretKey);
    const codes = new Set<string>();
    for (let i = 0; i < signed.length; i++) {
      const t = signed.slice();
      t[i] = (t[i] ?? 0) ^ 0x04;
      let error: unknown;
      try {
        verifyRoster(t, { platformKey, me, now: NOW });
      } catch (e) {
        error = e;
      }
      expect(isChannelError(error), `byte ${i}`).toBe(true);
      codes.add((error as ChannelError).code);
    }
    expect([...codes].sort()).toEqual([
      'ERR_CHANNEL_MALFORMED',
      'ERR_CHANNEL_ROSTER_SIGNATURE_INVALID',
    ]);
  });

  it('refuses an expired roster, from its expiry instant on', () => {
    const { platformSecretKey, platformKey, roster, me } = fixture();
    const signed = signRoster(roster, platformSecretKey);
    for (const now of [roster.expiresAt, roster.expiresAt + 1])
      refused(() => verifyRoster(signed, { platformKey, me, now }), 'ERR_CHANNEL_ROSTER_EXPIRED');
    expect(verifyRoster(signed, { platformKey, me, now: roster.expiresAt - 1 }).myIndex).toBe(2);
  });

  it('refuses duplicate keys', () => {
    const { platformSecretKey, platformKey, roster, me } = fixture();
    const [a, b, c] = roster.parties as [RosterParty, RosterParty, RosterParty];
    for (const parties of [
      [a, b, { ...c, identityKey: a.identityKey }],
      [a, b, { ...c, agreementKey: a.agreementKey }],
      [a, b, { ...c, identityKey: b.identityKey, agreementKey: b.agreementKey }],
    ])
      refused(
        () =>
          verifyRoster(signRoster({ ...roster, parties }, platformSecretKey), {
            platformKey,
            me,
            now: NOW,
          }),
        'ERR_CHANNEL_ROSTER_INVALID',
      );
  });

  it('refuses invalid and small-order public keys', () => {
    const { platformSecretKey, platformKey, roster, me } = fixture();
    const [a, b, c] = roster.parties as [RosterParty, RosterParty, RosterParty];
    const identityPoint = new Uint8Array(32);
    identityPoint[0] = 1; // the Ed25519 neutral element
    const notOnCurve = hex('0200000000000000000000000000000000000000000000000000000000000000');
    for (const parties of [
      [a, b, { ...c, identityKey: identityPoint }],
      [a, b, { ...c, identityKey: notOnCurve }],
      [a, b, { ...c, agreementKey: new Uint8Array(32) }],
      [a, b, { ...c, agreementKey: identityPoint }],
    ])
      refused(
        () =>
          verifyRoster(signRoster({ ...roster, parties }, platformSecretKey), {
            platformKey,
            me,
            now: NOW,
          }),
        'ERR_CHANNEL_ROSTER_INVALID',
      );
    refused(
      () =>
        verifyRoster(signRoster(roster, platformSecretKey), {
          platformKey: identityPoint,
          me,
          now: NOW,
        }),
      'ERR_CHANNEL_INVALID_ARGUMENT',
    );
  });

  it('refuses a roster that does not list me, or lists my identity with another agreement key', () => {
    const { platformSecretKey, platformKey, roster, me } = fixture();
    const outsider = PartyIdentity.generate().publicKeys();
    const signed = signRoster(roster, platformSecretKey);
    refused(
      () => verifyRoster(signed, { platformKey, me: outsider, now: NOW }),
      'ERR_CHANNEL_NOT_IN_ROSTER',
    );
    refused(
      () =>
        verifyRoster(signed, {
          platformKey,
          me: { identityKey: me.identityKey, agreementKey: outsider.agreementKey },
          now: NOW,
        }),
      'ERR_CHANNEL_NOT_IN_ROSTER',
    );
  });

  it('refuses a roster for another job than expected', () => {
    const { platformSecretKey, platformKey, roster, me } = fixture();
    const signed = signRoster(roster, platformSecretKey);
    for (const expected of [
      { sessionId: randomBytes(32) },
      { shareSetId: 'share-set-2' },
      { purpose: 'SIGN' as const },
    ])
      refused(
        () => verifyRoster(signed, { platformKey, me, now: NOW, expected }),
        'ERR_CHANNEL_ROSTER_MISMATCH',
      );
  });

  it('cannot be bypassed by constructing a VerifiedRoster directly', () => {
    const { roster } = fixture();
    const Ctor = VerifiedRoster as unknown as new (...args: unknown[]) => VerifiedRoster;
    refused(
      () => new Ctor(Symbol('verified roster'), roster, 1, new Uint8Array(32)),
      'ERR_CHANNEL_INVALID_ARGUMENT',
    );
  });
});
