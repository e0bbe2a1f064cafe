// applyDkls23Ban and the restored check evidence, fail closed (review 2026-11-27): an
// ERR_MPC_OT_CHECK that names only me names nobody, so it destroys every setup (F3, the review's
// appendix C); a restored failure naming me as the banned party is refused. A presigning failure
// names its share set, and is refused for a key share of another set (F4). After a restore from
// backup every setup is marked destroyed until a refresh (F5).
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { dkls23ProtocolIds, pairSessionId } from '../src/dkls23/hashing.js';
import {
  applyDkls23Ban,
  Dkls23CheckError,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  MpcError,
  dkls23Presign,
  dkls23Refresh,
  markAllDkls23SetupsDestroyed,
  resumeSession,
  shareSetId,
  type Dkls23KeyShare,
} from '../src/index.js';
import { presignContext } from '../src/test-hooks.js';
import { runSessions, sid } from './helpers.js';
import { freshSid, presign, presignSessions, signWith, testRegistry } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const flags = (share: Dkls23KeyShare): boolean[] =>
  share.pairs.flatMap((p) => [p.otSender.destroyed, p.otReceiver.destroyed]);

/** Party 1's state after a KOS failure with party 2 (a bit of U flipped); a fresh set by default. */
async function failedState(
  shares: Map<number, Dkls23KeyShare> = dealDkls23Shares([1, 2, 3], 2),
): Promise<Uint8Array> {
  const sessions = await presignSessions(shares, [1, 2]);
  const out = runSessions(sessions, (m) => {
    if (m.from !== 2 || m.to !== 1 || m.round !== 1) return m;
    const payload = m.payload.slice();
    payload[40] = (payload[40] ?? 0) ^ 1; // in U, after n_B
    return { ...m, payload };
  });
  expect(out.errors.get(1)).toMatchObject({ code: 'ERR_MPC_OT_CHECK', check: 'kos', banned: 2 });
  return sessions.get(1)!.toBytes();
}

/** Offset of the failure's u16 culprit in a session state ("CSS3" layout, session.ts). */
function culpritOffset(state: Uint8Array, sidLength: number, parties: number): number {
  const protocol = dkls23ProtocolIds.presign;
  let at = 4 + 1 + protocol.length + 1 + sidLength + 1 + 2 * parties + 2 + 2; // … status, round
  expect(state[at]).toBe(1); // has a failure
  at += 1;
  return at + 1 + state[at]!; // after the code
}

/** The state with the last `cut` bytes of the failure's evidence removed (length adjusted). */
function cutEvidence(state: Uint8Array, cut: number): Uint8Array {
  let at = culpritOffset(state, 32, 2) + 2;
  at += 1 + 2 * state[at]!; // suspects
  const view = new DataView(state.buffer, state.byteOffset);
  const length = view.getUint32(at);
  const out = Uint8Array.from([
    ...state.subarray(0, at + 4 + length - cut),
    ...state.subarray(at + 4 + length),
  ]);
  new DataView(out.buffer).setUint32(at, length - cut);
  return out;
}

