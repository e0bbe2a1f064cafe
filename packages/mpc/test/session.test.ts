// Session framework: persistence between rounds (restart), resend, redelivery, buffering, failure.
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
import { runDkg, sid } from './helpers.js';

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
          dkg({ curve: 'ed25519', sid: sid('restart'), parties, me, threshold: 2 }),
        ]),
      ),
    );
    const keys = [...shares.values()] as KeyShare[];
    for (const k of keys) expect(k.publicKey).toEqual(keys[0]!.publicKey);
    // Exported key shares round-trip through the versioned format.
    for (const k of keys) expect(importKeyShare(exportKeyShare(k))).toEqual(k);
  });

  it('a signing session survives restarts between its rounds', () => {
    const shares = runDkg('secp256k1', [1, 2, 3], 2, 'restart-sign');
    const message = new Uint8Array(32).fill(7);
    const sessions = new Map(
      [1, 2].map((me) => [
        me,
        sign({ sid: sid('restart-sign'), keyShare: shares.get(me)!, signers: [1, 2], message }),
      ]),
    );
    const results = runWithRestarts<SignatureResult>(sessions);
    const r = results.get(1)!;
    expect(schnorr.verify(r.signature, message, r.publicKey)).toBe(true);
    expect(results.get(2)).toEqual(r);
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
