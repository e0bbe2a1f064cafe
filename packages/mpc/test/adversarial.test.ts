// One test per check: each misbehaviour fails with a typed MpcError naming the culprit, and no
// honest party outputs a key share or a signature.
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  MpcError,
  dkg,
  encodeMessage,
  publicShareSet,
  reshare,
  resumeSession,
  sign,
  type CurveName,
  type MpcErrorCode,
  type ProtocolMessage,
} from '../src/index.js';
import { runDkg, runSessions, sid, type RunOutcome, type Tamper } from './helpers.js';

const PARTIES = [1, 2, 3];

/** Flips the least significant bit of the 32-byte scalar at `offset` (stays below the order). */
function flipScalarLsb(curve: CurveName, payload: Uint8Array, offset: number): Uint8Array {
  const out = payload.slice();
  const at = curve === 'ed25519' ? offset : offset + 31;
  out[at] = (out[at] ?? 0) ^ 1;
  return out;
}

function expectCulprit<R>(
  out: RunOutcome<R>,
  honest: number[],
  code: MpcErrorCode,
  culprit: number,
): void {
  const named = honest.filter((h) => out.errors.has(h));
  expect(named.length).toBeGreaterThan(0);
  for (const h of named) {
    const e = out.errors.get(h)!;
    expect(e).toBeInstanceOf(MpcError);
    expect(e.code).toBe(code);
    expect(e.culprit).toBe(culprit);
  }
  for (const h of honest) expect(out.results.has(h)).toBe(false);
}

const T = PARTIES.length; // the key model: n-of-n
const dkgSessions = (curve: CurveName, label: string) =>
  new Map(
    PARTIES.map((me) => [me, dkg({ curve, sid: sid(label), parties: PARTIES, me, threshold: T })]),
  );

/** Every honest party that failed reports `code` and has `culprit` among its suspects. */
function expectSuspect<R>(
  out: RunOutcome<R>,
  honest: number[],
  code: MpcErrorCode,
  culprit: number,
): void {
  const named = honest.filter((h) => out.errors.has(h));
  expect(named.length).toBeGreaterThan(0);
  for (const h of named) {
    const e = out.errors.get(h)!;
    expect(e.code).toBe(code);
    if (e.culprit !== undefined) expect(e.culprit).toBe(culprit);
    else {
      // Ambiguous evidence: nobody named, the culprit is among the suspects, never the reporter.
      expect(e.suspects).toContain(culprit);
      expect(e.suspects).not.toContain(h);
    }
  }
  for (const h of honest) expect(out.results.has(h)).toBe(false);
}

const onlyFrom =
  (
    from: number,
    round: number,
    to: 'broadcast' | 'p2p',
    f: (m: ProtocolMessage, recipient: number) => Uint8Array,
  ): Tamper =>
  (m, recipient) => {
    const kind = m.to === 'broadcast' ? 'broadcast' : 'p2p';
    return m.from === from && m.round === round && kind === to
      ? { ...m, payload: f(m, recipient) }
      : m;
  };

