/**
 * Judging a finished RESHARE party by party (reshare review L1), without a database: the
 * platform's reading of a public share set agrees with @countersign/mpc's encoder; the leaving
 * dealer must report exactly the root key and no share set; each receiver the root key and one
 * share set of the root key, the session's receivers and its threshold — and every party that
 * does not is named with its role.
 */
import { encodePublicShareSet } from '@countersign/mpc';
import { describe, expect, it } from 'vitest';
import { readPublicShareSet } from '../src/mpc/public-share-set.js';
import { judgeReshareReports, type PartyReport } from '../src/mpc/reshare-results.js';

const root = { publicKey: '02' + '22'.repeat(32), chainCode: 'dd'.repeat(32) };
const receivers = [1, 2, 5];

const shareSet = (
  over: { parties?: number[]; threshold?: number; publicKey?: string; tag?: number } = {},
): string => {
  const parties = over.parties ?? receivers;
  return Buffer.from(
    encodePublicShareSet({
      curve: 'secp256k1',
      threshold: over.threshold ?? 3,
      parties,
      publicKey: Buffer.from(over.publicKey ?? root.publicKey, 'hex'),
      chainCode: Buffer.from(root.chainCode, 'hex'),
      verificationShares: parties.map((i) => new Uint8Array(33).fill(over.tag ?? i)),
    }),
  ).toString('hex');
};

/** Cloud-1, cloud-2, the leaving dealer (4) and the new signer (5), each reporting right. */
const reports = (over: Record<number, PartyReport['result']> = {}): PartyReport[] =>
  [1, 2, 4, 5].map((index) => ({
    index,
    cosignerId: `cosigner-${index}`,
    result:
      index in over ? over[index] : { ...root, ...(index === 4 ? {} : { shareSet: shareSet() }) },
  }));

const judge = (r: PartyReport[]) =>
  judgeReshareReports(r, { algorithm: 'ECDSA_SECP256K1', root, receivers, threshold: 3 });

describe('a public share set as the platform reads it', () => {
  it("reads mpc's encoding: threshold, parties, key and chain code; refuses another curve or length", () => {
    expect(readPublicShareSet(shareSet({ parties: [1, 2, 300] }), 'ECDSA_SECP256K1')).toEqual({
      threshold: 3,
      parties: [1, 2, 300],
      publicKey: root.publicKey,
      chainCode: root.chainCode,
    });
    const eddsa = Buffer.from(
      encodePublicShareSet({
        curve: 'ed25519',
        threshold: 2,
        parties: [1, 2],
        publicKey: new Uint8Array(32).fill(1),
        chainCode: new Uint8Array(32).fill(2),
        verificationShares: [new Uint8Array(32), new Uint8Array(32)],
      }),
    ).toString('hex');
    expect(readPublicShareSet(eddsa, 'EDDSA_ED25519')).toMatchObject({ parties: [1, 2] });
    expect(readPublicShareSet(eddsa, 'ECDSA_SECP256K1')).toBeUndefined();
    expect(readPublicShareSet(shareSet() + '00', 'ECDSA_SECP256K1')).toBeUndefined();
    expect(readPublicShareSet(shareSet().slice(0, -2), 'ECDSA_SECP256K1')).toBeUndefined();
    expect(readPublicShareSet('0103', 'ECDSA_SECP256K1')).toBeUndefined();
  });
});

describe('judging a RESHARE party by party', () => {
  it('records the share set when every report fits its role', () => {
    expect(judge(reports())).toEqual({ shareSet: shareSet(), disagreeing: [] });
  });

  it('names the leaving dealer for a share set it cannot hold, or another key', () => {
    for (const wrong of [
      { ...root, shareSet: shareSet() },
      { ...root, publicKey: '03' + '33'.repeat(32) },
      { publicKey: root.publicKey },
    ]) {
      const verdict = judge(reports({ 4: wrong }));
      expect(verdict.shareSet).toBeUndefined();
      expect(verdict.disagreeing).toMatchObject([
        { index: 4, cosignerId: 'cosigner-4', role: 'LEAVING_DEALER' },
      ]);
    }
  });

  it("names a receiver whose share set is not of the root key, the session's receivers or its threshold", () => {
    const wrongs: [PartyReport['result'], string][] = [
      [{ ...root }, 'no share set'],
      [{ ...root, shareSet: 'ab'.repeat(40) }, 'a malformed share set'],
      [
        { ...root, shareSet: shareSet({ parties: [1, 2, 4] }) },
        "a share set of other parties than the session's receivers",
      ],
      [{ ...root, shareSet: shareSet({ threshold: 2 }) }, 'a share set of another threshold'],
      [
        { ...root, shareSet: shareSet({ publicKey: '03' + '33'.repeat(32) }) },
        'a share set of another key',
      ],
      [undefined, 'no key in its result'],
    ];
    for (const [wrong, problem] of wrongs)
      expect(judge(reports({ 5: wrong })).disagreeing).toEqual([
        { index: 5, cosignerId: 'cosigner-5', role: 'RECEIVER', problem },
      ]);
  });

  it('names the receiver whose share set differs from the two others; all three with no majority', () => {
    const odd = { ...root, shareSet: shareSet({ tag: 9 }) };
    expect(judge(reports({ 2: odd })).disagreeing).toEqual([
      {
        index: 2,
        cosignerId: 'cosigner-2',
        role: 'RECEIVER',
        problem: 'another share set than the other receivers',
      },
    ]);
    const three = judge(
      reports({
        1: { ...root, shareSet: shareSet({ tag: 7 }) },
        2: { ...root, shareSet: shareSet({ tag: 8 }) },
      }),
    );
    expect(three.disagreeing.map((d) => d.index)).toEqual([1, 2, 5]);
    expect(three.shareSet).toBeUndefined();
  });
});
