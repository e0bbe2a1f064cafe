// Property tests of every decoder of the secure channel: random bytes and mutations of valid
// encodings give a typed ChannelError or a value, never another exception, and never a message
// accepted from altered bytes.
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Roster } from '../src/channel/index.js';
import {
  PartyIdentity,
  SecureChannel,
  decodeRoster,
  decodeSealedMessage,
  decodeSignedRoster,
  encodeRoster,
  isChannelError,
  routingHeaderOf,
  signRoster,
  verifyRoster,
} from '../src/channel/index.js';

const NOW = 1_750_000_000_000;
const PROTOCOL = 'frost-secp256k1/dkg/v1';
const RUNS = 300;

const platformSecretKey = ed25519.utils.randomSecretKey();
const platformKey = ed25519.getPublicKey(platformSecretKey);
const identities = [1, 2, 3].map(() => PartyIdentity.generate());
const sessionId = randomBytes(24);
const roster: Roster = {
  sessionId,
  shareSetId: 'share-set-9',
  purpose: 'RESHARE',
  expiresAt: NOW + 60_000,
  parties: identities.map((id, i) => ({
    index: i + 1,
    cosignerId: `c${i + 1}`,
    ...id.publicKeys(),
  })),
};
const signedRoster = signRoster(roster, platformSecretKey);
const channels = identities.map(
  (identity) =>
    new SecureChannel({
      identity,
      roster: verifyRoster(signedRoster, { platformKey, me: identity.publicKeys(), now: NOW }),
      protocol: PROTOCOL,
      now: () => NOW,
    }),
);
const [c1, c2] = channels as [SecureChannel, SecureChannel, SecureChannel];
const p2p = c1.seal({
  sid: sessionId,
  protocol: PROTOCOL,
  round: 1,
  from: 1,
  to: 2,
  payload: randomBytes(40),
});
const broadcast = c1.seal({
  sid: sessionId,
  protocol: PROTOCOL,
  round: 1,
  from: 1,
  to: 'broadcast',
  payload: randomBytes(40),
});

/** Calls `fn`; the only exception allowed is a ChannelError. Returns whether it threw. */
function typedOnly(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    if (!isChannelError(e)) throw e;
    return true;
  }
}

/** A valid encoding with random edits: byte replacements, truncation, extension, splices. */
function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({
      kind: fc.constant('append' as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let b = valid.slice();
    for (const { kind, at, value } of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (kind === 'set') b[i] = value;
      else if (kind === 'truncate') b = b.slice(0, i);
      else if (kind === 'append') b = Uint8Array.of(...b, value);
      else b = Uint8Array.of(...b.subarray(0, i), ...b.subarray(i + 1));
    }
    return b;
  });
}

const noise = fc.uint8Array({ maxLength: 400 });
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe('channel decoders under random and mutated input', () => {
  it('decodeSealedMessage and routingHeaderOf: typed errors only', () => {
    for (const arb of [noise, mutated(p2p), mutated(broadcast)])
      fc.assert(
        fc.property(arb, (bytes) => {
          const threw = typedOnly(() => decodeSealedMessage(bytes));
          expect(typedOnly(() => routingHeaderOf(bytes))).toBe(threw);
        }),
        { numRuns: RUNS },
      );
  });

  it('SecureChannel.open: typed errors only, and altered bytes are never accepted', () => {
    // Accept the genuine messages first, so an exact copy would come back as a duplicate.
    expect(c2.open(p2p).status).toBe('accepted');
    expect(c2.open(broadcast).status).toBe('accepted');
    for (const [arb, original] of [
      [noise, undefined],
      [mutated(p2p), p2p],
      [mutated(broadcast), broadcast],
    ] as const)
      fc.assert(
        fc.property(arb, (bytes) => {
          let status: string | undefined;
          typedOnly(() => (status = c2.open(bytes).status));
          if (original === undefined || !same(bytes, original)) expect(status).toBeUndefined();
          else expect(status).toBe('duplicate');
        }),
        { numRuns: RUNS },
      );
  });

  it('decodeRoster, decodeSignedRoster and verifyRoster: typed errors only', () => {
    const body = encodeRoster(roster);
    const me = (identities[0] as PartyIdentity).publicKeys();
    for (const arb of [noise, mutated(body)])
      fc.assert(
        fc.property(arb, (bytes) => {
          typedOnly(() => decodeRoster(bytes));
        }),
        { numRuns: RUNS },
      );
    for (const arb of [noise, mutated(signedRoster)])
      fc.assert(
        fc.property(arb, (bytes) => {
          typedOnly(() => decodeSignedRoster(bytes));
          const threw = typedOnly(() => verifyRoster(bytes, { platformKey, me, now: NOW }));
          if (!same(bytes, signedRoster)) expect(threw).toBe(true);
        }),
        { numRuns: RUNS },
      );
  });

  it('PartyIdentity.fromSecretKeys: random 32-byte keys load, other sizes are typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        const threw = typedOnly(() =>
          PartyIdentity.fromSecretKeys({ identitySecretKey: a, agreementSecretKey: b }).dispose(),
        );
        expect(threw).toBe(a.length !== 32 || b.length !== 32);
      }),
      { numRuns: RUNS },
    );
  });
});