describe.each(['ed25519', 'secp256k1'] as const)('%s DKG', (curve) => {
  const P = curve === 'ed25519' ? 32 : 33;

  it('tampered commitment: opening does not match the round-1 commitment → ERR_MPC_COMMITMENT_MISMATCH, party 3', () => {
    // Party 3 changes its chain-code contribution after seeing the others' (the bias attack).
    const out = runSessions(
      dkgSessions(curve, 'tamper-commitment'),
      onlyFrom(3, 2, 'broadcast', (m) => {
        const p = m.payload.slice();
        p[T * P] = (p[T * P] ?? 0) ^ 0xff; // first byte of the chain-code contribution
        return p;
      }),
    );
    expectCulprit(out, [1, 2], 'ERR_MPC_COMMITMENT_MISMATCH', 3);
  });

  it('wrong share: party 3 sends party 1 a share off its polynomial → ERR_MPC_INVALID_SHARE, party 3', () => {
    const out = runSessions(
      dkgSessions(curve, 'wrong-share'),
      onlyFrom(3, 2, 'p2p', (m) => (m.to === 1 ? flipScalarLsb(curve, m.payload, 0) : m.payload)),
    );
    expectCulprit(out, [1, 2], 'ERR_MPC_INVALID_SHARE', 3);
    expect(out.errors.get(1)?.code).toBe('ERR_MPC_INVALID_SHARE');
  });

  it('bad proof of knowledge → ERR_MPC_INVALID_PROOF, party 2', () => {
    // The proof is the last field of the opening; z is its last 32 bytes. Re-commit would be
    // needed to change C, so the attacker keeps C and forges z.
    const out = runSessions(
      dkgSessions(curve, 'bad-pok'),
      onlyFrom(2, 2, 'broadcast', (m) => flipScalarLsb(curve, m.payload, m.payload.length - 32)),
    );
    expectCulprit(out, [1, 3], 'ERR_MPC_INVALID_PROOF', 2);
  });

  it('replayed and foreign-session messages are refused, name the sender, and do not derail the session', () => {
    // Record a whole other DKG (different sid), then run ours injecting its messages.
    const foreign: Uint8Array[] = [];
    runSessions(dkgSessions(curve, 'other-session'), (m) => {
      foreign.push(encodeMessage(m));
      return m;
    });
    const sessions = dkgSessions(curve, 'this-session');
    const refused: MpcError[] = [];
    const out = runSessions(sessions, (m, to) => {
      const s = sessions.get(to)!;
      for (const f of foreign.splice(0, 1)) {
        try {
          s.receive(f);
        } catch (e) {
          refused.push(e as MpcError);
        }
      }
      return m;
    });
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      expect(e.code).toBe('ERR_MPC_WRONG_SESSION');
      // The header is unauthenticated here: the claimed sender is reported, nobody blamed.
      expect(e.culprit).toBeUndefined();
      expect(PARTIES).toContain(e.claimedSender);
    }
    expect(out.errors.size).toBe(0);
    expect(out.results.size).toBe(3);

    // Same session, replays: identical bytes → ignored (even after the round moved on),
    // altered round → refused as wrong round; the session keeps running either way.
    const live = dkgSessions(curve, 'replay');
    const p1 = live.get(1)!;
    const p2 = live.get(2)!;
    p1.start();
    const [m2] = p2.start();
    const bytes = encodeMessage(m2!);
    expect(p1.receive(bytes)).toEqual([]);
    expect(p1.receive(bytes)).toEqual([]); // redelivered: ignored
    expect(p1.status).toBe('running');
    expect(p1.currentRound).toBe(1);
    const [m3] = live.get(3)!.start();
    const round2 = p1.receive(encodeMessage(m3!));
    expect(p1.currentRound).toBe(2);
    expect(round2.length).toBeGreaterThan(0);
    expect(p1.receive(bytes)).toEqual([]); // a round-1 replay after round 1: still ignored
    expect(p1.currentRound).toBe(2);
    expect(() => p1.receive(encodeMessage({ ...m2!, round: 4 }))).toThrow(
      expect.objectContaining({
        code: 'ERR_MPC_WRONG_ROUND',
        culprit: undefined,
        claimedSender: 2,
      }),
    );
    expect(p1.status).toBe('running');
  });

  it('inconsistent broadcast: party 3 runs two valid DKGs and shows one to each → ERR_MPC_INCONSISTENT_BROADCAST, 3 suspected', () => {
    // Each view is internally valid (commitment, opening, proof and shares all check), so only
    // the transcript echo can see that parties 1 and 2 hold different keys / chain codes.
    const sessions = dkgSessions(curve, 'dkg-equivocation');
    const twin = dkg({
      curve,
      sid: sid('dkg-equivocation'),
      parties: PARTIES,
      me: 3,
      threshold: T,
    });
    const queue: { to: number; m: ProtocolMessage }[] = [];
    const errors = new Map<number, MpcError>();
    const route = (from3: 'a' | 'b' | 'honest', msgs: ProtocolMessage[]) => {
      for (const m of msgs)
        for (const to of m.to === 'broadcast' ? PARTIES.filter((p) => p !== m.from) : [m.to]) {
          if (from3 === 'a' && to !== 1 && to !== 3) continue; // 3a talks to party 1 only
          if (from3 === 'b' && to !== 2) continue; // 3b talks to party 2 only
          queue.push({ to, m });
        }
    };
    route('a', sessions.get(3)!.start());
    route('b', twin.start());
    for (const p of [1, 2]) route('honest', sessions.get(p)!.start());
    while (queue.length > 0) {
      const { to, m } = queue.shift()!;
      // Party 3's two personas both receive everything sent to 3.
      const targets = to === 3 ? [sessions.get(3)!, twin] : [sessions.get(to)!];
      for (const s of targets) {
        if (s.status === 'failed') continue;
        try {
          const out = s.receive(encodeMessage(m));
          route(s === twin ? 'b' : to === 3 ? 'a' : 'honest', out);
        } catch (e) {
          if (to !== 3) errors.set(to, e as MpcError);
        }
      }
    }
    // Each honest party holds only the other's word against 3's: nobody is named, and the
    // only party both suspect is 3.
    expect(errors.get(1)).toMatchObject({
      code: 'ERR_MPC_INCONSISTENT_BROADCAST',
      culprit: undefined,
      suspects: [2, 3],
    });
    expect(errors.get(2)).toMatchObject({
      code: 'ERR_MPC_INCONSISTENT_BROADCAST',
      culprit: undefined,
      suspects: [1, 3],
    });
    for (const p of [1, 2]) expect(sessions.get(p)!.status).toBe('failed');
  });

  it('a second, different message for the same slot → ERR_MPC_DUPLICATE_MESSAGE, party 2; final', () => {
    const live = dkgSessions(curve, 'duplicate');
    const p1 = live.get(1)!;
    p1.start();
    const [m2] = live.get(2)!.start();
    p1.receive(encodeMessage(m2!));
    const other = m2!.payload.slice();
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 1; // another commitment
    expect(() => p1.receive(encodeMessage({ ...m2!, payload: other }))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_DUPLICATE_MESSAGE', culprit: 2 }),
    );
    expect(p1.status).toBe('failed');
    expect(() => p1.result()).toThrow();
  });

  it('a point-to-point message for another party → ERR_MPC_WRONG_RECIPIENT, nobody blamed, session continues', () => {
    const live = dkgSessions(curve, 'recipient');
    const first = new Map(PARTIES.map((p) => [p, live.get(p)!.start()]));
    // Complete round 1 at party 2 so that it deals its round-2 shares.
    const p2 = live.get(2)!;
    const dealt = [...first.get(1)!, ...first.get(3)!].flatMap((m) => p2.receive(encodeMessage(m)));
    const toThree = dealt.find((m) => m.to === 3)!;
    const p1 = live.get(1)!;
    expect(() => p1.receive(encodeMessage(toThree))).toThrow(
      expect.objectContaining({
        code: 'ERR_MPC_WRONG_RECIPIENT',
        culprit: undefined,
        claimedSender: 2,
      }),
    );
    expect(p1.status).toBe('running');
  });
});

