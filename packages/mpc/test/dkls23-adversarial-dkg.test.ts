// DKLs23 key generation under attack: one test per check of the DKG (parameter digest,
// commitment opening, proof of knowledge, Feldman share, transcript hash), each naming the party
// at fault; no honest party outputs a key share. Two parties keep the base OTs cheap; the checks
// are the same for n > 2. Parameter disagreements (review 2026-11-24, C3/H1) must end in round 1,
// before any f_i(j) is sent: those tests assert that no round-2 message was emitted at all.
import { describe, expect, it } from 'vitest';
import {
  Dkls23CheckError,
  dkls23Dkg,
  MpcError,
  type MpcErrorCode,
  type ProtocolMessage,
  type Session,
} from '../src/index.js';
import { encodeMessage } from '../src/message.js';
import { runSessions, sid, type RunOutcome, type Tamper } from './helpers.js';

const PARTIES = [1, 2];
const sessions = (label: string) =>
  new Map(
    PARTIES.map((me) => [me, dkls23Dkg({ sid: sid(label), parties: PARTIES, me, threshold: 2 })]),
  );

function onlyFrom(
  from: number,
  round: number,
  kind: 'broadcast' | 'p2p',
  f: (payload: Uint8Array) => Uint8Array,
): Tamper {
  return (m: ProtocolMessage) =>
    m.from === from && m.round === round && (m.to === 'broadcast') === (kind === 'broadcast')
      ? { ...m, payload: f(m.payload.slice()) }
      : m;
}

function expectNamed<R>(out: RunOutcome<R>, honest: number, code: MpcErrorCode, culprit: number) {
  const e = out.errors.get(honest);
  expect(e).toBeInstanceOf(MpcError);
  expect(e?.code).toBe(code);
  expect(e?.culprit).toBe(culprit);
  expect(out.results.has(honest)).toBe(false);
}

const T = 2;
const POINT = 33;

/** Runs the sessions; `sent` holds every message any party emitted (before tampering). */
function runRecorded<R>(s: Map<number, Session<R>>, tamper?: Tamper) {
  const sent: ProtocolMessage[] = [];
  const out = runSessions(s, (m, to) => {
    sent.push(m);
    return tamper ? tamper(m, to) : m;
  });
  return { out, sent };
}

describe('DKLs23 DKG parameter disagreement ends in round 1', () => {
  it('a changed parameter digest in round 1 → ERR_MPC_CONTEXT_MISMATCH, party 2; no share sent', () => {
    const { out, sent } = runRecorded(
      sessions('adv-dkg-params'),
      onlyFrom(2, 1, 'broadcast', (p) => {
        p[0] = (p[0] ?? 0) ^ 1; // P heads the round-1 broadcast
        return p;
      }),
    );
    expectNamed(out, 1, 'ERR_MPC_CONTEXT_MISMATCH', 2);
    expect(sent.filter((m) => m.from === 1 && m.round >= 2)).toEqual([]);
  });

  it('a round-1 broadcast cut to the digest alone (a dealer hiding its commitment) → ERR_MPC_MALFORMED', () => {
    const { out, sent } = runRecorded(
      sessions('adv-dkg-nocom'),
      onlyFrom(2, 1, 'broadcast', (p) => p.subarray(0, 32)),
    );
    expectNamed(out, 1, 'ERR_MPC_MALFORMED', 2);
    expect(sent.filter((m) => m.from === 1 && m.round >= 2)).toEqual([]);
  });

  it('a party given another threshold (2-of-3 opt-in vs 3-of-3): both honest parties name it; nobody sends round 2', () => {
    const parties = [1, 2, 3];
    const { out, sent } = runRecorded(
      new Map(
        parties.map((me) => [
          me,
          dkls23Dkg({
            sid: sid('adv-dkg-threshold'),
            parties,
            me,
            ...(me === 2
              ? { threshold: 2, allowThresholdBelowPartyCount: true }
              : { threshold: 3 }),
          }),
        ]),
      ),
    );
    for (const honest of [1, 3]) expectNamed(out, honest, 'ERR_MPC_CONTEXT_MISMATCH', 2);
    expect(sent.filter((m) => m.round >= 2)).toEqual([]);
  });

  it('a party given other options only (same t = n, opt-out set) is named too', () => {
    const { out, sent } = runRecorded(
      new Map(
        PARTIES.map((me) => [
          me,
          dkls23Dkg({
            sid: sid('adv-dkg-options'),
            parties: PARTIES,
            me,
            threshold: 2,
            ...(me === 1 ? { allowThresholdBelowPartyCount: true } : {}),
          }),
        ]),
      ),
    );
    expectNamed(out, 2, 'ERR_MPC_CONTEXT_MISMATCH', 1);
    expect(sent.filter((m) => m.from === 2 && m.round >= 2)).toEqual([]);
  });
});

