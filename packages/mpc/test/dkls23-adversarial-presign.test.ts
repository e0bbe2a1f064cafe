// DKLs23 presigning under attack: one test per check (KOS, μ, Γu, Γv, Σ pk = X, R ≠ O,
// commitment opening), each naming the banned party; a failed OT-extension or RVOLE check
// destroys that pair's OT setup (reported in the error, persisted in the key share, and any
// later presign with it is refused). Messages of another session or pair direction are refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { commit } from '../src/commitment.js';
import { secp256k1Suite } from '../src/curve-suite.js';
import {
  dkls23Hasher,
  dkls23ProtocolIds,
  seededRandom,
  sessionContext,
} from '../src/dkls23/hashing.js';
import {
  Dkls23CheckError,
  dkls23Presign,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  MpcError,
  type Dkls23Check,
  type Dkls23KeyShare,
  type MpcErrorCode,
  type ProtocolMessage,
} from '../src/index.js';
import { encodeMessage } from '../src/message.js';
import { broadcastDigest } from '../src/transcript.js';
import { runSessions, type RunOutcome, type Tamper } from './helpers.js';
import { freshSid, runDkls23Dkg } from './dkls23-helpers.js';

const RVOLE = 512 * 3 * 32 + 64; // τ ‖ η ‖ μ

/** Independent copies, so a destroyed setup in one test does not leak into the next. */
function copies(shares: Map<number, Dkls23KeyShare>): Map<number, Dkls23KeyShare> {
  return new Map([...shares].map(([i, s]) => [i, importDkls23KeyShare(exportDkls23KeyShare(s))]));
}