describe('unexpected messages', () => {
  it('a broadcast from a reshare receiver in round 1, or any p2p in signing → ERR_MPC_UNEXPECTED_MESSAGE; the session continues', () => {
    const old = runDkg('ed25519', PARTIES, 3, 'unexpected');
    const shareSet = publicShareSet(old.get(1)!);
    const dealer = reshare({
      sid: sid('unexpected'),
      dealers: PARTIES,
      receivers: [1, 2, 4],
      threshold: 3,
      me: 1,
      keyShare: old.get(1)!,
    });
    const newcomer = reshare({
      sid: sid('unexpected'),
      dealers: PARTIES,
      receivers: [1, 2, 4],
      threshold: 3,
      me: 4,
      shareSet,
    });
    dealer.start();
    expect(newcomer.start()).toEqual([]); // a new member deals nothing
    const forged = encodeMessage({
      sid: sid('unexpected'),
      protocol: dealer.protocolId,
      round: 1,
      from: 4,
      to: 'broadcast',
      payload: new Uint8Array(64),
    });
    expect(() => dealer.receive(forged)).toThrow(
      expect.objectContaining({
        code: 'ERR_MPC_UNEXPECTED_MESSAGE',
        culprit: undefined,
        claimedSender: 4,
      }),
    );
    expect(dealer.status).toBe('running');

    const signer = sign({
      sid: sid('unexpected-sign'),
      keyShare: old.get(1)!,
      signers: PARTIES,
      message: new Uint8Array(32),
    });
    signer.start();
    const p2p = encodeMessage({
      sid: sid('unexpected-sign'),
      protocol: signer.protocolId,
      round: 1,
      from: 2,
      to: 1,
      payload: new Uint8Array(32),
    });
    expect(() => signer.receive(p2p)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_UNEXPECTED_MESSAGE', claimedSender: 2 }),
    );
    expect(signer.status).toBe('running');
  });
});