describe('applyDkls23Ban is fail closed (review 2026-11-27)', () => {
  it('F3, appendix C: an OT-check error naming only me destroys every setup', () => {
    const shares = dealDkls23Shares([1, 2, 3], 3);
    const stored = exportDkls23KeyShare(shares.get(1)!);
    const everything = [
      [1, 2],
      [2, 1],
      [1, 3],
      [3, 1],
    ];
    for (const error of [
      new MpcError('ERR_MPC_OT_CHECK', { culprit: 1 }),
      new Dkls23CheckError('kos', 1, []),
      new Dkls23CheckError('mu', 1, [[1, 1]]),
      new Dkls23CheckError('kos', undefined, []),
    ]) {
      const share = importDkls23KeyShare(stored);
      expect(applyDkls23Ban(share, error)).toEqual(everything);
      expect(flags(share)).toEqual([true, true, true, true]);
    }
    // A named peer is still banned alone.
    const share = importDkls23KeyShare(stored);
    expect(applyDkls23Ban(share, new Dkls23CheckError('kos', 3, []))).toEqual([
      [1, 3],
      [3, 1],
    ]);
    expect(flags(share)).toEqual([false, false, true, true]);
  });

  it('F3: a failed state whose banned party is me is refused on restore and by applyDkls23Ban', async () => {
    const state = await failedState();
    expect(resumeSession(state).error).toMatchObject({ check: 'kos', banned: 2 });
    const forged = state.slice();
    const at = culpritOffset(forged, 32, 2);
    expect(new DataView(forged.buffer).getUint16(at)).toBe(2);
    new DataView(forged.buffer).setUint16(at, 1); // culprit := me
    expect(() => resumeSession(forged)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
    const share = dealDkls23Shares([1, 2, 3], 2).get(1)!;
    expect(() => applyDkls23Ban(share, forged)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
  });
});

describe('presigning failures name their share set (review 2026-11-27, F4)', () => {
  it('a failure from share set B applied to the key share of set A is refused', async () => {
    // Party 1 is index 1 in two share sets of the same parties (a cloud co-signer).
    const setA = dealDkls23Shares([1, 2, 3], 2);
    const setB = dealDkls23Shares([1, 2, 3], 2);
    const state = await failedState(setB);
    const error = resumeSession(state).error;
    expect(error).toBeInstanceOf(Dkls23CheckError);
    expect((error as Dkls23CheckError).shareSetId).toEqual(shareSetId(setB.get(1)!));
    const storedA = exportDkls23KeyShare(setA.get(1)!);
    for (const failure of [error!, state]) {
      const a = importDkls23KeyShare(storedA);
      expect(() => applyDkls23Ban(a, failure)).toThrow(
        expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }),
      );
      expect(flags(a)).toEqual([false, false, false, false]);
    }
    // Set A stays usable with party 2; set B's own stored share takes the ban.
    const a = importDkls23KeyShare(storedA);
    await expect(
      dkls23Presign({ sid: freshSid(), keyShare: a, signers: [1, 2], registry: testRegistry }),
    ).resolves.toBeDefined();
    const b = importDkls23KeyShare(exportDkls23KeyShare(setB.get(1)!));
    expect(applyDkls23Ban(b, state)).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });

  it('the share set is in the presigning context: one sid in two sets gives unrelated pair ids', () => {
    const [a, b] = [dealDkls23Shares([1, 2], 2), dealDkls23Shares([1, 2], 2)];
    const id = freshSid('two-sets');
    const pairId = (shares: Map<number, Dkls23KeyShare>) =>
      pairSessionId(presignContext(id, shareSetId(shares.get(1)!)), 1, 2, 'rvole');
    expect(pairId(a)).not.toEqual(pairId(b));
    expect(pairId(a)).toEqual(pairId(a));
  });

  it('a failed presigning state without the share set in its evidence (before F4) is refused', async () => {
    const state = await failedState();
    expect(resumeSession(state).error).toMatchObject({ check: 'kos', banned: 2 });
    const old = cutEvidence(state, 32);
    expect(() => resumeSession(old)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
    expect(() => applyDkls23Ban(dealDkls23Shares([1, 2, 3], 2).get(1)!, old)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
  });
});

describe('restore from backup (review 2026-11-27, F5)', () => {
  it('markAllDkls23SetupsDestroyed: every setup destroyed and persisted, presign refused until a refresh', async () => {
    const shares = dealDkls23Shares([1, 2], 2);
    // What a whole-database restore gives back: the shares as exported at backup time.
    const restored = new Map(
      [...shares].map(([i, s]) => [i, importDkls23KeyShare(exportDkls23KeyShare(s))]),
    );
    for (const [i, share] of restored)
      expect(markAllDkls23SetupsDestroyed(share)).toEqual([
        [i, 3 - i],
        [3 - i, i],
      ]);
    const persisted = new Map(
      [...restored].map(([i, s]) => [i, importDkls23KeyShare(exportDkls23KeyShare(s))]),
    );
    for (const share of persisted.values()) expect(flags(share)).toEqual([true, true]);
    await expect(
      dkls23Presign({
        sid: freshSid(),
        keyShare: persisted.get(1)!,
        signers: [1, 2],
        registry: testRegistry,
      }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_OT_SETUP_DESTROYED', culprit: 2 });

    // A refresh (the shares are still valid) builds fresh setups under a new share-set id.
    const out = runSessions(
      new Map(
        [...persisted].map(([i, s]) => [
          i,
          dkls23Refresh({ sid: sid('refresh-after-restore'), keyShare: s }),
        ]),
      ),
    );
    expect(out.errors.size).toBe(0);
    const refreshed = new Map([...out.results].map(([i, r]) => [i, r.keyShare!]));
    for (const share of refreshed.values()) {
      expect(flags(share)).toEqual([false, false]);
      expect(share.publicKey).toEqual(shares.get(1)!.publicKey);
      expect(shareSetId(share)).not.toEqual(shareSetId(shares.get(1)!));
    }
    const hash = new Uint8Array(32).fill(5);
    const signature = await signWith(refreshed, presign(refreshed, [1, 2]), hash);
    expect(signature.publicKey).toEqual(shares.get(1)!.publicKey);
    expect(secp256k1.verify(signature.compact, hash, signature.publicKey, { prehash: false })).toBe(
      true,
    );
  });
});
