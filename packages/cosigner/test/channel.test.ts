// Secure MPC channel: sealing and opening among the 3 parties of a session, and what a hostile
// relay or a dishonest party can try (ARCHITECTURE.md §5, docs/channel.md).
import type { ProtocolMessage } from '@countersign/mpc';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import type { ChannelError } from '../src/channel/index.js';
import {
  CRYPTO_FAILURE_MESSAGE,
  MESSAGE_DOMAIN_TAG,
  PartyIdentity,
  SecureChannel,
  decodeSealedMessage,
  encodeMessageHeader,
  isChannelError,
  routingHeaderOf,
  signRoster,
  verifyRoster,
  type ChannelErrorCode,
  type MessageHeader,
  type Roster,
} from '../src/channel/index.js';
import { deriveMessageKey } from '../src/channel/message-key.js';
import { encodeSealedMessage, encodeSignedPart } from '../src/channel/sealed-message.js';

const NOW = 1_750_000_000_000;
const PROTOCOL = 'frost-ed25519/sign/v1';

interface Session {
  readonly sessionId: Uint8Array;
  readonly identities: PartyIdentity[];
  readonly channels: SecureChannel[];
  readonly signedRoster: Uint8Array;
  readonly platformKey: Uint8Array;
}

function makeSession(
  identities: PartyIdentity[] = [1, 2, 3].map(() => PartyIdentity.generate()),
  protocol = PROTOCOL,
): Session {
  const platformSecretKey = ed25519.utils.randomSecretKey();
  const platformKey = ed25519.getPublicKey(platformSecretKey);
  const sessionId = randomBytes(32);
  const roster: Roster = {
    sessionId,
    shareSetId: 'share-set-1',
    purpose: 'SIGN',
    expiresAt: NOW + 60_000,
    parties: identities.map((id, i) => ({
      index: i + 1,
      cosignerId: `cosigner-${i + 1}`,
      ...id.publicKeys(),
    })),
  };
  const signedRoster = signRoster(roster, platformSecretKey);
  const channels = identities.map(
    (identity) =>
      new SecureChannel({
        identity,
        roster: verifyRoster(signedRoster, { platformKey, me: identity.publicKeys(), now: NOW }),
        protocol,
        now: () => NOW,
      }),
  );
  return { sessionId, identities, channels, signedRoster, platformKey };
}

function channel(s: Session, index: number): SecureChannel {
  const c = s.channels[index - 1];
  if (c === undefined) throw new Error(`no party ${index}`);
  return c;
}

function msg(
  s: Session,
  from: number,
  to: number | 'broadcast',
  payload: Uint8Array,
  round = 1,
): ProtocolMessage {
  return { sid: s.sessionId, protocol: PROTOCOL, round, from, to, payload };
}

/** Runs `fn`, expects a ChannelError and returns it. */
function refused(fn: () => unknown, code?: ChannelErrorCode): ChannelError {
  let error: unknown;
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  expect(result, 'no result may be released').toBeUndefined();
  expect(isChannelError(error), String(error)).toBe(true);
  const e = error as ChannelError;
  if (code !== undefined) expect(e.code).toBe(code);
  return e;
}

