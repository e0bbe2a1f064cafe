// FROST with preprocessed nonce sets (frost-nonce-set.ts): signatures from pooled nonces verify
// under independent verifiers; a nonce set signs once; commitments are bound to their pool
// entry, key and signers; a bad share names its signer.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { inspect } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  beginFrostPreprocess,
  derivePublicKey,
  exportFrostNonceSet,
  frostAggregate,
  frostAggregator,
  frostCommitmentList,
  frostCommitmentPoints,
  frostNonceSetCommitmentList,
  frostPooledSignatureShare,
  importFrostNonceSet,
  publicShareSet,
  wipeFrostNonceSet,
  type CurveName,
  type FrostNonceSet,
  type KeyShare,
} from '../src/index.js';
import { signatureShare, signingPackage } from '../src/frost-arithmetic.js';
import { frostSuite } from '../src/frost-ciphersuite.js';
import { derivedSigningKey, tweakedSigningShare } from '../src/frost-sign.js';
import { parsePath } from '../src/derivation.js';
import { beginFrostPreprocessForTesting, nonceSetInternalsForTesting } from '../src/test-hooks.js';
import { runDkg, sid } from './helpers.js';

const message = new TextEncoder().encode('countersign: pooled nonces');
const PATH = 'm/44/501/0/0/7';

/** One preprocessing among `signers`: every signer's nonce set. */
function preprocess(
  shares: Map<number, KeyShare>,
  signers: number[],
  label = 'pool entry 1',
): Map<number, FrostNonceSet> {
  const committers = new Map(
    signers.map((me) => [
      me,
      beginFrostPreprocess({ sid: sid(label), keyShare: shares.get(me)!, signers }),
    ]),
  );
  const sets = new Map<number, FrostNonceSet>();
  for (const [me, c] of committers) {
    const received = new Map(
      signers.filter((j) => j !== me).map((j) => [j, committers.get(j)!.message]),
    );
    sets.set(me, c.complete(received));
  }
  return sets;
}

function pooledSign(
  shares: Map<number, KeyShare>,
  sets: Map<number, FrostNonceSet>,
  msg: Uint8Array,
  path = PATH,
) {
  const signers = [...sets.keys()];
  const commitments = frostCommitmentList(sets.get(signers[0]!)!);
  const z = new Map(
    signers.map((j) => [
      j,
      frostPooledSignatureShare({
        nonceSet: sets.get(j)!,
        keyShare: shares.get(j)!,
        message: msg,
        path,
      }),
    ]),
  );
  return {
    commitments,
    z,
    result: () =>
      frostAggregate({
        shareSet: publicShareSet(shares.get(signers[0]!)!),
        commitments,
        message: msg,
        path,
        shares: z,
      }),
  };
}

function derivedKey(curve: CurveName, share: KeyShare, path = PATH): Uint8Array {
  return derivePublicKey({ curve, publicKey: share.publicKey, chainCode: share.chainCode }, path)
    .publicKey;
}

function opensslVerifies(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
  return nodeVerify(
    null,
    msg,
    createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    signature,
  );
}

