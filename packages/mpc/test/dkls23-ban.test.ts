// applyDkls23Ban and the restored check evidence, fail closed (review 2026-11-27): an
// ERR_MPC_OT_CHECK that names only me names nobody, so it destroys every setup (F3, the review's
// appendix C); a restored failure naming me as the banned party is refused.
import { describe, expect, it } from 'vitest';
import { dkls23ProtocolIds } from '../src/dkls23/hashing.js';
import {
  applyDkls23Ban,
  Dkls23CheckError,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  MpcError,
  resumeSession,
  type Dkls23KeyShare,
} from '../src/index.js';
import { runSessions } from './helpers.js';
import { presignSessions } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const flags = (share: Dkls23KeyShare): boolean[] =>
  share.pairs.flatMap((p) => [p.otSender.destroyed, p.otReceiver.destroyed]);

/** Party 1's state after a KOS failure with party 2 (a bit of U flipped), on its own share set. */
async function failedState(): Promise<Uint8Array> {
  const shares = dealDkls23Shares([1, 2, 3], 2);
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
