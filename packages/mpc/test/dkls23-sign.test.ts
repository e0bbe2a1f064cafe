// DKLs23 signing end to end on a 3-of-3 share set (Countersign's): presign, online round,
// combination; signatures verify with @noble/curves, node:crypto (DER) and viem's
// recoverAddress, under keys derived as @scure/bip32 derives them; presignatures are bound to
// their share set, re-randomised per message and path, and refused when presented twice; a
// presigning session restores only once finished (review 2026-11-24, C2).
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { recoverAddress, type Hex } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  combineSignatureShares,
  createSignatureShare,
  exportPresignature,
  importPresignature,
  InMemoryPresignatureStore,
  publicShareSet,
  resumeSession,
  signingContext,
  type Dkls23KeyShare,
  type Dkls23Presignature,
} from '../src/index.js';
import type { ProtocolMessage } from '../src/message.js';
import { deliver, freshSid, presign, presignSessions, signWith } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`;
const randomHash = (): Uint8Array => crypto.getRandomValues(new Uint8Array(32));

/** DER signature and a node:crypto public key for it. */
function forNode(sig: { r: bigint; s: bigint }, publicKey: Uint8Array) {
  const der = secp256k1.Signature.fromBytes(
    Uint8Array.from([...toBytes(sig.r), ...toBytes(sig.s)]),
    'compact',
  ).toBytes('der');
  const xy = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'secp256k1',
      x: Buffer.from(xy.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(xy.subarray(33)).toString('base64url'),
    },
    format: 'jwk',
  });
  return { der, key };
}

function toBytes(n: bigint): number[] {
  return [...Buffer.from(n.toString(16).padStart(64, '0'), 'hex')];
}

describe('DKLs23 signing, 3-of-3', () => {
  let shares: Map<number, Dkls23KeyShare>;
  // A trusted-dealer share set: signing is under test here, not the DKG (whose own shares
  // presign and sign in dkls23-keygen.test.ts), and a DKG costs seconds of base OTs per file.
  beforeAll(() => {
    shares = dealDkls23Shares([1, 2, 3], 3);
  });

  it.each(['m/44/60/0/0/7', 'm/44/60/3/0/0', 'm/44/0/0/1/42'])(
    'signs under %s: noble, node:crypto (DER) and viem recoverAddress agree',
    async (path) => {
      const preimage = new TextEncoder().encode(`countersign dkls23 test transaction ${path}`);
      const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', preimage));
      const sig = await signWith(shares, presign(shares, [1, 2, 3]), hash, path);
      // The derived key is the one @scure/bip32 derives from the share set's xpub.
      const root = shares.get(1)!;
      const xpub = new HDKey({ publicKey: root.publicKey, chainCode: root.chainCode });
      expect(hex(sig.publicKey)).toBe(hex(xpub.derive(path).publicKey!));
      expect(secp256k1.verify(sig.compact, hash, sig.publicKey, { prehash: false })).toBe(true);
      expect(sig.s <= secp256k1.Point.Fn.ORDER / 2n).toBe(true);
      // node:crypto hashes its input itself: give it the preimage of the SHA-256 digest we signed.
      const { der, key } = forNode(sig, sig.publicKey);
      expect(nodeVerify('sha256', preimage, { key, dsaEncoding: 'der' }, der)).toBe(true);
      const address = await recoverAddress({
        hash: hex(hash),
        signature: `${hex(sig.compact)}${(27 + (sig.recovery & 1)).toString(16)}` as Hex,
      });
      const uncompressed = secp256k1.Point.fromBytes(sig.publicKey).toBytes(false);
      expect(address).toBe(publicKeyToAddress(hex(uncompressed)));
    },
  );

  it('signs under the root key when no path is given', async () => {
    const hash = randomHash();
    const sig = await signWith(shares, presign(shares, [1, 2, 3]), hash);
    expect(sig.publicKey).toEqual(shares.get(1)!.publicKey);
    expect(secp256k1.verify(sig.compact, hash, sig.publicKey, { prehash: false })).toBe(true);
  });

  it('a presignature presented twice is refused (ERR_MPC_PRESIGNATURE_SPENT)', async () => {
    const ps = await presign(shares, [1, 2, 3]);
    const store = new InMemoryPresignatureStore();
    const saved = exportPresignature(ps.get(1)!);
    const shareSet = publicShareSet(shares.get(1)!);
    await createSignatureShare({
      presignature: ps.get(1)!,
      shareSet,
      messageHash: randomHash(),
      store,
    });
    // The co-signer restored the stored copy and tries again, for another message.
    await expect(
      createSignatureShare({
        presignature: importPresignature(saved),
        shareSet,
        messageHash: randomHash(),
        store,
      }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_PRESIGNATURE_SPENT' });
  });

  it('a presignature is bound to its share set', async () => {
    const ps = await presign(shares, [1, 2, 3]);
    const other = { ...publicShareSet(shares.get(1)!), chainCode: new Uint8Array(32).fill(1) };
    await expect(
      createSignatureShare({
        presignature: ps.get(1)!,
        shareSet: other,
        messageHash: randomHash(),
        store: new InMemoryPresignatureStore(),
      }),
    ).rejects.toMatchObject({ code: 'ERR_MPC_PRESIGNATURE' });
  });

  it('the online nonce is re-randomised per message and path (R′ ≠ R)', async () => {
    const ps = await presign(shares, [1, 2, 3]);
    const R = ps.get(1)!.R.slice();
    // δ = Hq("rerand", sid, R, h, path, S) [GS22]: a different message or path gives another R′.
    const shareSet = publicShareSet(shares.get(1)!);
    const [h1, h2] = [randomHash(), randomHash()];
    const contexts = [
      signingContext(ps.get(1)!, shareSet, h1, 'm/1'),
      signingContext(ps.get(1)!, shareSet, h2, 'm/1'),
      signingContext(ps.get(1)!, shareSet, h1, 'm/2'),
      signingContext(ps.get(1)!, shareSet, h2, 'm/2'),
      signingContext(ps.get(1)!, shareSet, h1, []),
    ];
    const rPrimes = contexts.map((c) => hex(c.R.toBytes()));
    expect(new Set(rPrimes).size).toBe(contexts.length);
    expect(rPrimes).not.toContain(hex(R));
    for (const c of contexts) expect(c.delta).not.toBe(0n);
    // Every signer derives the same R′ for the same message and path.
    expect(hex(signingContext(ps.get(3)!, shareSet, h2, 'm/2').R.toBytes())).toBe(rPrimes[3]);
    const sig = await signWith(shares, ps, h1, 'm/1');
    expect(toBytes(sig.r)).not.toEqual([...R.subarray(1)]);
    expect(hex(Uint8Array.from(toBytes(sig.r)))).toBe(hex(contexts[0]!.R.toBytes().subarray(1)));
    expect(secp256k1.verify(sig.compact, h1, sig.publicKey, { prehash: false })).toBe(true);
  });

  it('a share for another message or session is refused naming its sender', async () => {
    const ps1 = await presign(shares, [1, 2, 3]);
    const ps2 = await presign(shares, [1, 2, 3]);
    const shareSet = publicShareSet(shares.get(1)!);
    const hash = randomHash();
    const mine = await createSignatureShare({
      presignature: ps1.get(1)!,
      shareSet,
      messageHash: hash,
      store: new InMemoryPresignatureStore(),
    });
    const otherMessage = await createSignatureShare({
      presignature: ps1.get(2)!,
      shareSet,
      messageHash: randomHash(),
      store: new InMemoryPresignatureStore(),
    });
    const otherSession = await createSignatureShare({
      presignature: ps2.get(3)!,
      shareSet,
      messageHash: hash,
      store: new InMemoryPresignatureStore(),
    });
    expect(() => combineSignatureShares(mine.context, [mine.share, otherMessage.share])).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_CONTEXT_MISMATCH', culprit: 2 }),
    );
    expect(() => combineSignatureShares(mine.context, [mine.share, otherSession.share])).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_WRONG_SESSION', culprit: 3 }),
    );
  });

  it('a tampered signature share fails verification before release', async () => {
    const ps = await presign(shares, [1, 2, 3]);
    const shareSet = publicShareSet(shares.get(1)!);
    const hash = randomHash();
    const outs: Awaited<ReturnType<typeof createSignatureShare>>[] = [];
    for (const [, p] of ps)
      outs.push(
        await createSignatureShare({
          presignature: p,
          shareSet,
          messageHash: hash,
          store: new InMemoryPresignatureStore(),
        }),
      );
    const bad = outs[2]!.share.slice();
    bad[bad.length - 1]! ^= 1;
    expect(() =>
      combineSignatureShares(outs[0]!.context, [outs[0]!.share, outs[1]!.share, bad]),
    ).toThrow(expect.objectContaining({ code: 'ERR_MPC_SIGNATURE_INVALID' }));
  });

  it('a presigning session restores only once finished (before: SID_REUSED / NONCE_REUSE)', async () => {
    const sessions = await presignSessions(shares, [1, 2, 3], freshSid('resume'));
    // Before start(): its sid is claimed, and a restored copy would be a second run under it.
    expect(() => resumeSession(sessions.get(2)!.toBytes())).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_SID_REUSED' }),
    );
    const initial: ProtocolMessage[] = [];
    for (const s of sessions.values()) initial.push(...s.start());
    // Party 2's state is taken before every delivery to it: mid-round 1, after it, in round 2.
    // None of them may load: its one-time values were never written (review C2).
    let refused = 0;
    let running: Uint8Array | undefined;
    const results = deliver(sessions, initial, (_m, to) => {
      if (to !== 2) return;
      running = sessions.get(2)!.toBytes();
      expect(() => resumeSession(running!)).toThrow(
        expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }),
      );
      refused++;
    });
    expect(refused).toBe(8); // from each of 2 peers, per round: a broadcast and a p2p message
    // The finished presignature restores, and signs.
    const restored = resumeSession<Dkls23Presignature>(sessions.get(2)!.toBytes());
    expect(restored.status).toBe('done');
    expect(exportPresignature(restored.result())).toEqual(exportPresignature(results.get(2)!));
    // A v1 state (tag 0: it held the seed of r_i, φ_i, β, â) is refused; an unknown tag is malformed.
    const legacy = running!.slice();
    legacy[legacy.length - 1] = 0;
    expect(() => resumeSession(legacy)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_NONCE_REUSE' }),
    );
    legacy[legacy.length - 1] = 9;
    expect(() => resumeSession(legacy)).toThrow(
      expect.objectContaining({ code: 'ERR_MPC_MALFORMED' }),
    );
    results.set(2, restored.result());
    const hash = randomHash();
    const sig = await signWith(shares, results, hash);
    expect(secp256k1.verify(sig.compact, hash, sig.publicKey, { prehash: false })).toBe(true);
  });
});
