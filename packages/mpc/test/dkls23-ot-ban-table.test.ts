// The process-wide ban table of DKLs23 OT setups (review 2026-11-27, F1). The review's appendix A,
// inverted: party 1 presigns a batch of sessions, each on its own copy of the stored key share
// (a pool refill), all started before any ban; a malicious party 2 answers each with a KOS probe
// of one bit of Δ. Before the table, every session ran the KOS check (128 bits: Δ, then sk_1).
// Now every session after the first failure refuses at round 2, before Alice's check runs.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gfInnerProduct, gfSelectSum, gfToBytes } from '../src/dkls23/gf128.js';
import { dkls23ProtocolIds, FramedInput, pairSessionId } from '../src/dkls23/hashing.js';
import {
  extensionSend,
  KAPPA,
  KOS_PAD,
  OT_NONCE_LENGTH,
  type OtReceiverSetup,
} from '../src/dkls23/ot-extension.js';
import { RVOLE_XI } from '../src/dkls23/rvole.js';
import {
  applyDkls23Ban,
  Dkls23CheckError,
  dkls23Presign,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  isMpcError,
  shareSetId,
  type Dkls23KeyShare,
  type Dkls23Presignature,
  type Session,
} from '../src/index.js';
import { encodeMessage } from '../src/message.js';
import { kosChallenges, presignContext, transposeColumns } from '../src/test-hooks.js';
import { freshSid, testRegistry } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const ROWS = RVOLE_XI + KOS_PAD;
const COL_BYTES = ROWS / 8;
/** A padding row: its choice bit is random, so the probe touches none of Bob's β. */
const PROBE_ROW = 600;

const bit = (b: Uint8Array, l: number): number => ((b[l >>> 3] ?? 0) >>> (l & 7)) & 1;

/** PRG(k, sid_pair, n_B) as `ot-extension.ts` computes it (SHA-512 in counter mode). */
function prg(sidPair: Uint8Array, nonce: Uint8Array, key: Uint8Array, out: Uint8Array): void {
  const input = new FramedInput('prg', [key.length, sidPair.length, nonce.length, 4])
    .set(0, key)
    .set(1, sidPair)
    .set(2, nonce);
  for (let ctr = 0, off = 0; off < out.length; ctr++, off += 64)
    out.set(
      input
        .setU32(3, ctr)
        .sha512()
        .subarray(0, Math.min(64, out.length - off)),
      off,
    );
}

/**
 * Bob's extension message `n_B ‖ U ‖ x ‖ t` with the bit of row {@link PROBE_ROW} in column
 * `column` of U flipped (none when `column` is undefined), χ, x and t computed honestly for the
 * U that is sent: a KOS probe of Δ_column with guess 0. If Δ_column = 0, Alice's Q ignores that
 * column of U and the check passes; if 1, her row 600 is off by one bit and the check fails.
 */
function kosProbe(
  setup: OtReceiverSetup,
  sidPair: Uint8Array,
  column: number | undefined,
): Uint8Array {
  const nonce = new Uint8Array(randomBytes(OT_NONCE_LENGTH));
  const w = new Uint8Array(randomBytes(COL_BYTES));
  const t0 = new Uint8Array(KAPPA * COL_BYTES);
  const t1 = new Uint8Array(COL_BYTES);
  const U = new Uint8Array(KAPPA * COL_BYTES);
  for (let l = 0; l < KAPPA; l++) {
    const a = t0.subarray(l * COL_BYTES, (l + 1) * COL_BYTES);
    prg(sidPair, nonce, setup.keys0[l]!, a);
    prg(sidPair, nonce, setup.keys1[l]!, t1);
    for (let k = 0; k < COL_BYTES; k++) U[l * COL_BYTES + k] = a[k]! ^ t1[k]! ^ w[k]!;
  }
  if (column !== undefined) U[column * COL_BYTES + (PROBE_ROW >>> 3)]! ^= 1 << (PROBE_ROW & 7);
  const chis = kosChallenges(sidPair, nonce, U, ROWS);
  const x = gfSelectSum(chis, w, ROWS);
  const t = gfInnerProduct(chis, transposeColumns(t0, ROWS), ROWS);
  return Uint8Array.from([...nonce, ...U, ...gfToBytes(x), ...gfToBytes(t)]);
}

