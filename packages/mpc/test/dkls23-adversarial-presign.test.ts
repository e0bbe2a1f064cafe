// DKLs23 presigning under attack, on one trusted-dealer 2-of-3 share set (two signers
// wherever two show the same thing): one test per check (KOS, μ, Γu, Γv, Σ pk = X, R ≠ O,
// commitment opening), each naming the banned party; a failed OT-extension or RVOLE check
// destroys both OT setups with the banned party (reported in the error, kept with the failed
// session's state, applied to a stored key share by applyDkls23Ban, and any later presign with
// that party is refused). Messages of another session or pair direction are refused. The
// review's appendix A (one sid twice) and B (restore and answer another round 1) run as
// regression tests: the secret can no longer be extracted (review 2026-11-24, C1, C2, H2, M1).
import { beforeEach, describe, expect, it } from 'vitest';
import { commit } from '../src/commitment.js';
import { secp256k1Suite } from '../src/curve-suite.js';
import { dkls23Hasher, dkls23ProtocolIds, modQ } from '../src/dkls23/hashing.js';
import { decodeAliceMessage, RVOLE_ALICE_MESSAGE_LENGTH } from '../src/dkls23/rvole.js';
import {
  applyDkls23Ban,
  Dkls23CheckError,
  dkls23Presign,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  MpcError,
  NonDurablePresignSessionRegistry,
  resumeSession,
  shareSetId,
  type Dkls23Check,
  type Dkls23KeyShare,
  type Dkls23Presignature,
  type MpcErrorCode,
  type ProtocolMessage,
  type RandomSource,
  type Session,
} from '../src/index.js';
import { encodeMessage } from '../src/message.js';
import { dkls23PresignForTesting, presignContext } from '../src/test-hooks.js';
import { broadcastDigest } from '../src/transcript.js';
import { runSessions, seededRandom, type RunOutcome, type Tamper } from './helpers.js';
import { deliver, freshSid, testRegistry } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const NONCE = 32;
const RVOLE = RVOLE_ALICE_MESSAGE_LENGTH; // n_A ‖ τ ‖ η ‖ μ
const suite = secp256k1Suite;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Independent copies, so a destroyed setup in one test does not leak into the next. */
function copies(shares: Map<number, Dkls23KeyShare>): Map<number, Dkls23KeyShare> {
  return new Map([...shares].map(([i, s]) => [i, importDkls23KeyShare(exportDkls23KeyShare(s))]));
}

async function sessionsFor(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
  id: Uint8Array,
  random?: Map<number, RandomSource>,
  registry = testRegistry,
): Promise<Map<number, Session<Dkls23Presignature>>> {
  const sessions = new Map<number, Session<Dkls23Presignature>>();
  for (const me of signers) {
    const params = { sid: id, keyShare: shares.get(me)!, signers, registry };
    const fixed = random?.get(me);
    sessions.set(
      me,
      await (fixed === undefined
        ? dkls23Presign(params)
        : dkls23PresignForTesting(params, { random: fixed })),
    );
  }
  return sessions;
}

async function run(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
  tamper: Tamper,
  id = freshSid('adv'),
  random?: Map<number, RandomSource>,
): Promise<RunOutcome<Dkls23Presignature> & { sessions: Map<number, Session<unknown>> }> {
  const sessions = await sessionsFor(shares, signers, id, random);
  return { ...runSessions(sessions, tamper), sessions };
}

const edit =
  (from: number, to: number | 'broadcast', round: number, f: (p: Uint8Array) => void): Tamper =>
  (m: ProtocolMessage, recipient) => {
    if (
      m.from !== from ||
      m.round !== round ||
      (to === 'broadcast' ? m.to !== 'broadcast' : m.to !== to)
    )
      return m;
    if (to === 'broadcast' && recipient !== 1) return m;
    const payload = m.payload.slice();
    f(payload);
    return { ...m, payload };
  };

function expectBan<R>(
  out: RunOutcome<R>,
  honest: number,
  code: MpcErrorCode,
  check: Dkls23Check,
  banned: number,
): Dkls23CheckError {
  const e = out.errors.get(honest);
  expect(e).toBeInstanceOf(Dkls23CheckError);
  expect(e).toMatchObject({ code, check, banned, culprit: banned });
  expect(out.results.has(honest)).toBe(false);
  return e as Dkls23CheckError;
}