function run(
  shares: Map<number, Dkls23KeyShare>,
  signers: number[],
  tamper: Tamper,
  id = freshSid('adv'),
  random?: Map<number, (n: number) => Uint8Array>,
) {
  const sessions = new Map(
    signers.map((me) => [
      me,
      dkls23Presign({
        sid: id,
        keyShare: shares.get(me)!,
        signers,
        ...(random?.has(me) ? { random: random.get(me)! } : {}),
      }),
    ]),
  );
  return runSessions(sessions, tamper);
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

describe('DKLs23 presigning adversarial, 3-of-3', () => {
  let base: Map<number, Dkls23KeyShare>;
  beforeAll(() => {
    base = runDkls23Dkg([1, 2, 3], 3, 'adv-presign-3of3');
  });

  it('KOS check: party 2 probes Δ with an inconsistent column → banned party 2, setup 1→2 destroyed', () => {
    const shares = copies(base);
    const out = run(
      shares,
      [1, 2, 3],
      edit(2, 1, 1, (p) => {
        p[3] = (p[3] ?? 0) ^ 1;
      }),
    );
    const e = expectBan(out, 1, 'ERR_MPC_OT_CHECK', 'kos', 2);
    expect(e.otSetupDestroyed).toEqual([[1, 2]]);
    const pair = shares.get(1)!.pairs.find((p) => p.party === 2)!;
    expect(pair.otSender.destroyed).toBe(true);
    // Persisted in the key share, and refused from then on.
    const reloaded = importDkls23KeyShare(exportDkls23KeyShare(shares.get(1)!));
    expect(reloaded.pairs.find((p) => p.party === 2)!.otSender.destroyed).toBe(true);
    expect(() =>
      dkls23Presign({ sid: freshSid(), keyShare: reloaded, signers: [1, 2, 3] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_OT_SETUP_DESTROYED', culprit: 2 }));
  });

  it('μ check: party 3 shifts one τ (a probe of β) → banned party 3, setup 3→1 destroyed', () => {
    const shares = copies(base);
    const out = run(
      shares,
      [1, 2, 3],
      edit(3, 1, 2, (p) => {
        p[63] = (p[63] ?? 0) ^ 1;
      }),
    );
    const e = expectBan(out, 1, 'ERR_MPC_OT_CHECK', 'mu', 3);
    expect(e.otSetupDestroyed).toEqual([[3, 1]]);
    expect(shares.get(1)!.pairs.find((p) => p.party === 3)!.otReceiver.destroyed).toBe(true);
  });

  it('Γu check: party 2 sends a wrong Γu → banned party 2', () => {
    const out = run(
      copies(base),
      [1, 2, 3],
      edit(2, 1, 2, (p) => p.set(secp256k1Suite.G.toBytes(), RVOLE)),
    );
    expectBan(out, 1, 'ERR_MPC_CONSISTENCY_CHECK', 'gamma-u', 2);
  });

  it('Γv check: party 3 sends a wrong Γv → banned party 3', () => {
    const out = run(
      copies(base),
      [1, 2, 3],
      edit(3, 1, 2, (p) => p.set(secp256k1Suite.G.toBytes(), RVOLE + 33)),
    );
    expectBan(out, 1, 'ERR_MPC_CONSISTENCY_CHECK', 'gamma-v', 3);
  });

  it('commitment opening: party 2 opens a different R_2 → ERR_MPC_COMMITMENT_MISMATCH, party 2', () => {
    const out = run(
      copies(base),
      [1, 2, 3],
      // The confirmation round's broadcast starts with the echo: 3 × 32 bytes.
      edit(2, 'broadcast', 2, (p) => p.set(secp256k1Suite.G.toBytes(), 96 + 33)),
    );
    const e = out.errors.get(1);
    expect(e).toBeInstanceOf(MpcError);
    expect(e).toMatchObject({ code: 'ERR_MPC_COMMITMENT_MISMATCH', culprit: 2 });
  });

  it('Σ pk = X with three signers: no single culprit, the other two are suspects', () => {
    const shares = copies(base);
    const pair = shares.get(3)!.pairs.find((p) => p.party === 1)!;
    pair.zeroSeed[0] = (pair.zeroSeed[0] ?? 0) ^ 1;
    const out = run(shares, [1, 2, 3], (m) => m);
    const e = out.errors.get(2);
    expect(e).toBeInstanceOf(Dkls23CheckError);
    expect(e).toMatchObject({ code: 'ERR_MPC_PUBLIC_KEY_MISMATCH', check: 'sum-pk' });
    expect(e?.culprit).toBeUndefined();
    expect(e?.suspects).toEqual([1, 3]);
    expect(out.results.size).toBe(0);
  });

  it('a message from another session, or for another pair direction, is refused', () => {
    const shares = copies(base);
    const id = freshSid('this');
    const foreign = dkls23Presign({
      sid: freshSid('other'),
      keyShare: shares.get(2)!,
      signers: [1, 2, 3],
    });
    const foreignToOne = foreign.start().find((m) => m.to === 1)!;
    const mine = dkls23Presign({ sid: id, keyShare: shares.get(1)!, signers: [1, 2, 3] });
    mine.start();
    expect(() => mine.receive(encodeMessage(foreignToOne))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_WRONG_SESSION' }),
    );
    // Party 2's extension message for the pair (3 → 2), re-addressed to party 1: recipient
    // check first; relabelled as for party 1, it fails the KOS check (its sid_pair is 3→2's).
    const two = dkls23Presign({ sid: id, keyShare: shares.get(2)!, signers: [1, 2, 3] });
    const toThree = two.start().find((m) => m.to === 3)!;
    expect(() => mine.receive(encodeMessage(toThree))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_WRONG_RECIPIENT' }),
    );
    expect(mine.status).toBe('running');
    const out = run(
      shares,
      [1, 2, 3],
      (m) => (m.from === 2 && m.round === 1 && m.to === 1 ? { ...m, payload: toThree.payload } : m),
      id,
    );
    expect(out.errors.get(1)).toMatchObject({ check: 'kos', banned: 2 });
  });
});

describe('DKLs23 presigning adversarial, two signers of a 2-of-3 set', () => {
  let base: Map<number, Dkls23KeyShare>;
  beforeAll(() => {
    base = runDkls23Dkg([1, 2, 3], 2, 'adv-presign-2of3');
  });

  it('Σ pk = X: party 3 uses another zero-share seed consistently → banned party 3', () => {
    const shares = copies(base);
    const pair = shares.get(3)!.pairs.find((p) => p.party === 1)!;
    pair.zeroSeed[0] = (pair.zeroSeed[0] ?? 0) ^ 1; // its sk_3 and pk_3 agree, but Σ ≠ X
    const out = run(shares, [1, 3], (m) => m);
    expectBan(out, 1, 'ERR_MPC_PUBLIC_KEY_MISMATCH', 'sum-pk', 3);
  });

  it('R ≠ O: party 3 commits to R_3 = −R_1 → banned party 3', () => {
    const shares = copies(base);
    const id = freshSid('r-zero');
    // Party 1's randomness is fixed so the attacker can aim at its R_1.
    const seed = new Uint8Array(32).fill(7);
    const r1 = secp256k1Suite.randomScalar(seededRandom(seed, 'r'));
    const minusR1 = secp256k1Suite.G.multiply(r1).negate().toBytes();
    const ctx = sessionContext(dkls23ProtocolIds.presign, id);
    const salt = new Uint8Array(32).fill(3);
    const com = commit(dkls23Hasher, ctx, 3, minusR1, () => salt.slice()).commitment;
    const out = run(
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
      new Map([[1, () => seed.slice()]]),
    );
    expectBan(out, 1, 'ERR_MPC_CONSISTENCY_CHECK', 'r-not-zero', 3);
  });
});
