// Session framework: persistence between rounds (restart), resend, redelivery, buffering, failure.
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  dkg,
  encodeMessage,
  exportKeyShare,
  importKeyShare,
  resumeSession,
  sign,
  type KeyShare,
  type ProtocolMessage,
  type Session,
  type SignatureResult,
} from '../src/index.js';
import { runDkg, runSessions, sid } from './helpers.js';

/** Delivers messages one at a time, serializing and restoring every session after each step. */
function runWithRestarts<R>(initial: Map<number, Session<R>>): Map<number, R> {
  const state = new Map<number, Uint8Array>();
  const queue: { to: number; bytes: Uint8Array }[] = [];
  const post = (msgs: ProtocolMessage[], parties: number[]) => {
    for (const m of msgs)
      for (const to of m.to === 'broadcast' ? parties.filter((p) => p !== m.from) : [m.to])
        queue.push({ to, bytes: encodeMessage(m) });
  };
  const parties = [...initial.keys()];
  for (const [i, s] of initial) {
    post(s.start(), parties);
    state.set(i, s.toBytes());
  }
  while (queue.length > 0) {
    const { to, bytes } = queue.shift()!;
    const s = resumeSession<R>(state.get(to)!); // "restart" before every message
    post(s.receive(bytes), parties);
    // Redelivery of the same bytes is ignored.
    expect(s.receive(bytes)).toEqual([]);
    state.set(to, s.toBytes());
  }
  const out = new Map<number, R>();
  for (const [i, bytes] of state) {
    const s = resumeSession<R>(bytes);
    expect(s.status).toBe('done');
    out.set(i, s.result());
  }
  return out;
}

describe('session persistence', () => {
  it('a DKG survives a restart of every party after every message', () => {
    const parties = [1, 2, 3];
    const shares = runWithRestarts(
      new Map(
        parties.map((me) => [
          me,
          dkg({ curve: 'ed25519', sid: sid('restart'), parties, me, threshold: 3 }),
        ]),
      ),
    );
    const keys = [...shares.values()] as KeyShare[];
    for (const k of keys) expect(k.publicKey).toEqual(keys[0]!.publicKey);
    // Exported key shares round-trip through the versioned format.
    for (const k of keys) expect(importKeyShare(exportKeyShare(k))).toEqual(k);
  });

  it('a signing session saved before start() restores and signs with fresh nonces', () => {
    const shares = runDkg('secp256k1', [1, 2, 3], 2, 'restart-sign');
    const message = new Uint8Array(32).fill(7);
    const sessions = new Map(
      [1, 2].map((me) => [
        me,
        resumeSession<SignatureResult>(
          sign({
            sid: sid('restart-sign'),
            keyShare: shares.get(me)!,
            signers: [1, 2],
            message,
          }).toBytes(),
        ),
      ]),
    );
    const out = runSessions(sessions);
    expect(out.errors.size).toBe(0);
    const r = out.results.get(1)!;
    expect(schnorr.verify(r.signature, message, r.publicKey)).toBe(true);
  });
  it('outgoing() resends the last round unchanged; early next-round messages are buffered', () => {
    const parties = [1, 2, 3];
    const s = new Map(
      parties.map((me) => [
        me,
        dkg({ curve: 'secp256k1', sid: sid('resend'), parties, me, threshold: 3 }),
      ]),
    );
    const r1 = new Map(parties.map((p) => [p, s.get(p)!.start()]));
    expect(s.get(1)!.outgoing()).toEqual(r1.get(1));
    // Parties 2 and 3 finish round 1 among themselves and send round 2 to party 1 early.
    const toBytes = (m: ProtocolMessage) => encodeMessage(m);
    const r2 = new Map<number, ProtocolMessage[]>();
    for (const p of [2, 3]) {
      const out: ProtocolMessage[] = [];
      for (const q of parties.filter((x) => x !== p))
        for (const m of r1.get(q)!) out.push(...s.get(p)!.receive(toBytes(m)));
      r2.set(p, out);
    }
    const p1 = s.get(1)!;
    for (const p of [2, 3])
      for (const m of r2.get(p)!)
        if (m.to === 'broadcast' || m.to === 1) expect(p1.receive(toBytes(m))).toEqual([]);
    expect(p1.currentRound).toBe(1);
    // Round-1 messages complete round 1; the buffered round-2 ones complete round 2 at once.
    const out: ProtocolMessage[] = [];
    for (const p of [2, 3]) for (const m of r1.get(p)!) out.push(...p1.receive(toBytes(m)));
    expect(p1.currentRound).toBe(3);
    expect(out.map((m) => m.round)).toEqual([2, 2, 2, 3]);
  });

  it('a failed session stays failed after restore and rethrows its error', () => {
    const parties = [1, 2];
    const a = dkg({ curve: 'ed25519', sid: sid('fail'), parties, me: 1, threshold: 2 });
    const b = dkg({ curve: 'ed25519', sid: sid('fail'), parties, me: 2, threshold: 2 });
    const [a1] = a.start();
    const [b1] = b.start();
    a.receive(encodeMessage(b1!));
    const [opening] = b.receive(encodeMessage(a1!)).filter((x) => x.to === 'broadcast');
    const bad = { ...opening!, payload: opening!.payload.subarray(1) }; // truncated: malformed
    expect(() => a.receive(encodeMessage(bad))).toThrow(expect.objectContaining({ culprit: 2 }));
    expect(a.status).toBe('failed');
    const restored = resumeSession(a.toBytes());
    expect(restored.status).toBe('failed');
    expect(() => restored.receive(encodeMessage(bad))).toThrow(
      expect.objectContaining({ culprit: 2 }),
    );
    expect(() => restored.result()).toThrow();
  });
});