const copyOf = (bytes: Uint8Array): Dkls23KeyShare => importDkls23KeyShare(bytes);
const pairWith = (share: Dkls23KeyShare, j: number) => share.pairs.find((p) => p.party === j)!;

/** The round-1 messages party 2 sends party 1 in session `sid`: a commitment and `p2p`. */
function round1From2(sid: Uint8Array, p2p: Uint8Array): Uint8Array[] {
  const base = { protocol: dkls23ProtocolIds.presign, sid, round: 1, from: 2 } as const;
  return [
    encodeMessage({ ...base, to: 'broadcast', payload: new Uint8Array(randomBytes(32)) }),
    encodeMessage({ ...base, to: 1, payload: p2p }),
  ];
}

describe('DKLs23 process-wide OT ban table (review 2026-11-27, F1)', () => {
  it('the test probe mirrors ot-extension.ts: unflipped it passes, flipped it fails iff Δ_l = 1', () => {
    const shares = dealDkls23Shares([1, 2], 2);
    const sidPair = pairSessionId(
      presignContext(freshSid('mirror'), shareSetId(shares.get(1)!)),
      1,
      2,
      'rvole',
    );
    const bob = pairWith(shares.get(2)!, 1).otReceiver;
    const alice = () => pairWith(copyOf(exportDkls23KeyShare(shares.get(1)!)), 2).otSender;
    expect(() =>
      extensionSend(alice(), sidPair, kosProbe(bob, sidPair, undefined), RVOLE_XI),
    ).not.toThrow();
    const delta = pairWith(shares.get(1)!, 2).otSender.delta;
    for (const l of [0, 1, 2, 3]) {
      const run = () => extensionSend(alice(), sidPair, kosProbe(bob, sidPair, l), RVOLE_XI);
      if (bit(delta, l) === 0) expect(run).not.toThrow();
      else expect(run).toThrow(expect.objectContaining({ code: 'ERR_MPC_OT_CHECK' }));
    }
  });

  // Two callers: a perfect one that applies every ban to storage at once, and a silent one that
  // does nothing — then only the failing session's own write to the table stops the batch.
  it.each(['perfect', 'silent'] as const)(
    'appendix A inverted (%s caller): a batch of 128 sessions on separate copies stops at the first KOS failure',
    async (caller) => {
      const shares = dealDkls23Shares([1, 2], 2);
      const delta = pairWith(shares.get(1)!, 2).otSender.delta.slice();
      const bobSetup = pairWith(shares.get(2)!, 1).otReceiver;
      const setId = shareSetId(shares.get(1)!);
      // The co-signer's durable copy; every session loads its own object from it.
      let stored = exportDkls23KeyShare(shares.get(1)!);
      const original = stored.slice();
      const batch: { sid: Uint8Array; session: Session<Dkls23Presignature> }[] = [];
      for (let l = 0; l < KAPPA; l++) {
        const sid = freshSid('batch');
        const session = await dkls23Presign({
          sid,
          keyShare: copyOf(stored),
          signers: [1, 2],
          registry: testRegistry,
        });
        session.start(); // all started (round 1 sent) before any probe lands
        batch.push({ sid, session });
      }

      // Party 2 probes Δ_l in session l; party 1 is the caller under test.
      const outcomes: ('pass' | 'kos' | 'refused')[] = [];
      let answeredAfterFailure = 0;
      for (const [l, { sid, session }] of batch.entries()) {
        const sidPair = pairSessionId(presignContext(sid, setId), 1, 2, 'rvole');
        const [broadcast, probe] = round1From2(sid, kosProbe(bobSetup, sidPair, l));
        session.receive(broadcast!);
        try {
          const answer = session.receive(probe!);
          // Round 2 left: Alice's KOS check passed (Δ_l = 0 learned) and she answered.
          expect(answer.some((m) => m.to === 2)).toBe(true);
          outcomes.push('pass');
          if (outcomes.includes('kos')) answeredAfterFailure++;
        } catch (e) {
          if (e instanceof Dkls23CheckError) {
            expect(e).toMatchObject({ code: 'ERR_MPC_OT_CHECK', check: 'kos', banned: 2 });
            outcomes.push('kos');
            if (caller === 'perfect') {
              const fromStorage = copyOf(stored);
              applyDkls23Ban(fromStorage, e);
              stored = exportDkls23KeyShare(fromStorage);
            }
          } else {
            expect(isMpcError(e) && e).toMatchObject({
              code: 'ERR_MPC_OT_SETUP_DESTROYED',
              culprit: 2,
            });
            outcomes.push('refused');
          }
        }
      }

      const firstFailure = outcomes.indexOf('kos');
      // The probes that ran are exactly those up to Δ's first set bit (≈ 2 on average) …
      let firstOne = 0;
      while (bit(delta, firstOne) === 0) firstOne++;
      expect(firstFailure).toBe(firstOne);
      expect(outcomes.slice(0, firstFailure).every((o) => o === 'pass')).toBe(true);
      // … and every session after the first failure refused at round 2, before Alice's check:
      // no answer, no further bit. The prober holds firstOne + 1 bits of Δ, not 128.
      expect(answeredAfterFailure).toBe(0);
      expect(outcomes.slice(firstFailure + 1)).toEqual(
        new Array<string>(KAPPA - firstFailure - 1).fill('refused'),
      );
      for (const { session } of batch.slice(firstFailure + 1)) {
        expect(session.status).toBe('failed');
        expect(session.error).toMatchObject({ code: 'ERR_MPC_OT_SETUP_DESTROYED', culprit: 2 });
      }
      // A new session is refused at creation: on storage (flags), and even on a copy of the
      // share as stored before the ban (the table), whose object then carries the flags too.
      for (const bytes of [stored, original]) {
        const copy = copyOf(bytes);
        await expect(
          dkls23Presign({
            sid: freshSid(),
            keyShare: copy,
            signers: [1, 2],
            registry: testRegistry,
          }),
        ).rejects.toMatchObject({ code: 'ERR_MPC_OT_SETUP_DESTROYED', culprit: 2 });
        expect([
          pairWith(copy, 2).otSender.destroyed,
          pairWith(copy, 2).otReceiver.destroyed,
        ]).toEqual([true, true]);
      }
    },
  );

  it('Bob stops before round 1: a ban applied to another copy after creation fails start()', async () => {
    const shares = dealDkls23Shares([1, 2, 3], 2);
    const stored = exportDkls23KeyShare(shares.get(1)!);
    const withTwo = await dkls23Presign({
      sid: freshSid(),
      keyShare: copyOf(stored),
      signers: [1, 2],
      registry: testRegistry,
    });
    const withThree = await dkls23Presign({
      sid: freshSid(),
      keyShare: copyOf(stored),
      signers: [1, 3],
      registry: testRegistry,
    });
    // The ban reaches this process through another object (applyDkls23Ban on a stored copy).
    const banError = new Dkls23CheckError('mu', 2, [
      [1, 2],
      [2, 1],
    ]);
    expect(applyDkls23Ban(copyOf(stored), banError)).toHaveLength(2);
    expect(() => withTwo.start()).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_OT_SETUP_DESTROYED', culprit: 2 }),
    );
    expect(withTwo.status).toBe('failed');
    expect(withTwo.outgoing()).toEqual([]);
    // Only the pairs with the banned party: party 3 is unaffected, and so is another share set
    // in which party 2 has the same index (the table is keyed by share-set id).
    expect(withThree.start().length).toBeGreaterThan(0);
    const other = dealDkls23Shares([1, 2], 2);
    const inOtherSet = await dkls23Presign({
      sid: freshSid(),
      keyShare: other.get(1)!,
      signers: [1, 2],
      registry: testRegistry,
    });
    expect(inOtherSet.start().length).toBeGreaterThan(0);
  });
});