function accepted(c: SecureChannel, sealed: Uint8Array): ProtocolMessage {
  const r = c.open(sealed);
  if (r.status !== 'accepted') throw new Error(`expected accepted, got ${r.status}`);
  return r.message;
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

/** Offset of the `from` field in a sealed message: magic, version, sid, protocol, round. */
function fromOffset(sealed: Uint8Array): number {
  const sidLength = sealed[5] ?? 0;
  const protocolLength = sealed[6 + sidLength] ?? 0;
  return 6 + sidLength + 1 + protocolLength + 1;
}

describe('secure channel: honest parties', () => {
  it('delivers point-to-point payloads between every ordered pair of 3 parties, encrypted', () => {
    const s = makeSession();
    let delivered = 0;
    for (const from of [1, 2, 3])
      for (const to of [1, 2, 3]) {
        if (from === to) continue;
        const payload = new TextEncoder().encode(`secret share from ${from} to ${to}, round 1`);
        const sealed = channel(s, from).seal(msg(s, from, to, payload));
        expect(containsBytes(sealed, payload)).toBe(false);
        expect(routingHeaderOf(sealed)).toEqual({ sessionId: s.sessionId, from, to, round: 1 });
        const m = accepted(channel(s, to), sealed);
        expect(m).toEqual({ sid: s.sessionId, protocol: PROTOCOL, round: 1, from, to, payload });
        // The third party cannot use it.
        const other = [1, 2, 3].find((i) => i !== from && i !== to) ?? 0;
        refused(() => channel(s, other).open(sealed), 'ERR_CHANNEL_WRONG_RECIPIENT');
        delivered++;
      }
    expect(delivered).toBe(6);
  });

  it('delivers broadcasts, signed and in clear, to every other party', () => {
    const s = makeSession();
    for (const from of [1, 2, 3]) {
      const payload = new TextEncoder().encode(`commitments of ${from}`);
      const sealed = channel(s, from).seal(msg(s, from, 'broadcast', payload, 2));
      expect(containsBytes(sealed, payload)).toBe(true);
      expect(routingHeaderOf(sealed)).toEqual({
        sessionId: s.sessionId,
        from,
        to: 'broadcast',
        round: 2,
      });
      for (const to of [1, 2, 3]) {
        if (to === from) {
          // A relay reflecting my own broadcast back to me is refused.
          refused(() => channel(s, to).open(sealed), 'ERR_CHANNEL_UNKNOWN_SENDER');
          continue;
        }
        expect(accepted(channel(s, to), sealed).payload).toEqual(payload);
      }
    }
  });

  it('carries empty and 1 MiB payloads, and refuses to seal more than 4 MiB', () => {
    const s = makeSession();
    const large = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff);
    for (const [round, payload] of [new Uint8Array(0), large].entries()) {
      const p2p = channel(s, 1).seal(msg(s, 1, 2, payload, round + 1));
      expect(accepted(channel(s, 2), p2p).payload).toEqual(payload);
      const broadcast = channel(s, 1).seal(msg(s, 1, 'broadcast', payload, round + 1));
      expect(accepted(channel(s, 3), broadcast).payload).toEqual(payload);
    }
    const tooLarge = new Uint8Array(4 * 1024 * 1024 + 1);
    refused(() => channel(s, 1).seal(msg(s, 1, 2, tooLarge, 2)), 'ERR_CHANNEL_INVALID_ARGUMENT');
    refused(
      () => channel(s, 1).seal(msg(s, 1, 'broadcast', tooLarge, 2)),
      'ERR_CHANNEL_INVALID_ARGUMENT',
    );
  });

  it('uses a fresh nonce for every seal', () => {
    const s = makeSession();
    const payload = randomBytes(64);
    const a = decodeSealedMessage(channel(s, 1).seal(msg(s, 1, 2, payload)));
    const b = decodeSealedMessage(channel(s, 1).seal(msg(s, 1, 2, payload)));
    expect(a.nonce).not.toEqual(b.nonce);
    expect(a.body).not.toEqual(b.body);
  });

  it('seals only my own messages for this session to another roster party', () => {
    const s = makeSession();
    const c = channel(s, 1);
    const p = randomBytes(8);
    refused(() => c.seal(msg(s, 2, 3, p)), 'ERR_CHANNEL_INVALID_ARGUMENT');
    refused(
      () => c.seal({ ...msg(s, 1, 2, p), sid: randomBytes(32) }),
      'ERR_CHANNEL_INVALID_ARGUMENT',
    );
    refused(
      () => c.seal({ ...msg(s, 1, 2, p), protocol: 'other/v1' }),
      'ERR_CHANNEL_INVALID_ARGUMENT',
    );
    refused(() => c.seal(msg(s, 1, 1, p)), 'ERR_CHANNEL_INVALID_ARGUMENT');
    refused(() => c.seal(msg(s, 1, 4, p)), 'ERR_CHANNEL_INVALID_ARGUMENT');
    refused(() => c.seal(msg(s, 1, 2, p, 0)), 'ERR_CHANNEL_INVALID_ARGUMENT');
    refused(() => c.seal(msg(s, 1, 2, p, 256)), 'ERR_CHANNEL_INVALID_ARGUMENT');
  });
});

