// Differential test of frost-arithmetic.ts against @noble/curves' RFC 9591 implementation
// (signShare, verifyShare, aggregate) on random trusted-dealer keys, for the three signing
// ciphersuites; for BIP340 until every combination of even/odd group key and group commitment
// has been seen. The RFC 9591 Appendix E vectors pin the Ed25519 and secp256k1 suites too
// (rfc9591-vectors.test.ts); BIP340 has no published FROST vectors, hence this test.
import type { FROST, NonceCommitments } from '@noble/curves/abstract/frost.js';
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr_FROST, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  aggregateSignature,
  commit,
  signatureShare,
  signingPackage,
  verifySignatureShare,
  type SigningCommitment,
} from '../src/frost-arithmetic.js';
import { frostSuite, type FrostCiphersuite } from '../src/frost-ciphersuite.js';

const SUITES: [FrostCiphersuite, FROST][] = [
  ['ed25519', ed25519_FROST],
  ['secp256k1-rfc9591', secp256k1_FROST],
  ['secp256k1-bip340', schnorr_FROST],
];
const MAX_ROUNDS = 64;
let rounds = 0;

describe('frost-arithmetic matches @noble/curves FROST', () => {
  for (const [cs, frost] of SUITES) {
    it(`${cs}: signature shares, share verification and aggregate`, () => {
      const suite = frostSuite(cs);
      const { curve } = suite;
      const seen = new Set<string>();
      const wanted = cs === 'secp256k1-bip340' ? 4 : 1;
      for (let round = 0; round < MAX_ROUNDS && seen.size < wanted; round++) {
        rounds += 1;
        const ids = [1, 2, 3].map((n) => frost.Identifier.fromNumber(n));
        const deal = frost.trustedDealer({ min: 2, max: 3 }, ids);
        const signers = round % 2 === 0 ? [1, 2, 3] : [1, 3];
        const message = new TextEncoder().encode(`message ${round}`);
        const secrets = signers.map((n) => deal.secretShares[frost.Identifier.fromNumber(n)]!);
        // §5.1 commit: ours and noble's from the same randomness.
        const randomness = signers.map(() => [randomBytes(32), randomBytes(32)]);
        const replay = (k: number) => {
          const queue = randomness[k]!.map((b) => new Uint8Array(b));
          return (n = 32) => {
            const next = queue.shift()!;
            expect(next.length).toBe(n);
            return next;
          };
        };
        const generated = secrets.map((s, k) => frost.commit(s, replay(k)));
        const mine = secrets.map((s, k) => commit(suite, signers[k]!, s.signingShare, replay(k)));
        mine.forEach((m, k) => {
          expect(m.hiding).toEqual(generated[k]!.nonces.hiding);
          expect(m.binding).toEqual(generated[k]!.nonces.binding);
          expect(m.commitment.hiding.toBytes()).toEqual(generated[k]!.commitments.hiding);
          expect(m.commitment.binding.toBytes()).toEqual(generated[k]!.commitments.binding);
          expect(m.commitment.index).toBe(signers[k]);
        });
        const list: NonceCommitments[] = generated.map((g) => g.commitments);
        const commitments: SigningCommitment[] = list.map((c, k) => ({
          index: signers[k]!,
          hiding: curve.decodePoint(c.hiding),
          binding: curve.decodePoint(c.binding),
        }));
        const groupKey = curve.decodePoint(deal.public.commitments[0]!);
        const pkg = signingPackage(suite, groupKey, commitments, message);
        seen.add(`${String(pkg.negateKey)}/${String(pkg.negateNonces)}`);
        const ours = signers.map((n, k) =>
          signatureShare(
            pkg,
            n,
            curve.decodeScalar(secrets[k]!.signingShare),
            curve.decodeScalar(generated[k]!.nonces.hiding),
            curve.decodeScalar(generated[k]!.nonces.binding),
          ),
        );
        const theirs = signers.map((_, k) =>
          frost.signShare(
            secrets[k]!,
            deal.public,
            {
              hiding: generated[k]!.nonces.hiding.slice(),
              binding: generated[k]!.nonces.binding.slice(),
            },
            list,
            message,
          ),
        );
        expect(ours).toEqual(theirs);
        const sigShares = Object.fromEntries(
          signers.map((n, k) => [frost.Identifier.fromNumber(n), ours[k]!]),
        );
        const scalars = ours.map((z) => curve.decodeScalar(z, undefined, true));
        expect(aggregateSignature(pkg, scalars)).toEqual(
          frost.aggregate(deal.public, list, message, sigShares),
        );
        signers.forEach((n, k) => {
          const Y = curve.decodePoint(deal.public.verifyingShares[frost.Identifier.fromNumber(n)]!);
          expect(verifySignatureShare(pkg, n, Y, scalars[k]!)).toBe(true);
          expect(verifySignatureShare(pkg, n, Y, curve.mod(scalars[k]! + 1n))).toBe(false);
        });
      }
      expect(seen.size).toBe(wanted);
    });
  }
  afterAll(() => {
    // Nothing silently skipped: at least one round per suite ran.
    expect(rounds).toBeGreaterThanOrEqual(SUITES.length);
  });
});
