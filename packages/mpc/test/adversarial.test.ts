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

const dkgSessions = (curve: CurveName, label: string) =>
  new Map(
    PARTIES.map((me) => [me, dkg({ curve, sid: sid(label), parties: PARTIES, me, threshold: 2 })]),
  );

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
        p[2 * P] = (p[2 * P] ?? 0) ^ 0xff;
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
      expect(PARTIES).toContain(e.culprit);
    }
    expect(out.errors.size).toBe(0);
    expect(out.results.size).toBe(3);

    // Same session, a message replayed after its round: identical → ignored; altered → wrong round.
    const again = dkgSessions(curve, 'replay');
    const firstRound: ProtocolMessage[] = [];
    const out2 = runSessions(again, (m) => {
      if (m.round === 1) firstRound.push(m);
      return m;
    });
    expect(out2.results.size).toBe(3);
    const m = firstRound.find((x) => x.from === 2)!;
    const s1 = again.get(1)!;
    const fresh = dkgSessions(curve, 'replay-2');
    const live = fresh.get(1)!;
    live.start();
    const wrongRound = { ...m, sid: live.sid, round: 3 };
    expect(() => live.receive(encodeMessage(wrongRound))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_WRONG_ROUND', culprit: 2 }),
    );
    expect(live.status).toBe('running');
    expect(s1.status).toBe('done');
  });
});

describe('party indices', () => {
  it('duplicate identifier → ERR_MPC_DUPLICATE_PARTY naming it; zero → ERR_MPC_INVALID_PARTY', () => {
    expect(() =>
      dkg({ curve: 'ed25519', sid: sid('dup'), parties: [1, 2, 2], me: 1, threshold: 2 }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_DUPLICATE_PARTY', culprit: 2 }));
    expect(() =>
      dkg({ curve: 'secp256k1', sid: sid('zero'), parties: [0, 1, 2], me: 1, threshold: 2 }),
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
      expect.objectContaining({ code: 'ERR_MPC_INVALID_PARTY', culprit: 9 }),
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

  it('inconsistent broadcast: party 3 shows party 2 other nonce commitments → ERR_MPC_INCONSISTENT_BROADCAST, party 3', () => {
    const other = (
      curve === 'ed25519' ? ed25519.Point.BASE.multiply(5n) : secp256k1.Point.BASE.multiply(5n)
    ).toBytes();
    const out = runSessions(
      signSessions('equivocate'),
      onlyFrom(3, 1, 'broadcast', (m, to) => {
        if (to !== 2) return m.payload;
        const p = m.payload.slice();
        p.set(other, 32 + P); // binding commitment
        return p;
      }),
    );
    expectCulprit(out, [1, 2], 'ERR_MPC_INCONSISTENT_BROADCAST', 3);
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
});
