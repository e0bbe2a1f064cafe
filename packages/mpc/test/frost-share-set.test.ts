// The memoised share-set validation of the FROST protocols (frost-share-set.ts) must answer
// exactly like an uncached check: once a share set is cached, any other share set (a changed
// point, a moved byte, a field of another type) and any wrong signing share are still refused.
import { describe, expect, it } from 'vitest';
import { sign, type KeyShare } from '../src/index.js';
import { checkKeyShareCached, checkShareSet } from '../src/frost-share-set.js';
import { runDkg, sid } from './helpers.js';

const keyShareError = expect.objectContaining({ code: 'ERR_MPC_KEY_SHARE' });

describe('memoised share-set validation', () => {
  for (const curve of ['ed25519', 'secp256k1'] as const) {
    it(`${curve}: a cached share set does not let a different one, or a wrong share, through`, () => {
      const shares = runDkg(curve, [1, 2, 3], 3, `share-set cache ${curve}`);
      const good = shares.get(1)!;
      const other = shares.get(2)!;
      // Populate the cache, twice (the hit must equal the miss).
      const first = checkShareSet(good);
      expect(checkShareSet(good)).toBe(first);
      expect(checkKeyShareCached(good).checked).toBe(first);
      const start = (keyShare: KeyShare) => () =>
        sign({ sid: sid('cache'), keyShare, signers: [1, 2, 3], message: new Uint8Array(32) });
      expect(start(good)).not.toThrow();

      // A swapped verification share: same bytes overall, another share set.
      const swapped = {
        ...good,
        verificationShares: [
          good.verificationShares[1]!,
          good.verificationShares[0]!,
          good.verificationShares[2]!,
        ],
      };
      expect(() => checkShareSet(swapped)).toThrow(keyShareError);
      expect(start(swapped)).toThrow(keyShareError);

      // The same concatenated bytes split at another place (public key one byte shorter).
      const shifted = {
        ...good,
        publicKey: good.publicKey.slice(0, -1),
        chainCode: Uint8Array.of(good.publicKey.at(-1)!, ...good.chainCode),
      };
      expect(() => checkShareSet(shifted)).toThrow(keyShareError);

      // Fields of another type that print like the cached ones.
      expect(() =>
        checkShareSet({
          ...good,
          threshold: '3' as unknown as number,
          parties: ['1', '2', '3'] as unknown as number[],
        }),
      ).toThrow(keyShareError);

      // The secret part is never cached: another party's share under my index is refused.
      expect(() => checkKeyShareCached({ ...good, signingShare: other.signingShare })).toThrow(
        keyShareError,
      );
      expect(start({ ...good, signingShare: other.signingShare })).toThrow(keyShareError);
    });
  }
});