describe('FROST nonce sets, Ed25519', () => {
  const shares = runDkg('ed25519', [1, 2, 3], 3, 'pool dkg');

  it('signs with preprocessed nonces: RFC 8032 signatures under the derived key (OpenSSL, noble strict)', () => {
    for (const n of [1, 2, 3]) {
      const sets = preprocess(shares, [1, 2, 3], `entry ${n}`);
      const msg = new TextEncoder().encode(`message ${n}`);
      const { result } = pooledSign(shares, sets, msg);
      const { signature, publicKey } = result();
      expect(publicKey).toEqual(derivedKey('ed25519', shares.get(1)!));
      expect(opensslVerifies(publicKey, msg, signature)).toBe(true);
      expect(ed25519.verify(signature, msg, publicKey, { zip215: false })).toBe(true);
    }
  });

  it('gives every signer the same commitment list, in the bytes the aggregator takes', () => {
    const sets = preprocess(shares, [1, 2, 3]);
    const lists = [...sets.values()].map((s) =>
      Buffer.from(frostCommitmentList(s)).toString('hex'),
    );
    expect(new Set(lists).size).toBe(1);
    expect(lists[0]!.length).toBe((3 + 3 * (2 + 64)) * 2);
  });

  it("gives a coordinator the list's points by signer, to compare across lists, and refuses bytes that are no list", () => {
    const sets = preprocess(shares, [1, 2, 3]);
    const set = sets.get(2)!;
    const points = frostCommitmentPoints(frostCommitmentList(set));
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(points.map((c) => [c.index, hex(c.hiding), hex(c.binding)])).toEqual(
      nonceSetInternalsForTesting(set).commitments.map((c) => [
        c.index,
        hex(c.hiding.toBytes()),
        hex(c.binding.toBytes()),
      ]),
    );
    expect(new Set(points.flatMap((c) => [hex(c.hiding), hex(c.binding)])).size).toBe(6);
    const list = frostCommitmentList(set);
    for (const bad of [list.subarray(0, list.length - 1), Uint8Array.of(2, ...list.subarray(1))])
      expect(() => frostCommitmentPoints(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
      );
  });

  it('signs once per nonce set: a second share, or an export after it, is refused', () => {
    const sets = preprocess(shares, [1, 2, 3]);
    const set = sets.get(2)!;
    frostPooledSignatureShare({ nonceSet: set, keyShare: shares.get(2)!, message, path: PATH });
    expect(() =>
      frostPooledSignatureShare({ nonceSet: set, keyShare: shares.get(2)!, message, path: PATH }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }));
    expect(() => exportFrostNonceSet(set)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }),
    );
    const other = sets.get(3)!;
    wipeFrostNonceSet(other);
    expect(() =>
      frostPooledSignatureShare({ nonceSet: other, keyShare: shares.get(3)!, message }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }));
  });

  it('survives export and import (as a store keeps it), and refuses bytes whose nonces were swapped', () => {
    const sets = preprocess(shares, [1, 2, 3]);
    const reloaded = new Map(
      [...sets].map(([j, s]) => [j, importFrostNonceSet(exportFrostNonceSet(s))]),
    );
    const { result } = pooledSign(shares, reloaded, message);
    const { signature, publicKey } = result();
    expect(opensslVerifies(publicKey, message, signature)).toBe(true);

    const bytes = exportFrostNonceSet(preprocess(shares, [1, 2, 3], 'entry x').get(1)!);
    const swapped = bytes.slice();
    const n = swapped.length;
    swapped.set(bytes.subarray(n - 32), n - 64);
    swapped.set(bytes.subarray(n - 64, n - 32), n - 32);
    expect(() => importFrostNonceSet(swapped)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
  });

  it("reads an exported set's commitment list without its nonces, and spends nothing (pooled EdDSA review L4)", () => {
    const set = preprocess(shares, [1, 2, 3], 'public part').get(1)!;
    const list = frostCommitmentList(set);
    const bytes = exportFrostNonceSet(set);
    expect(frostNonceSetCommitmentList(bytes)).toEqual(list);
    // Nonces that are no scalars: import, which decodes them, refuses them; the list is read all
    // the same, for the nonces are never decoded.
    const garbled = bytes.slice();
    garbled.fill(0xff, garbled.length - 64);
    expect(() => importFrostNonceSet(garbled)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_SCALAR' }),
    );
    expect(frostNonceSetCommitmentList(garbled)).toEqual(list);
    // Reading it spent nothing: the bytes still import.
    expect(() => importFrostNonceSet(bytes)).not.toThrow();
    // Bytes that are not a nonce set of mine are refused: a nonce short, a byte too many, another
    // magic, an index the list does not name (at byte 40: after the magic, the sid's 4-byte
    // length and its 32 bytes).
    const notMine = bytes.slice();
    notMine.set([0, 4], 40);
    for (const bad of [
      bytes.subarray(0, bytes.length - 1),
      Uint8Array.from([...bytes, 0]),
      Uint8Array.from(bytes).fill(0, 0, 4),
      notMine,
    ])
      expect(() => frostNonceSetCommitmentList(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
      );
    // A sid of another length than a session's.
    const shortSid = bytes.slice();
    shortSid[7] = 15;
    expect(() => frostNonceSetCommitmentList(shortSid)).toThrow(
      expect.objectContaining({
        code: expect.stringMatching(/^ERR_MPC_(MALFORMED|INVALID_PARAMS)$/),
      }),
    );
  });

  it('keeps the nonces out of inspect and JSON; exporting spends the set in memory', () => {
    const set = preprocess(shares, [1, 2, 3]).get(1)!;
    const hiding = Buffer.from(nonceSetInternalsForTesting(set).nonces!.hiding).toString('hex');
    expect(inspect(set, { depth: 10 })).not.toContain(hiding);
    expect(JSON.stringify(set)).not.toContain(hiding);
    expect(JSON.stringify(set)).toContain('"spent":false');
    const bytes = exportFrostNonceSet(set);
    expect(Buffer.from(bytes).toString('hex')).toContain(hiding);
    expect(JSON.stringify(set)).toContain('"spent":true');
    expect(() => exportFrostNonceSet(set)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }),
    );
    expect(() =>
      frostPooledSignatureShare({ nonceSet: set, keyShare: shares.get(1)!, message }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }));
  });

  it('refuses commitments made for another pool entry or another signing set, naming the sender', () => {
    const a = beginFrostPreprocess({
      sid: sid('entry a'),
      keyShare: shares.get(1)!,
      signers: [1, 2, 3],
    });
    const b = beginFrostPreprocess({
      sid: sid('entry b'),
      keyShare: shares.get(2)!,
      signers: [1, 2, 3],
    });
    const c = beginFrostPreprocess({
      sid: sid('entry a'),
      keyShare: shares.get(3)!,
      signers: [1, 2, 3],
    });
    expect(() =>
      a.complete(
        new Map([
          [2, b.message],
          [3, c.message],
        ]),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_CONTEXT_MISMATCH', culprit: 2 }));
    // The committer is spent by a failed completion too: its nonces are gone.
    expect(() => a.complete(new Map())).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }),
    );
  });

  it('refuses a missing, an extra or an invalid point commitment', () => {
    const make = (me: number, label = 'entry p') =>
      beginFrostPreprocess({ sid: sid(label), keyShare: shares.get(me)!, signers: [1, 2, 3] });
    const [c1, c2, c3] = [make(1), make(2), make(3)];
    expect(() => c1.complete(new Map([[2, c2.message]]))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }),
    );
    const d1 = make(1);
    expect(() =>
      d1.complete(
        new Map([
          [2, c2.message],
          [3, c3.message],
          [4, c3.message],
        ]),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARTY', culprit: 4 }));
    // D_3 replaced by a small-order point (order 2: y = −1).
    const bad = c3.message.slice();
    const smallOrder = new Uint8Array(32).fill(0xff);
    smallOrder[0] = 0xec;
    smallOrder[31] = 0x7f;
    bad.set(smallOrder, 32);
    expect(() =>
      make(1).complete(
        new Map([
          [2, make(2).message],
          [3, bad],
        ]),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_POINT', culprit: 3 }));
  });

  it('names the signer whose share is wrong, and refuses a set made with another key', () => {
    const sets = preprocess(shares, [1, 2, 3]);
    const { commitments, z } = pooledSign(shares, sets, message);
    const wrong = new Map(z);
    const tampered = z.get(2)!.slice();
    tampered[0] = (tampered[0]! + 1) % 256;
    wrong.set(2, tampered);
    expect(() =>
      frostAggregate({
        shareSet: publicShareSet(shares.get(1)!),
        commitments,
        message,
        path: PATH,
        shares: wrong,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_SIGNATURE_SHARE', culprit: 2 }));
    // The right shares for another message do not make a signature of this one.
    expect(() =>
      frostAggregate({
        shareSet: publicShareSet(shares.get(1)!),
        commitments,
        message: new TextEncoder().encode('another message'),
        path: PATH,
        shares: z,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_SIGNATURE_SHARE' }));

    // A commitment with a torsion component (+ a point of order 4) is not subgroup-checked at
    // aggregation; the cofactorless verification refuses the result all the same.
    const torsioned = commitments.slice();
    const at = 3 + 66 + 2; // D_2
    const D2 = ed25519.Point.fromBytes(commitments.subarray(at, at + 32));
    torsioned.set(D2.add(ed25519.Point.fromBytes(new Uint8Array(32))).toBytes(), at);
    expect(() =>
      frostAggregate({
        shareSet: publicShareSet(shares.get(1)!),
        commitments: torsioned,
        message,
        path: PATH,
        shares: z,
      }),
    ).toThrow(
      expect.objectContaining({
        code: expect.stringMatching(/^ERR_MPC_(INVALID_SIGNATURE_SHARE|SIGNATURE_INVALID)$/),
      }),
    );

    const otherKey = runDkg('ed25519', [1, 2, 3], 3, 'other dkg');
    const foreign = preprocess(otherKey, [1, 2, 3]).get(1)!;
    expect(() =>
      frostPooledSignatureShare({ nonceSet: foreign, keyShare: shares.get(1)!, message }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
  });

  it('aggregates prepared ahead of the shares as it does at once; the message is copied when prepared', () => {
    const sets = preprocess(shares, [1, 2, 3], 'prepared entry');
    const msg = new TextEncoder().encode('prepared before the shares');
    const { commitments, z, result } = pooledSign(shares, sets, msg);
    const held = msg.slice();
    const aggregator = frostAggregator({
      shareSet: publicShareSet(shares.get(1)!),
      commitments,
      message: held,
      path: PATH,
    });
    held.fill(0); // the caller's buffer changes after preparing: the signing does not
    const prepared = aggregator.aggregate(z);
    expect(prepared).toEqual(result());
    expect(opensslVerifies(prepared.publicKey, msg, prepared.signature)).toBe(true);
    // The same checks as at once: a wrong share is named, a missing one refused.
    const wrong = new Map(z);
    const tampered = z.get(3)!.slice();
    tampered[0] = (tampered[0]! + 1) % 256;
    wrong.set(3, tampered);
    expect(() => aggregator.aggregate(wrong)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_SIGNATURE_SHARE', culprit: 3 }),
    );
    const missing = new Map(z);
    missing.delete(2);
    expect(() => aggregator.aggregate(missing)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }),
    );
    // Bad parameters are refused when preparing, before any share.
    expect(() =>
      frostAggregator({
        shareSet: publicShareSet(shares.get(1)!),
        commitments: commitments.subarray(0, 10),
        message: msg,
        path: PATH,
      }),
    ).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_MPC_/) }));
  });

  it('works for a 2-of-3 signing set, deterministic under injected randomness', () => {
    const two = runDkg('ed25519', [1, 2, 3], 2, 'pool dkg 2of3');
    const signers = [1, 3];
    const fixed = (seed: number) => (n: number) => new Uint8Array(n).fill(seed);
    const committers = new Map(
      signers.map((me) => [
        me,
        beginFrostPreprocessForTesting(
          { sid: sid('2of3'), keyShare: two.get(me)!, signers },
          { random: fixed(me) },
        ),
      ]),
    );
    const again = beginFrostPreprocessForTesting(
      { sid: sid('2of3'), keyShare: two.get(1)!, signers },
      { random: fixed(1) },
    );
    expect(again.message).toEqual(committers.get(1)!.message);
    const sets = new Map(
      signers.map((me) => {
        const other = signers.find((j) => j !== me)!;
        return [
          me,
          committers.get(me)!.complete(new Map([[other, committers.get(other)!.message]])),
        ];
      }),
    );
    const { signature, publicKey } = pooledSign(two, sets, message).result();
    expect(opensslVerifies(publicKey, message, signature)).toBe(true);
  });
});

describe('FROST nonce sets, secp256k1 (BIP340)', () => {
  const shares = runDkg('secp256k1', [1, 2, 3], 3, 'pool dkg k1');

  it('signs BIP340 signatures under the x-only derived key', () => {
    const sets = preprocess(shares, [1, 2, 3]);
    const digest = new Uint8Array(32).fill(7);
    const { signature, publicKey } = pooledSign(shares, sets, digest, 'm/86/0/0/0/1').result();
    expect(publicKey).toEqual(derivedKey('secp256k1', shares.get(1)!, 'm/86/0/0/0/1').slice(1));
    expect(schnorr.verify(signature, digest, publicKey)).toBe(true);
  });

  it('refuses an Ed25519 commitment list', () => {
    const ed = runDkg('ed25519', [1, 2, 3], 3, 'pool dkg');
    const edSets = preprocess(ed, [1, 2, 3]);
    const { commitments, z } = pooledSign(ed, edSets, message);
    expect(() =>
      frostAggregate({ shareSet: publicShareSet(shares.get(1)!), commitments, message, shares: z }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
  });
});

describe('FROST nonce sets: what a commitment and a share are bound to', () => {
  const msg = new TextEncoder().encode('binding');
  const a = runDkg('ed25519', [1, 2, 3], 3, 'bind dkg a');
  const b = runDkg('ed25519', [1, 2, 3], 3, 'bind dkg b'); // same parties, another share set
  const t2 = runDkg('ed25519', [1, 2, 3], 2, 'bind dkg 2of3');
  const commitAll = (keys: Map<number, KeyShare>, signers: number[], label: string) =>
    new Map(
      signers.map((j) => [
        j,
        beginFrostPreprocess({ sid: sid(label), keyShare: keys.get(j)!, signers }),
      ]),
    );

  it('refuses commitments made for another share set (same sid, same signers)', () => {
    const ca = commitAll(a, [1, 2, 3], 'bind');
    const cb = commitAll(b, [1, 2, 3], 'bind');
    expect(() =>
      ca.get(1)!.complete(
        new Map([
          [2, cb.get(2)!.message],
          [3, ca.get(3)!.message],
        ]),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_CONTEXT_MISMATCH', culprit: 2 }));
  });

  it('refuses commitments made for another signing set (same sid, same share set)', () => {
    const c12 = commitAll(t2, [1, 2], 'bind signers');
    const c123 = commitAll(t2, [1, 2, 3], 'bind signers');
    expect(() => c12.get(1)!.complete(new Map([[2, c123.get(2)!.message]]))).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_CONTEXT_MISMATCH', culprit: 2 }),
    );
  });

  it("refuses another party's key share of the same share set, and the refusal spends the set", () => {
    const c = commitAll(a, [1, 2, 3], 'bind index');
    const set1 = c.get(1)!.complete(
      new Map([
        [2, c.get(2)!.message],
        [3, c.get(3)!.message],
      ]),
    );
    expect(() =>
      frostPooledSignatureShare({ nonceSet: set1, keyShare: a.get(2)!, message: msg }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
    expect(() =>
      frostPooledSignatureShare({ nonceSet: set1, keyShare: a.get(1)!, message: msg }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }));
  });

  it('refuses a torsioned commitment on arrival (prime-order subgroup, not only small order)', () => {
    const c = commitAll(a, [1, 2, 3], 'bind torsion');
    const bad = c.get(3)!.message.slice();
    const D3 = ed25519.Point.fromBytes(bad.subarray(32, 64));
    bad.set(D3.add(ed25519.Point.fromBytes(new Uint8Array(32))).toBytes(), 32); // + order-4 point
    expect(() =>
      c.get(1)!.complete(
        new Map([
          [2, c.get(2)!.message],
          [3, bad],
        ]),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_POINT', culprit: 3 }));
  });

  it('aggregation refuses a list below the threshold, a party outside the share set, extra shares', () => {
    const c = commitAll(a, [1, 2, 3], 'bind agg');
    const sets = new Map(
      [1, 2, 3].map((j) => [
        j,
        c
          .get(j)!
          .complete(new Map([1, 2, 3].filter((k) => k !== j).map((k) => [k, c.get(k)!.message]))),
      ]),
    );
    const list = frostCommitmentList(sets.get(1)!);
    const z = new Map(
      [1, 2, 3].map((j) => [
        j,
        frostPooledSignatureShare({ nonceSet: sets.get(j)!, keyShare: a.get(j)!, message: msg }),
      ]),
    );
    const shareSet = publicShareSet(a.get(1)!);
    const two = Uint8Array.from([...list.subarray(0, 2), 2, ...list.subarray(3, 3 + 2 * 66)]);
    expect(() =>
      frostAggregate({
        shareSet,
        commitments: two,
        message: msg,
        shares: new Map([...z].slice(0, 2)),
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
    const outsider = list.slice();
    outsider[3 + 2 * 66] = 0;
    outsider[3 + 2 * 66 + 1] = 9; // index 3 -> 9
    expect(() =>
      frostAggregate({
        shareSet,
        commitments: outsider,
        message: msg,
        shares: new Map([
          [1, z.get(1)!],
          [2, z.get(2)!],
          [9, z.get(3)!],
        ]),
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARTY', culprit: 9 }));
    expect(() =>
      frostAggregate({
        shareSet,
        commitments: list,
        message: msg,
        shares: new Map([...z, [4, z.get(1)!]]),
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_INVALID_PARAMS' }));
    expect(
      frostAggregate({ shareSet, commitments: list, message: msg, shares: z }).signature,
    ).toHaveLength(64);
  });

  it('aggregation refuses an R with a torsion component, even with every share made under that list', () => {
    // Pins the module doc's argument: the subgroup check left out at import and aggregation is
    // made up for by the cofactorless verification — which noble's (cofactored) verify is not.
    const suite = frostSuite('ed25519');
    const shareSet = publicShareSet(a.get(1)!);
    const signers = [1, 2, 3];
    const cs = commitAll(a, signers, 'torsion');
    const sets = new Map(
      signers.map((j) => [
        j,
        cs
          .get(j)!
          .complete(new Map(signers.filter((k) => k !== j).map((k) => [k, cs.get(k)!.message]))),
      ]),
    );
    // D_2 + T (T of order 4): what a dishonest party 2 would slip into a list.
    const list = frostCommitmentList(sets.get(1)!).slice();
    const at = 3 + 66 + 2;
    list.set(
      ed25519.Point.fromBytes(list.subarray(at, at + 32))
        .add(ed25519.Point.fromBytes(new Uint8Array(32)))
        .toBytes(),
      at,
    );
    const retarget = (j: number) => {
      const blob = exportFrostNonceSet(sets.get(j)!);
      blob.set(list, 4 + 4 + 32 + 2 + 32 + 4); // magic, sid, index, digest, list length
      return importFrostNonceSet(blob);
    };
    const path = 'm/44/501/0/0/7';
    const party2 = nonceSetInternalsForTesting(sets.get(2)!).nonces!;
    const retargeted = new Map([1, 3].map((j) => [j, retarget(j)]));
    const key = derivedSigningKey(suite, shareSet, signers, parsePath(path));
    const pkg = signingPackage(
      suite,
      key.groupKey,
      nonceSetInternalsForTesting(retargeted.get(1)!).commitments,
      msg,
    );
    const z = new Map<number, Uint8Array>();
    for (const [j, set] of retargeted)
      z.set(
        j,
        frostPooledSignatureShare({ nonceSet: set, keyShare: a.get(j)!, message: msg, path }),
      );
    const dec = (bytes: Uint8Array) => suite.curve.decodeScalar(bytes);
    z.set(
      2,
      signatureShare(
        pkg,
        2,
        tweakedSigningShare(suite, key, a.get(2)!),
        dec(party2.hiding),
        dec(party2.binding),
      ),
    );
    let sum = 0n;
    for (const v of z.values())
      sum = suite.curve.mod(sum + suite.curve.decodeScalar(v, undefined, true));
    const sig = Uint8Array.from([
      ...pkg.groupCommitment.toBytes(),
      ...suite.curve.encodeScalar(sum),
    ]);
    // A signature in the cofactored sense only: noble accepts it, OpenSSL does not…
    expect(ed25519.verify(sig, msg, key.verifyKey, { zip215: true })).toBe(true);
    expect(opensslVerifies(key.verifyKey, msg, sig)).toBe(false);
    // …and the aggregator refuses it.
    expect(() =>
      frostAggregate({ shareSet, commitments: list, message: msg, path, shares: z }),
    ).toThrow(
      expect.objectContaining({
        code: expect.stringMatching(/^ERR_MPC_(INVALID_SIGNATURE_SHARE|SIGNATURE_INVALID)$/),
      }),
    );
  });
});
