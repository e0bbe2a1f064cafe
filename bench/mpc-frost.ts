// FROST benchmark: DKG, reshare, refresh and signing for 3 parties in one process, with the
// bytes each round puts on the wire, against a single-key signature baseline measured in the
// same run. Prints one JSON document. Run: npx tsx --conditions=@countersign/source bench/mpc-frost.ts
import { performance } from 'node:perf_hooks';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { dkg, publicShareSet, refresh, reshare, sign, type CurveName } from '@countersign/mpc';
import { run, sid } from './mpc-harness.js';

function timeIt<T>(iterations: number, f: () => T): { ms: number; last: T } {
  let last = f(); // warm-up
  const start = performance.now();
  for (let i = 0; i < iterations; i++) last = f();
  return { ms: Number(((performance.now() - start) / iterations).toFixed(3)), last };
}

const parties = [1, 2, 3];
const message = new Uint8Array(32).fill(0x42);

function benchCurve(curve: CurveName) {
  const dkgRun = timeIt(5, () => {
    const id = sid();
    return run(
      new Map(parties.map((me) => [me, dkg({ curve, sid: id, parties, me, threshold: 3 })])),
    );
  });
  const shares = dkgRun.last.results;
  const shareSet = publicShareSet(shares.get(1)!);
  const reshareRun = timeIt(5, () => {
    const id = sid();
    return run(
      new Map(
        [1, 2, 3, 4].map((me) => [
          me,
          reshare({
            sid: id,
            dealers: parties,
            receivers: [1, 2, 4],
            threshold: 3,
            me,
            ...(me === 4 ? { shareSet } : { keyShare: shares.get(me)! }),
          }),
        ]),
      ),
    );
  });
  const refreshRun = timeIt(5, () => {
    const id = sid();
    return run(new Map(parties.map((me) => [me, refresh({ sid: id, keyShare: shares.get(me)! })])));
  });
  const signRun = timeIt(20, () => {
    const id = sid();
    return run(
      new Map(
        parties.map((me) => [
          me,
          sign({
            sid: id,
            keyShare: shares.get(me)!,
            signers: parties,
            message,
            path: 'm/44/0/0/0/1',
          }),
        ]),
      ),
    );
  });
  const sk = new Uint8Array(32).fill(7);
  const baseline =
    curve === 'ed25519'
      ? timeIt(50, () => ed25519.sign(message, sk))
      : timeIt(50, () => schnorr.sign(message, sk));
  return {
    ciphersuite: curve === 'ed25519' ? 'FROST(Ed25519, SHA-512)' : 'FROST secp256k1 BIP340',
    dkg: { msAllParties: dkgRun.ms, bytesPerRound: dkgRun.last.bytesPerRound },
    reshare: {
      note: '3 dealers -> {1,2,4}',
      msAllParties: reshareRun.ms,
      bytesPerRound: reshareRun.last.bytesPerRound,
    },
    refresh: { msAllParties: refreshRun.ms, bytesPerRound: refreshRun.last.bytesPerRound },
    sign: {
      note: 'derived path, aggregate verified',
      msAllParties: signRun.ms,
      bytesPerRound: signRun.last.bytesPerRound,
    },
    baselineSingleKeySignMs: baseline.ms,
    signOverBaseline: Number((signRun.ms / baseline.ms).toFixed(1)),
  };
}

const report = {
  bench: 'mpc-frost',
  parties: 3,
  threshold: 3,
  node: process.version,
  results: [benchCurve('ed25519'), benchCurve('secp256k1')],
};
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
