// Test-only trusted dealer for DKLs23 key shares: the output a DKG would give (Shamir shares of
// a random key, a shared zero seed per pair, and OT setups of each ordered pair that are
// correlated as the base OTs make them: Alice's k_l = Bob's k_l^{Δ_l}), in milliseconds instead
// of a DKG's seconds of base OTs. Used where the DKG itself is not under test (reshare, key-share
// decoding), so CI does not pay for a DKG per file. Never a production path: the dealer knows x.
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Dkls23KeyShare, Dkls23Pair } from '../src/index.js';
import { redactKeyShare } from '../src/key-share.js';

const Fn = secp256k1.Point.Fn;
const G = secp256k1.Point.BASE;
const OT_COUNT = 128;
const OT_KEY = 32;

const scalarBytes = (k: bigint): Uint8Array =>
  Uint8Array.from(Buffer.from(k.toString(16).padStart(64, '0'), 'hex'));

function randomScalar(): bigint {
  for (;;) {
    const k = BigInt('0x' + randomBytes(32).toString('hex'));
    if (k > 0n && k < Fn.ORDER) return k;
  }
}

const bit = (b: Uint8Array, l: number): number => ((b[l >>> 3] ?? 0) >>> (l & 7)) & 1;

/** A t-of-n DKLs23 share set over `parties`, one key share per party. */
export function dealDkls23Shares(
  parties: readonly number[],
  threshold: number,
): Map<number, Dkls23KeyShare> {
  const coefficients = Array.from({ length: threshold }, randomScalar);
  const f = (x: number): bigint =>
    coefficients.reduceRight((acc, a) => Fn.add(Fn.mul(acc, BigInt(x)), a), 0n);
  const shares = new Map(parties.map((j) => [j, f(j)]));
  const publicKey = G.multiply(coefficients[0]!).toBytes();
  const chainCode = new Uint8Array(randomBytes(32));
  const verificationShares = parties.map((j) => G.multiply(shares.get(j)!).toBytes());
  // Ordered pair (alice → bob): Δ and Bob's two key vectors; Alice keeps k_l^{Δ_l}.
  const setups = new Map<string, { delta: Uint8Array; keys0: Uint8Array[]; keys1: Uint8Array[] }>();
  const keys = () => Array.from({ length: OT_COUNT }, () => new Uint8Array(randomBytes(OT_KEY)));
  for (const a of parties)
    for (const b of parties)
      if (a !== b)
        setups.set(`${a}>${b}`, {
          delta: new Uint8Array(randomBytes(OT_COUNT / 8)),
          keys0: keys(),
          keys1: keys(),
        });
  const zeroSeeds = new Map<string, Uint8Array>();
  for (const a of parties)
    for (const b of parties) if (a < b) zeroSeeds.set(`${a}-${b}`, new Uint8Array(randomBytes(32)));
  const out = new Map<number, Dkls23KeyShare>();
  for (const i of parties) {
    const pairs: Dkls23Pair[] = parties
      .filter((j) => j !== i)
      .map((j) => {
        const mine = setups.get(`${i}>${j}`)!;
        const theirs = setups.get(`${j}>${i}`)!;
        return {
          party: j,
          zeroSeed: zeroSeeds.get(`${Math.min(i, j)}-${Math.max(i, j)}`)!.slice(),
          otSender: {
            sender: i,
            receiver: j,
            delta: mine.delta.slice(),
            keys: mine.keys0.map((k0, l) =>
              (bit(mine.delta, l) === 1 ? mine.keys1[l]! : k0).slice(),
            ),
            destroyed: false,
          },
          otReceiver: {
            sender: j,
            receiver: i,
            keys0: theirs.keys0.map((k) => k.slice()),
            keys1: theirs.keys1.map((k) => k.slice()),
            destroyed: false,
          },
        };
      });
    // Redacted for util.inspect / JSON.stringify, as a DKG's fresh share is.
    out.set(
      i,
      redactKeyShare<Dkls23KeyShare>({
        curve: 'secp256k1',
        threshold,
        parties: [...parties],
        index: i,
        signingShare: scalarBytes(shares.get(i)!),
        publicKey: publicKey.slice(),
        chainCode: chainCode.slice(),
        verificationShares: verificationShares.map((v) => v.slice()),
        pairs,
      }),
    );
  }
  return out;
}