describe('party indices', () => {
  it('duplicate identifier → ERR_MPC_DUPLICATE_PARTY naming it; zero → ERR_MPC_INVALID_PARTY', () => {
    expect(() =>
      dkg({ curve: 'ed25519', sid: sid('dup'), parties: [1, 2, 2], me: 1, threshold: 3 }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_DUPLICATE_PARTY', culprit: 2 }));
    expect(() =>
      dkg({ curve: 'secp256k1', sid: sid('zero'), parties: [0, 1, 2], me: 1, threshold: 3 }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARTY', culprit: 0 }));
    const shares = runDkg('ed25519', PARTIES, 2, 'ids');
    expect(() =>
      sign({
        sid: sid('s'),
        keyShare: shares.get(1)!,
        signers: [1, 3, 3],
        message: new Uint8Array(1),
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_DUPLICATE_PARTY', culprit: 3 }));
  });

  it('a message claiming sender 0, or a sender outside the session, is refused', () => {
    const sessions = dkgSessions('ed25519', 'senders');
    const s = sessions.get(1)!;
    const [m] = sessions.get(2)!.start();
    s.start();
    const bytes = encodeMessage(m!);
    const zeroSender = bytes.slice();
    // from is the u16 after magic(4) ‖ len+protocol ‖ len+sid ‖ round(1)
    const fromOffset = 4 + 1 + m!.protocol.length + 1 + m!.sid.length + 1;
    zeroSender[fromOffset] = 0;
    zeroSender[fromOffset + 1] = 0;
    expect(() => s.receive(zeroSender)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
    expect(() => s.receive(encodeMessage({ ...m!, from: 9 }))).toThrow(
      expect.objectContaining({
        code: 'ERR_MPC_INVALID_PARTY',
        culprit: undefined,
        claimedSender: 9,
      }),
    );
    expect(s.status).toBe('running');
  });
});

describe.each(['ed25519', 'secp256k1'] as const)('%s signing', (curve) => {
  const shares = runDkg(curve, PARTIES, 3, `sign-adv-${curve}`);
  const P = curve === 'ed25519' ? 32 : 33;
  const signSessions = (
    label: string,
    messageOf: (me: number) => Uint8Array = () => new Uint8Array(32),
  ) =>
    new Map(
      PARTIES.map((me) => [
        me,
        sign({
          sid: sid(label),
          keyShare: shares.get(me)!,
          signers: PARTIES,
          message: messageOf(me),
        }),
      ]),
    );

  it('inconsistent broadcast: party 3 shows party 2 other nonce commitments → ERR_MPC_INCONSISTENT_BROADCAST, 3 named or suspected', () => {
    const other = (
      curve === 'ed25519' ? ed25519.Point.BASE.multiply(5n) : secp256k1.Point.BASE.multiply(5n)
    ).toBytes();
    const sessions = signSessions('equivocate');
    const out = runSessions(
      sessions,
      onlyFrom(3, 1, 'broadcast', (m, to) => {
        if (to !== 2) return m.payload;
        const p = m.payload.slice();
        p.set(other, 32 + P); // binding commitment
        return p;
      }),
    );
    // Party 1 only holds 2's word against 3's: ambiguous, 3 and 2 suspected. Party 2 names 3
    // if 3's own echo arrives first (3 contradicts what it sent 2), else suspects 1 and 3.
    expectSuspect(out, [1, 2], 'ERR_MPC_INCONSISTENT_BROADCAST', 3);
    expect(out.errors.get(1)).toMatchObject({ culprit: undefined, suspects: [2, 3] });
    // The ambiguous verdict survives a restart of the failed session.
    expect(resumeSession(sessions.get(1)!.toBytes()).error).toMatchObject({
      code: 'ERR_MPC_INCONSISTENT_BROADCAST',
      culprit: undefined,
      suspects: [2, 3],
    });
  });

  it('bad signature share → ERR_MPC_INVALID_SIGNATURE_SHARE, party 2', () => {
    const out = runSessions(
      signSessions('bad-share'),
      onlyFrom(2, 2, 'broadcast', (m) => flipScalarLsb(curve, m.payload, m.payload.length - 32)),
    );
    expectCulprit(out, [1, 3], 'ERR_MPC_INVALID_SIGNATURE_SHARE', 2);
  });

  it('a signer with another message is named in round 1 → ERR_MPC_CONTEXT_MISMATCH, party 3', () => {
    const out = runSessions(
      signSessions('context', (me) => new Uint8Array(32).fill(me === 3 ? 1 : 0)),
    );
    expectCulprit(out, [1, 2], 'ERR_MPC_CONTEXT_MISMATCH', 3);
  });
});

describe('reshare', () => {
  it('a dealer that re-shares something else than its share → ERR_MPC_INVALID_SHARE, dealer 2', () => {
    const old = runDkg('secp256k1', PARTIES, 3, 'reshare-adv');
    const shareSet = publicShareSet(old.get(1)!);
    const sessions = new Map(
      [1, 2, 3, 4].map((me) => [
        me,
        reshare({
          sid: sid('reshare-adv'),
          dealers: PARTIES,
          receivers: [1, 2, 4],
          threshold: 3,
          me,
          ...(me === 4 ? { shareSet } : { keyShare: old.get(me)! }),
        }),
      ]),
    );
    const out = runSessions(
      sessions,
      onlyFrom(2, 1, 'broadcast', (m) => {
        const p = m.payload.slice();
        p.set(secp256k1.Point.BASE.multiply(11n).toBytes(), 32); // C'_{2,0}
        return p;
      }),
    );
    expectCulprit(out, [1, 3, 4], 'ERR_MPC_INVALID_SHARE', 2);
  });

  const reshareSessions = (label: string) => {
    const old = runDkg('ed25519', PARTIES, 3, label);
    const shareSet = publicShareSet(old.get(1)!);
    return new Map(
      [1, 2, 3, 4].map((me) => [
        me,
        reshare({
          sid: sid(label),
          dealers: PARTIES,
          receivers: [1, 2, 4],
          threshold: 3,
          me,
          ...(me === 4 ? { shareSet } : { keyShare: old.get(me)! }),
        }),
      ]),
    );
  };

  it('a dealer that sends the new member a wrong share → ERR_MPC_INVALID_SHARE naming the dealer', () => {
    const out = runSessions(
      reshareSessions('reshare-wrong-share'),
      onlyFrom(2, 1, 'p2p', (m) =>
        m.to === 4 ? flipScalarLsb('ed25519', m.payload, 0) : m.payload,
      ),
    );
    expectCulprit(out, [1, 3, 4], 'ERR_MPC_INVALID_SHARE', 2);
    expect(out.errors.get(4)).toMatchObject({ code: 'ERR_MPC_INVALID_SHARE', culprit: 2 });
  });

  it('a dealer whose old share set digest differs → ERR_MPC_CONTEXT_MISMATCH naming it', () => {
    const out = runSessions(
      reshareSessions('reshare-digest'),
      onlyFrom(3, 1, 'broadcast', (m) => {
        const p = m.payload.slice();
        p[0] = (p[0] ?? 0) ^ 1; // the digest is the first 32 bytes
        return p;
      }),
    );
    expectCulprit(out, [1, 2, 4], 'ERR_MPC_CONTEXT_MISMATCH', 3);
  });
});