describe('FROST signing nonces are never persisted (nonce-reuse regression)', () => {
  const shares = runDkg('ed25519', [1, 2, 3], 3, 'nonce-reuse');
  const message = new TextEncoder().encode('pay 1 SOL');
  const start = (label: string) => {
    const sessions = new Map(
      [1, 2, 3].map((me) => [
        me,
        sign({ sid: sid(label), keyShare: shares.get(me)!, signers: [1, 2, 3], message }),
      ]),
    );
    const round1 = new Map([...sessions].map(([p, s]) => [p, s.start()]));
    return { sessions, round1 };
  };

  it('a state saved after round 1 is refused on every restore: ERR_MPC_NONCE_REUSE', () => {
    // The reviewer's attack: restore the same post-commitment state twice, feed each copy other
    // round-1 commitments, collect two shares under one (d, e). Both restores are refused.
    const { sessions } = start('nonce-reuse-r1');
    const saved = sessions.get(1)!.toBytes();
    for (let attempt = 0; attempt < 2; attempt++)
      expect(() => resumeSession(saved)).toThrow(
        expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }),
      );
    // The live session is unaffected and still signs.
    const out = runSessions(new Map([...sessions]), undefined);
    expect(out.errors.size).toBe(0);
  });

  it('a state saved after round 2 resends the same share, holds no secret, and completes', () => {
    const { sessions, round1 } = start('nonce-reuse-r2');
    const p1 = sessions.get(1)!;
    let round2: ProtocolMessage[] = [];
    for (const p of [2, 3]) for (const m of round1.get(p)!) round2 = p1.receive(encodeMessage(m));
    expect(p1.currentRound).toBe(2);
    expect(round2).toHaveLength(1);
    const saved = p1.toBytes();
    // Nothing secret is left in it: neither the long-term signing share nor the nonces.
    const secretHex = Buffer.from(shares.get(1)!.signingShare).toString('hex');
    expect(Buffer.from(saved).toString('hex')).not.toContain(secretHex);
    // Restored twice, each copy resends exactly the share that was already sent.
    const a = resumeSession<SignatureResult>(saved);
    const b = resumeSession<SignatureResult>(saved);
    expect(a.outgoing()).toEqual(round2);
    expect(b.outgoing()).toEqual(round2);
    // The copy completes with the other signers' round-2 messages.
    const others = new Map<number, ProtocolMessage[]>();
    for (const p of [2, 3]) {
      const s = sessions.get(p)!;
      const out: ProtocolMessage[] = [];
      for (const q of [1, 2, 3].filter((x) => x !== p))
        for (const m of q === 1 ? round1.get(1)! : round1.get(q)!)
          out.push(...s.receive(encodeMessage(m)));
      others.set(p, out);
    }
    for (const p of [2, 3]) for (const m of others.get(p)!) a.receive(encodeMessage(m));
    expect(a.status).toBe('done');
    const r = a.result();
    expect(ed25519.verify(r.signature, message, r.publicKey, { zip215: false })).toBe(true);
  });

  it('a copy saved before start() and restored after it commits anew; peers refuse it as equivocation', () => {
    // Only the pre-start state restores; its start() draws new nonces, so the worst a stale
    // copy can do is send a second, different commitment, which peers refuse.
    const { sessions, round1 } = start('nonce-reuse-forged');
    const created = sign({
      sid: sid('nonce-reuse-forged'),
      keyShare: shares.get(1)!,
      signers: [1, 2, 3],
      message,
    });
    const fresh = created.toBytes(); // status created, protocol phase fresh
    const restored = resumeSession(fresh);
    const again = restored.start(); // draws new nonces: a different commitment
    expect(again[0]!.payload).not.toEqual(round1.get(1)![0]!.payload);
    // Peers that already saw the first commitment refuse the second one (equivocation).
    expect(() => sessions.get(2)!.receive(encodeMessage(round1.get(1)![0]!))).not.toThrow();
    expect(() => sessions.get(2)!.receive(encodeMessage(again[0]!))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_DUPLICATE_MESSAGE', culprit: 1 }),
    );
  });
});