describe('DKLs23 DKG adversarial', () => {
  it('commitment opening: a changed chain-code contribution → ERR_MPC_COMMITMENT_MISMATCH, party 2', () => {
    const out = runSessions(
      sessions('adv-dkg-com'),
      onlyFrom(2, 2, 'broadcast', (p) => {
        p[T * POINT] = (p[T * POINT] ?? 0) ^ 0xff; // first byte of cc_2, after the commitment
        return p;
      }),
    );
    expectNamed(out, 1, 'ERR_MPC_COMMITMENT_MISMATCH', 2);
  });

  it('proof of knowledge: a forged z → ERR_MPC_INVALID_PROOF, party 1', () => {
    const out = runSessions(
      sessions('adv-dkg-pok'),
      onlyFrom(1, 2, 'broadcast', (p) => {
        p[p.length - 1] = (p[p.length - 1] ?? 0) ^ 1;
        return p;
      }),
    );
    expectNamed(out, 2, 'ERR_MPC_INVALID_PROOF', 1);
  });

  it('Feldman share check: a share off the polynomial → ERR_MPC_INVALID_SHARE, party 2', () => {
    const out = runSessions(
      sessions('adv-dkg-feldman'),
      onlyFrom(2, 2, 'p2p', (p) => {
        p[31] = (p[31] ?? 0) ^ 1; // f_2(1) is the first 32 bytes
        return p;
      }),
    );
    expectNamed(out, 1, 'ERR_MPC_INVALID_SHARE', 2);
  });

  it('transcript mismatch: a different hash of the public outputs → banned party 1', () => {
    const out = runSessions(
      sessions('adv-dkg-transcript'),
      onlyFrom(1, 3, 'broadcast', (p) => {
        // The session's echo (one 32-byte digest per party) comes first, then the hash.
        const at = PARTIES.length * 32;
        p[at] = (p[at] ?? 0) ^ 1;
        return p;
      }),
    );
    expectNamed(out, 2, 'ERR_MPC_INCONSISTENT_BROADCAST', 1);
    const e = out.errors.get(2);
    expect(e).toBeInstanceOf(Dkls23CheckError);
    expect((e as Dkls23CheckError).check).toBe('transcript');
    expect((e as Dkls23CheckError).banned).toBe(1);
  });

  it('messages of another session are refused and do not derail the DKG', () => {
    const other: Uint8Array[] = [];
    const mine = sessions('adv-dkg-this');
    const out = runSessions(mine, (m, to) => {
      if (other.length === 0) {
        const foreign = dkls23Dkg({
          sid: sid('adv-dkg-other'),
          parties: PARTIES,
          me: 2,
          threshold: 2,
        });
        for (const f of foreign.start()) other.push(encodeMessage(f));
      }
      for (const f of other.splice(0))
        expect(() => mine.get(to)!.receive(f)).toThrow(
          expect.objectContaining({ code: 'ERR_MPC_WRONG_SESSION' }),
        );
      return m;
    });
    expect(out.errors.size).toBe(0);
    expect(out.results.size).toBe(2);
  });
});