describe('secure channel: replays and duplicates', () => {
  it('drops a duplicate idempotently, also when the sender sealed the same payload again', () => {
    const s = makeSession();
    const payload = randomBytes(32);
    const sealed = channel(s, 1).seal(msg(s, 1, 2, payload));
    expect(accepted(channel(s, 2), sealed).payload).toEqual(payload);
    expect(channel(s, 2).open(sealed)).toEqual({ status: 'duplicate', from: 1, round: 1 });
    const resealed = channel(s, 1).seal(msg(s, 1, 2, payload));
    expect(resealed).not.toEqual(sealed);
    expect(channel(s, 2).open(resealed)).toEqual({ status: 'duplicate', from: 1, round: 1 });
    const b = channel(s, 3).seal(msg(s, 3, 'broadcast', payload));
    expect(accepted(channel(s, 2), b).from).toBe(3);
    expect(channel(s, 2).open(b).status).toBe('duplicate');
  });

  it('fails on a second, different signed message for the same slot, naming the sender', () => {
    const s = makeSession();
    expect(accepted(channel(s, 2), channel(s, 1).seal(msg(s, 1, 2, randomBytes(8)))).from).toBe(1);
    const e = refused(
      () => channel(s, 2).open(channel(s, 1).seal(msg(s, 1, 2, randomBytes(8)))),
      'ERR_CHANNEL_CONFLICTING_MESSAGE',
    );
    expect(e.culprit).toBe(1);
    accepted(channel(s, 2), channel(s, 3).seal(msg(s, 3, 'broadcast', randomBytes(8))));
    expect(
      refused(
        () => channel(s, 2).open(channel(s, 3).seal(msg(s, 3, 'broadcast', randomBytes(8)))),
        'ERR_CHANNEL_CONFLICTING_MESSAGE',
      ).culprit,
    ).toBe(3);
    // Another round is another slot.
    accepted(channel(s, 2), channel(s, 1).seal(msg(s, 1, 2, randomBytes(8), 2)));
  });

  it('refuses a message replayed into another session of the same parties', () => {
    const s1 = makeSession();
    const s2 = makeSession(s1.identities);
    const sealed = channel(s1, 1).seal(msg(s1, 1, 2, randomBytes(16)));
    refused(() => channel(s2, 2).open(sealed), 'ERR_CHANNEL_WRONG_SESSION');
    // Rewriting the session id in the header breaks the signature.
    const rewritten = sealed.slice();
    rewritten.set(s2.sessionId, 6);
    expect(routingHeaderOf(rewritten).sessionId).toEqual(s2.sessionId);
    const e = refused(() => channel(s2, 2).open(rewritten), 'ERR_CHANNEL_SIGNATURE_INVALID');
    expect(e.claimedSender).toBe(1);
    expect(e.culprit).toBeUndefined();
  });

  it('refuses a message of the same session under another protocol id', () => {
    const s = makeSession();
    const other = new SecureChannel({
      identity: s.identities[1] as PartyIdentity,
      roster: channel(s, 2).roster,
      protocol: 'frost-ed25519/dkg/v1',
      now: () => NOW,
    });
    refused(
      () => other.open(channel(s, 1).seal(msg(s, 1, 2, randomBytes(4)))),
      'ERR_CHANNEL_WRONG_SESSION',
    );
  });

  it('refuses a message moved to another round', () => {
    const s = makeSession();
    for (const to of [2, 'broadcast'] as const) {
      const sealed = channel(s, 1).seal(msg(s, 1, to, randomBytes(16), 1));
      const moved = sealed.slice();
      const roundAt = fromOffset(sealed) - 1;
      moved[roundAt] = 2;
      expect(routingHeaderOf(moved).round).toBe(2);
      const e = refused(() => channel(s, 2).open(moved), 'ERR_CHANNEL_SIGNATURE_INVALID');
      expect(e.claimedSender).toBe(1);
      // The genuine message still goes through afterwards.
      expect(accepted(channel(s, 2), sealed).round).toBe(1);
    }
  });

  it('refuses a message redirected to another recipient, releasing no plaintext', () => {
    const s = makeSession();
    const sealed = channel(s, 1).seal(msg(s, 1, 2, randomBytes(16)));
    refused(() => channel(s, 3).open(sealed), 'ERR_CHANNEL_WRONG_RECIPIENT');
    const redirected = sealed.slice();
    const toAt = fromOffset(sealed) + 2;
    redirected[toAt + 1] = 3;
    expect(routingHeaderOf(redirected).to).toBe(3);
    const e = refused(() => channel(s, 3).open(redirected), 'ERR_CHANNEL_SIGNATURE_INVALID');
    expect(e.claimedSender).toBe(1);
    // A broadcast rewritten into a point-to-point message no longer even parses as one.
    const b = channel(s, 1).seal(msg(s, 1, 'broadcast', randomBytes(16)));
    const pointed = b.slice();
    pointed[toAt + 1] = 2;
    refused(() => channel(s, 2).open(pointed));
  });
});