describe('Session.restore validates what it reads', () => {
  const parties = [1, 2, 3];
  const make = () =>
    new Map(
      parties.map((me) => [
        me,
        dkg({ curve: 'ed25519', sid: sid('restore-checks'), parties, me, threshold: 3 }),
      ]),
    );
  /** Offset of the status byte: magic, protocol, sid, parties, me. */
  const statusOffset = (s: Session<unknown>) =>
    4 + 1 + s.protocolId.length + 1 + s.sid.length + 1 + 2 * s.parties.length + 2;
  const malformed = expect.objectContaining({ code: 'ERR_MPC_MALFORMED' });

  it('refuses a round that does not fit the status or the protocol', () => {
    const s = make().get(1)!;
    s.start();
    const bytes = s.toBytes();
    const at = statusOffset(s) + 1;
    expect(bytes[at]).toBe(1);
    expect(resumeSession(bytes).currentRound).toBe(1);
    for (const round of [0, 4, 200]) {
      const bad = bytes.slice();
      bad[at] = round;
      expect(() => resumeSession(bad)).toThrow(malformed);
    }
    const created = make().get(1)!.toBytes();
    const bad = created.slice();
    bad[statusOffset(s) + 1] = 1; // "created" in round 1
    expect(() => resumeSession(bad)).toThrow(malformed);
  });

  it('refuses buffered messages from a sender outside the session, or from myself', () => {
    const sessions = make();
    const s = sessions.get(1)!;
    s.start();
    const [m2] = sessions.get(2)!.start();
    s.receive(encodeMessage(m2!)); // buffered: round 1 is not complete yet
    const bytes = s.toBytes();
    // status, round, no failure, seen count + one digest, inbox count, round, kind, from
    const from = statusOffset(s) + 2 + 1 + 2 + 32 + 2 + 2;
    expect([bytes[from], bytes[from + 1]]).toEqual([0, 2]);
    expect(resumeSession(bytes).status).toBe('running');
    for (const sender of [1, 9]) {
      const bad = bytes.slice();
      bad[from + 1] = sender;
      expect(() => resumeSession(bad)).toThrow(malformed);
    }
    const wrongRound = bytes.slice();
    wrongRound[from - 2] = 3; // a round-3 message buffered in round 1
    expect(() => resumeSession(wrongRound)).toThrow(malformed);
  });

  it('refuses an error code this package does not emit', () => {
    const a = dkg({ curve: 'ed25519', sid: sid('bad-code'), parties: [1, 2], me: 1, threshold: 2 });
    a.start();
    const other = dkg({
      curve: 'ed25519',
      sid: sid('bad-code'),
      parties: [1, 2],
      me: 2,
      threshold: 2,
    });
    const [m] = other.start();
    expect(() => a.receive(encodeMessage({ ...m!, payload: m!.payload.subarray(1) }))).toThrow();
    expect(a.status).toBe('failed');
    const bytes = a.toBytes();
    const text = Buffer.from(bytes).toString('latin1');
    const at = text.indexOf('ERR_MPC_MALFORMED');
    expect(at).toBeGreaterThan(0);
    expect(resumeSession(bytes).error?.code).toBe('ERR_MPC_MALFORMED');
    const bad = bytes.slice();
    bad.set(new TextEncoder().encode('ERR_MPC_MALFORMEZ'), at);
    expect(() => resumeSession(bad)).toThrow(malformed);
  });

  it('reads v2 states; refuses failure evidence a protocol has no loader for', () => {
    const s = make().get(1)!;
    s.start();
    const v3 = s.toBytes();
    expect(Buffer.from(v3.subarray(0, 4)).toString('latin1')).toBe('CSS3');
    // Without a failure, v2 and v3 have the same layout: a v2 state of a running DKG loads.
    const v2 = v3.slice();
    v2[3] = 0x32;
    expect(resumeSession(v2).currentRound).toBe(1);
    const bad = v3.slice();
    bad[3] = 0x31; // v1 (could hold FROST nonces) stays refused
    expect(() => resumeSession(bad)).toThrow(malformed);

    const a = dkg({ curve: 'ed25519', sid: sid('evidence'), parties: [1, 2], me: 1, threshold: 2 });
    a.start();
    const [m] = dkg({
      curve: 'ed25519',
      sid: sid('evidence'),
      parties: [1, 2],
      me: 2,
      threshold: 2,
    }).start();
    expect(() => a.receive(encodeMessage({ ...m!, payload: m!.payload.subarray(1) }))).toThrow();
    const failed = a.toBytes();
    // The failure record ends with a 4-byte evidence length: 0 for a FROST error.
    const text = Buffer.from(failed).toString('latin1');
    const at = text.indexOf('ERR_MPC_MALFORMED') + 'ERR_MPC_MALFORMED'.length + 2 + 1;
    expect([...failed.subarray(at, at + 4)]).toEqual([0, 0, 0, 0]);
    expect(resumeSession(failed).error?.code).toBe('ERR_MPC_MALFORMED');
    const withEvidence = Uint8Array.from([
      ...failed.subarray(0, at),
      0,
      0,
      0,
      1,
      7,
      ...failed.subarray(at + 4),
    ]);
    expect(() => resumeSession(withEvidence)).toThrow(malformed);
  });
});