const destroyedFlags = (share: Dkls23KeyShare, j: number) => {
  const pair = share.pairs.find((p) => p.party === j)!;
  return [pair.otSender.destroyed, pair.otReceiver.destroyed];
};

/** The v2 ("CSS2") encoding of a failed v3 session state: the same without the evidence. */
function asVersion2(state: Uint8Array, protocol: string, sidLength: number, parties: number) {
  let at = 4 + 1 + protocol.length + 1 + sidLength + 1 + 2 * parties + 2 + 2; // … status, round
  expect(state[at]).toBe(1); // has a failure
  at += 1;
  at += 1 + state[at]!; // code
  at += 2; // culprit
  at += 1 + 2 * state[at]!; // suspects
  const evidenceLength = new DataView(state.buffer, state.byteOffset + at, 4).getUint32(0);
  const v2 = Uint8Array.from([
    ...state.subarray(0, at),
    ...state.subarray(at + 4 + evidenceLength),
  ]);
  v2[3] = 0x32; // "CSS2"
  return v2;
}

describe('DKLs23 presigning adversarial (2-of-3 share set)', () => {
  let base: Map<number, Dkls23KeyShare>;
  // Trusted-dealer shares (correlated OT setups as the base OTs make them): every check here is
  // a presigning check; the DKG's own checks are in dkls23-adversarial-dkg.test.ts. A share set
  // per test: a failed OT check bans its pair in the process-wide table (review 2026-11-27, F1),
  // which no copy of that share set escapes.
  beforeEach(() => {
    base = dealDkls23Shares([1, 2, 3], 2);
  });

  it('KOS check: party 2 probes Δ with an inconsistent column → banned party 2, both setups with 2 destroyed', async () => {
    const shares = copies(base);
    const stored = exportDkls23KeyShare(shares.get(1)!); // the co-signer's durable copy
    const out = await run(
      shares,
      [1, 2],
      edit(2, 1, 1, (p) => {
        p[NONCE + 3] = (p[NONCE + 3] ?? 0) ^ 1; // one bit of U, after n_B
      }),
    );
    const e = expectBan(out, 1, 'ERR_MPC_OT_CHECK', 'kos', 2);
    expect(e.otSetupDestroyed).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(destroyedFlags(shares.get(1)!, 2)).toEqual([true, true]);
    expect(destroyedFlags(shares.get(1)!, 3)).toEqual([false, false]);
    // Persisted in the key share, and refused from then on.
    const reloaded = importDkls23KeyShare(exportDkls23KeyShare(shares.get(1)!));
    expect(destroyedFlags(reloaded, 2)).toEqual([true, true]);
    await expect(
      dkls23Presign({
        sid: freshSid(),
        keyShare: reloaded,
        signers: [1, 2],
        registry: testRegistry,
      }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_OT_SETUP_DESTROYED', culprit: 2 });

    // H2, restored-session path: the failed session's bytes keep check and destroyed setups.
    const failedState = out.sessions.get(1)!.toBytes();
    const restored = resumeSession(failedState);
    expect(restored.status).toBe('failed');
    expect(restored.error).toBeInstanceOf(Dkls23CheckError);
    expect(restored.error).toMatchObject({
      code: 'ERR_MPC_OT_CHECK',
      check: 'kos',
      banned: 2,
      culprit: 2,
      otSetupDestroyed: [
        [1, 2],
        [2, 1],
      ],
    });
    // The stored copy never saw the ban: applyDkls23Ban marks it from the session bytes …
    const fromStorage = importDkls23KeyShare(stored);
    expect(destroyedFlags(fromStorage, 2)).toEqual([false, false]);
    expect(applyDkls23Ban(fromStorage, failedState)).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(destroyedFlags(fromStorage, 2)).toEqual([true, true]);
    expect(fromStorage.pairs.find((p) => p.party === 2)!.otSender.delta.every((b) => b === 0)).toBe(
      true,
    );
    await expect(
      dkls23Presign({
        sid: freshSid(),
        keyShare: importDkls23KeyShare(exportDkls23KeyShare(fromStorage)),
        signers: [1, 2],
        registry: testRegistry,
      }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_OT_SETUP_DESTROYED', culprit: 2 });
    // … or from the error object, and from a v2 state (no evidence: culprit only, both ways).
    const viaError = importDkls23KeyShare(stored);
    expect(applyDkls23Ban(viaError, restored.error!)).toHaveLength(2);
    expect(destroyedFlags(viaError, 2)).toEqual([true, true]);
    const v2 = asVersion2(failedState, dkls23ProtocolIds.presign, 32, 2);
    const legacy = resumeSession(v2).error;
    expect(legacy).not.toBeInstanceOf(Dkls23CheckError);
    expect(legacy).toMatchObject({ code: 'ERR_MPC_OT_CHECK', culprit: 2 });
    const viaV2 = importDkls23KeyShare(stored);
    expect(applyDkls23Ban(viaV2, v2)).toHaveLength(2);
    expect(destroyedFlags(viaV2, 2)).toEqual([true, true]);
    expect(destroyedFlags(viaV2, 3)).toEqual([false, false]);
    // Not party 1's session: refused rather than applied to the wrong key share.
    expect(() =>
      applyDkls23Ban(importDkls23KeyShare(exportDkls23KeyShare(base.get(3)!)), failedState),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
  });

  it('μ check: party 3 shifts one τ (a probe of β) → banned party 3, both setups with 3 destroyed', async () => {
    const shares = copies(base);
    const out = await run(
      shares,
      [1, 3],
      edit(3, 1, 2, (p) => {
        p[NONCE + 63] = (p[NONCE + 63] ?? 0) ^ 1; // τ_1[2], after n_A
      }),
    );
    const e = expectBan(out, 1, 'ERR_MPC_OT_CHECK', 'mu', 3);
    expect(e.otSetupDestroyed).toEqual([
      [1, 3],
      [3, 1],
    ]);
    expect(destroyedFlags(shares.get(1)!, 3)).toEqual([true, true]);
    const restored = resumeSession(out.sessions.get(1)!.toBytes()).error;
    expect(restored).toMatchObject({ check: 'mu', banned: 3 });
  });

  it('Γu check: party 2 sends a wrong Γu → banned party 2, setups kept', async () => {
    const shares = copies(base);
    const out = await run(
      shares,
      [1, 2],
      edit(2, 1, 2, (p) => p.set(suite.G.toBytes(), RVOLE)),
    );
    expectBan(out, 1, 'ERR_MPC_CONSISTENCY_CHECK', 'gamma-u', 2);
    // A Γ failure does not endanger the OT setups: the ban helper changes nothing.
    const state = out.sessions.get(1)!.toBytes();
    expect(resumeSession(state).error).toMatchObject({ check: 'gamma-u', banned: 2 });
    expect(applyDkls23Ban(shares.get(1)!, state)).toEqual([]);
    expect(destroyedFlags(shares.get(1)!, 2)).toEqual([false, false]);
  });

  it('Γv check: party 3 sends a wrong Γv → banned party 3', async () => {
    const out = await run(
      copies(base),
      [1, 3],
      edit(3, 1, 2, (p) => p.set(suite.G.toBytes(), RVOLE + 33)),
    );
    expectBan(out, 1, 'ERR_MPC_CONSISTENCY_CHECK', 'gamma-v', 3);
  });

  it('commitment opening: party 2 opens a different R_2 → ERR_MPC_COMMITMENT_MISMATCH, party 2', async () => {
    const out = await run(
      copies(base),
      [1, 2],
      // The confirmation round's broadcast starts with the echo: 2 × 32 bytes.
      edit(2, 'broadcast', 2, (p) => p.set(suite.G.toBytes(), 64 + 33)),
    );
    const e = out.errors.get(1);
    expect(e).toBeInstanceOf(MpcError);
    expect(e).toMatchObject({ code: 'ERR_MPC_COMMITMENT_MISMATCH', culprit: 2 });
  });

  it('Σ pk = X, two signers: party 3 uses another zero-share seed consistently → banned party 3', async () => {
    const shares = copies(base);
    const pair = shares.get(3)!.pairs.find((p) => p.party === 1)!;
    pair.zeroSeed[0] = (pair.zeroSeed[0] ?? 0) ^ 1; // its sk_3 and pk_3 agree, but Σ ≠ X
    const out = await run(shares, [1, 3], (m) => m);
    expectBan(out, 1, 'ERR_MPC_PUBLIC_KEY_MISMATCH', 'sum-pk', 3);
  });

  it('Σ pk = X with three signers: no single culprit, the other two are suspects', async () => {
    const shares = copies(base);
    const pair = shares.get(3)!.pairs.find((p) => p.party === 1)!;
    pair.zeroSeed[0] = (pair.zeroSeed[0] ?? 0) ^ 1;
    const out = await run(shares, [1, 2, 3], (m) => m);
    const e = out.errors.get(2);
    expect(e).toBeInstanceOf(Dkls23CheckError);
    expect(e).toMatchObject({ code: 'ERR_MPC_PUBLIC_KEY_MISMATCH', check: 'sum-pk' });
    expect(e?.culprit).toBeUndefined();
    expect(e?.suspects).toEqual([1, 3]);
    expect(out.results.size).toBe(0);
    // The suspects survive a restart too.
    expect(resumeSession(out.sessions.get(2)!.toBytes()).error).toMatchObject({
      check: 'sum-pk',
      banned: undefined,
      suspects: [1, 3],
    });
  });

  it('R ≠ O: party 3 commits to R_3 = −R_1 → banned party 3', async () => {
    const shares = copies(base);
    const id = freshSid('r-zero');
    // Party 1's randomness is fixed (test-only parameter) so the attacker can aim at its R_1,
    // the first value start() draws.
    const r1 = suite.randomScalar(seededRandom('r-zero'));
    const minusR1 = suite.G.multiply(r1).negate().toBytes();
    const ctx = presignContext(id, shareSetId(shares.get(1)!));
    const salt = new Uint8Array(32).fill(3);
    const com = commit(dkls23Hasher, ctx, 3, minusR1, () => salt.slice()).commitment;
    const out = await run(
      shares,
      [1, 3],
      (m) => {
        if (m.from !== 3 || m.to !== 'broadcast') return m;
        if (m.round === 1) return { ...m, payload: com };
        const p = m.payload.slice();
        // A malicious party 3 echoes its own (fake) round-1 broadcast consistently.
        const log = new Map([[1, new Map([[3, com]])]]);
        p.set(broadcastDigest(dkls23ProtocolIds.presign, id, 3, log, 2), 32);
        p.set(minusR1, 64 + 33); // after the echo (2 × 32) and pk_3
        p.set(salt, 64 + 66);
        return { ...m, payload: p };
      },
      id,
      new Map([[1, seededRandom('r-zero')]]),
    );
    expectBan(out, 1, 'ERR_MPC_CONSISTENCY_CHECK', 'r-not-zero', 3);
  });

  it('a message from another session, or for another pair direction, is refused', async () => {
    const shares = copies(base);
    const id = freshSid('this');
    const signers = [1, 2, 3];
    const create = async (me: number, sid: Uint8Array) =>
      dkls23Presign({ sid, keyShare: shares.get(me)!, signers, registry: testRegistry });
    const foreign = await create(2, freshSid('other'));
    const foreignToOne = foreign.start().find((m) => m.to === 1)!;
    const mine = await create(1, id);
    mine.start();
    expect(() => mine.receive(encodeMessage(foreignToOne))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_WRONG_SESSION' }),
    );
    // Party 2's extension message for the pair (3 → 2), re-addressed to party 1: recipient
    // check first; relabelled as for party 1, it fails the KOS check (its sid_pair is 3→2's).
    const two = await create(2, id);
    const toThree = two.start().find((m) => m.to === 3)!;
    expect(() => mine.receive(encodeMessage(toThree))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_WRONG_RECIPIENT' }),
    );
    expect(mine.status).toBe('running');
    const out = await run(
      shares,
      [1, 2, 3],
      (m) => (m.from === 2 && m.round === 1 && m.to === 1 ? { ...m, payload: toThree.payload } : m),
      freshSid('relabelled'),
    );
    expect(out.errors.get(1)).toMatchObject({ check: 'kos', banned: 2 });
  });

  // Review appendix A: party 3 gets party 1 to presign twice under one sid and solves
  // τ + τ' = −(α + α') for α = (r_1, sk_1, â) on the rows where its choice bits changed.
  it('appendix A (C1): a second presign under a claimed sid is refused (ERR_MPC_SID_REUSED)', async () => {
    const id = freshSid('sid-reuse');
    await sessionsFor(base, [1, 3], id);
    await expect(
      dkls23Presign({ sid: id, keyShare: base.get(1)!, signers: [1, 3], registry: testRegistry }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_SID_REUSED' });
    // Another signing set does not make the same sid usable again.
    await expect(
      dkls23Presign({ sid: id, keyShare: base.get(1)!, signers: [1, 2], registry: testRegistry }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_SID_REUSED' });
    // A registry that resolves anything but true is a refusal (fail closed).
    const broken = { claim: () => Promise.resolve(undefined as unknown as boolean) };
    await expect(
      dkls23Presign({ sid: freshSid(), keyShare: base.get(1)!, signers: [1, 3], registry: broken }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_SID_REUSED' });
  });

  it('appendix A (C1), claim bypassed: two runs under one sid no longer reveal sk_1', async () => {
    const id = freshSid('sid-reuse-bypassed');
    const captured: { tau: bigint[]; pk: Uint8Array }[] = [];
    for (let run = 0; run < 2; run++) {
      // A registry that forgot its claims (the case C1's nonces defend).
      const sessions = await sessionsFor(
        base,
        [1, 3],
        id,
        undefined,
        new NonDurablePresignSessionRegistry(),
      );
      let tau: bigint[] | undefined;
      let pk: Uint8Array | undefined;
      const out = runSessions(sessions, (m) => {
        if (m.from === 1 && m.round === 2 && m.to === 3)
          tau = decodeAliceMessage(m.payload.subarray(0, RVOLE), 1).tau;
        if (m.from === 1 && m.round === 2 && m.to === 'broadcast')
          pk = m.payload.slice(64, 64 + 33); // after the echo: pk_1 ‖ R_1 ‖ salt
        return m;
      });
      expect(out.errors.size).toBe(0);
      captured.push({ tau: tau!, pk: pk! });
    }
    const [a, b] = captured as [(typeof captured)[0], (typeof captured)[0]];
    // The attack's precondition holds: party 1 used the same sk_1 (same sid, same S) twice.
    expect(hex(a.pk)).toBe(hex(b.pk));
    const pk1 = suite.decodePoint(a.pk);
    const half = suite.inv(2n);
    let rows = 0;
    for (let k = 0; k < 512; k++) {
      const [x, y] = [a.tau[3 * k + 1]!, b.tau[3 * k + 1]!];
      // Before the fix: equal on ~half the rows, and −(x + y)/2 = sk_1 on the others.
      expect(x).not.toBe(y);
      const candidate = modQ(-(x + y) * half);
      if (candidate !== 0n && suite.G.multiplyUnsafe(candidate).equals(pk1)) rows++;
    }
    expect(rows).toBe(0);
  });

  // Review appendix B: party 1 is saved after start(), run once, restored, and fed a different
  // (honest) round 1; with the seed in the state it re-derived r_1, sk_1, â and leaked them.
  it('appendix B (C2): a presigning state saved after start() does not restore', async () => {
    const id = freshSid('restore');
    const sessions = await sessionsFor(base, [1, 3], id);
    const first = [...sessions.values()].flatMap((s) => s.start());
    const saved = sessions.get(1)!.toBytes();
    // Nothing secret is in it: not the key share, not a seed — the phase only.
    for (const secret of [base.get(1)!.signingShare, base.get(1)!.pairs[0]!.zeroSeed])
      expect(hex(saved)).not.toContain(hex(secret));
    deliver(sessions, first);
    expect(sessions.get(1)!.status).toBe('done');
    expect(() => resumeSession(saved)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }),
    );
  });
});