describe('secure channel: a relay that tampers', () => {
  for (const to of [2, 'broadcast'] as const) {
    it(`detects one flipped bit or replaced byte anywhere in a ${to === 2 ? 'point-to-point' : 'broadcast'} message`, () => {
      const s = makeSession();
      const payload = randomBytes(24);
      const sealed = channel(s, 1).seal(msg(s, 1, to, payload, 3));
      const from = fromOffset(sealed);
      const codes = new Map<string, number>();
      let named = 0;
      for (let i = 0; i < sealed.length; i++)
        for (const mutate of [(b: number) => b ^ 0x01, (b: number) => b ^ 0x80, () => 0xff]) {
          const tampered = sealed.slice();
          tampered[i] = mutate(sealed[i] ?? 0);
          if (tampered[i] === sealed[i]) continue;
          const e = refused(() => channel(s, 2).open(tampered));
          codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
          expect(e.culprit, `byte ${i}`).toBeUndefined();
          expect(e.message).not.toContain(Buffer.from(payload).toString('hex'));
          // Outside magic, version, lengths and the from field, the claimed sender is named.
          const structural = i < 7 || i === 6 + (sealed[5] ?? 0) || (i >= from && i < from + 2);
          if (!structural && e.code !== 'ERR_CHANNEL_MALFORMED') {
            expect(e.claimedSender, `byte ${i}`).toBe(1);
            named++;
          }
          if (
            e.code === 'ERR_CHANNEL_SIGNATURE_INVALID' ||
            e.code === 'ERR_CHANNEL_DECRYPTION_FAILED'
          )
            expect(e.message).toBe(`${CRYPTO_FAILURE_MESSAGE} (claimed sender 1)`);
        }
      expect(codes.get('ERR_CHANNEL_SIGNATURE_INVALID') ?? 0).toBeGreaterThan(sealed.length);
      expect(codes.has('ERR_CHANNEL_DECRYPTION_FAILED')).toBe(false);
      expect(named).toBeGreaterThan(sealed.length);
      // Nothing tampered was recorded: the genuine message is still accepted.
      expect(accepted(channel(s, 2), sealed).payload).toEqual(payload);
    });
  }

  it('detects truncation and extension', () => {
    const s = makeSession();
    const sealed = channel(s, 1).seal(msg(s, 1, 2, randomBytes(24)));
    for (let n = 0; n < sealed.length; n++)
      refused(() => channel(s, 2).open(sealed.subarray(0, n)), 'ERR_CHANNEL_MALFORMED');
    const extended = new Uint8Array(sealed.length + 1);
    extended.set(sealed);
    expect(refused(() => channel(s, 2).open(extended), 'ERR_CHANNEL_MALFORMED').claimedSender).toBe(
      1,
    );
  });
});

