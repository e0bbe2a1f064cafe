import { describe, expect, it } from 'vitest';
import { dkg, sign } from '../src/index.js';
import { runSessions, sid } from './helpers.js';

describe('smoke', () => {
  it('dkg + sign', () => {
    for (const curve of ['ed25519', 'secp256k1'] as const) {
      const parties = [1, 2, 3];
      const s = new Map(
        parties.map((me) => [me, dkg({ curve, sid: sid('dkg'), parties, me, threshold: 2 })]),
      );
      const out = runSessions(s);
      expect(out.errors.size).toBe(0);
      const shares = out.results;
      const sg = new Map(
        [1, 3].map((me) => [
          me,
          sign({
            sid: sid('sign'),
            keyShare: shares.get(me)!,
            signers: [1, 3],
            message: new Uint8Array(32),
            path: 'm/44/0/0',
          }),
        ]),
      );
      const o2 = runSessions(sg);
      expect(o2.errors).toEqual(new Map());
      expect(o2.results.size).toBe(2);
    }
  });
});