describe('secure channel: dishonest parties', () => {
  /** Seals `header`/`payload` like the channel does, but with an arbitrary key pair. */
  function forge(
    signer: PartyIdentity,
    encryptFor: { identity: PartyIdentity; peerAgreementKey: Uint8Array } | undefined,
    header: MessageHeader,
    payload: Uint8Array,
  ): Uint8Array {
    let parts: { header: MessageHeader; nonce?: Uint8Array; body: Uint8Array };
    if (header.to === 'broadcast' || encryptFor === undefined) parts = { header, body: payload };
    else {
      const key = deriveMessageKey(encryptFor.identity, encryptFor.peerAgreementKey, {
        ...header,
        to: header.to,
      });
      const nonce = randomBytes(24);
      parts = {
        header,
        nonce,
        body: xchacha20poly1305(key, nonce, encodeMessageHeader(header)).encrypt(payload),
      };
    }
    const signedPart = encodeSignedPart(parts);
    const tag = new TextEncoder().encode(MESSAGE_DOMAIN_TAG);
    const toSign = new Uint8Array(tag.length + signedPart.length);
    toSign.set(tag);
    toSign.set(signedPart, tag.length);
    return encodeSealedMessage(signedPart, signer.sign(toSign));
  }

  it('refuses party 3 impersonating party 1', () => {
    const s = makeSession();
    const [p1, p2, p3] = s.identities as [PartyIdentity, PartyIdentity, PartyIdentity];
    const header = (to: number | 'broadcast'): MessageHeader => ({
      sessionId: s.sessionId,
      protocol: PROTOCOL,
      round: 1,
      from: 1,
      to,
    });
    // Signed with its own key, encrypted with its own agreement key.
    const p2p = forge(
      p3,
      { identity: p3, peerAgreementKey: p2.publicKeys().agreementKey },
      header(2),
      randomBytes(8),
    );
    const e = refused(() => channel(s, 2).open(p2p), 'ERR_CHANNEL_SIGNATURE_INVALID');
    expect([e.claimedSender, e.culprit]).toEqual([1, undefined]);
    refused(
      () => channel(s, 2).open(forge(p3, undefined, header('broadcast'), randomBytes(8))),
      'ERR_CHANNEL_SIGNATURE_INVALID',
    );
    // Its own genuine message with the sender rewritten.
    const own = channel(s, 3).seal(msg(s, 3, 2, randomBytes(8)));
    own[fromOffset(own) + 1] = 1;
    refused(() => channel(s, 2).open(own), 'ERR_CHANNEL_SIGNATURE_INVALID');
    // And the channel itself will not seal as someone else.
    refused(() => channel(s, 3).seal(msg(s, 1, 2, randomBytes(8))), 'ERR_CHANNEL_INVALID_ARGUMENT');
    expect(p1.disposed).toBe(false);
  });

  it('refuses a sender that is not in the roster', () => {
    const s = makeSession();
    const outsider = PartyIdentity.generate();
    const p2 = s.identities[1] as PartyIdentity;
    const header: MessageHeader = {
      sessionId: s.sessionId,
      protocol: PROTOCOL,
      round: 1,
      from: 4,
      to: 2,
    };
    const sealed = forge(
      outsider,
      { identity: outsider, peerAgreementKey: p2.publicKeys().agreementKey },
      header,
      randomBytes(8),
    );
    const e = refused(() => channel(s, 2).open(sealed), 'ERR_CHANNEL_UNKNOWN_SENDER');
    expect(e.claimedSender).toBe(4);
    const b = forge(outsider, undefined, { ...header, to: 'broadcast' }, randomBytes(8));
    refused(() => channel(s, 2).open(b), 'ERR_CHANNEL_UNKNOWN_SENDER');
  });

  it('names the sender of a signed ciphertext that does not decrypt', () => {
    const s = makeSession();
    const [p1, p2, p3] = s.identities as [PartyIdentity, PartyIdentity, PartyIdentity];
    const header: MessageHeader = {
      sessionId: s.sessionId,
      protocol: PROTOCOL,
      round: 1,
      from: 1,
      to: 2,
    };
    // Party 1 signs a payload encrypted to the wrong key (party 3's).
    const sealed = forge(
      p1,
      { identity: p1, peerAgreementKey: p3.publicKeys().agreementKey },
      header,
      randomBytes(8),
    );
    const e = refused(() => channel(s, 2).open(sealed), 'ERR_CHANNEL_DECRYPTION_FAILED');
    expect(e.culprit).toBe(1);
    expect(e.message).toBe(`${CRYPTO_FAILURE_MESSAGE} (party 1)`);
    expect(e.cause).toBeUndefined();
    expect(p2.disposed).toBe(false);
  });
});

describe('secure channel: lifetime', () => {
  it('refuses to seal or open once the roster expired', () => {
    const s = makeSession();
    let now = NOW;
    const identity = s.identities[1] as PartyIdentity;
    const c = new SecureChannel({
      identity,
      roster: channel(s, 2).roster,
      protocol: PROTOCOL,
      now: () => now,
    });
    const sealed = channel(s, 1).seal(msg(s, 1, 2, randomBytes(8)));
    now = NOW + 60_000;
    refused(() => c.open(sealed), 'ERR_CHANNEL_ROSTER_EXPIRED');
    refused(() => c.seal(msg(s, 2, 1, randomBytes(8))), 'ERR_CHANNEL_ROSTER_EXPIRED');
  });

  it('refuses to work after dispose, of the channel or of the identity', () => {
    const s = makeSession();
    const sealed = channel(s, 1).seal(msg(s, 1, 2, randomBytes(8)));
    channel(s, 2).dispose();
    refused(() => channel(s, 2).open(sealed), 'ERR_CHANNEL_DISPOSED');
    (s.identities[0] as PartyIdentity).dispose();
    refused(() => channel(s, 1).seal(msg(s, 1, 3, randomBytes(8))), 'ERR_CHANNEL_DISPOSED');
  });

  it('accepts only a roster verified for its own identity', () => {
    const s = makeSession();
    refused(
      () =>
        new SecureChannel({
          identity: s.identities[0] as PartyIdentity,
          roster: channel(s, 2).roster,
          protocol: PROTOCOL,
        }),
      'ERR_CHANNEL_NOT_IN_ROSTER',
    );
    refused(
      () =>
        new SecureChannel({
          identity: s.identities[0] as PartyIdentity,
          roster: { ...channel(s, 1).roster } as never,
          protocol: PROTOCOL,
        }),
      'ERR_CHANNEL_INVALID_ARGUMENT',
    );
    refused(
      () =>
        new SecureChannel({
          identity: s.identities[0] as PartyIdentity,
          roster: channel(s, 1).roster,
          protocol: 'Not A Protocol',
        }),
      'ERR_CHANNEL_INVALID_ARGUMENT',
    );
  });
});
