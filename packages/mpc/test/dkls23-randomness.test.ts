// Review 2026-11-27, F2: the package entry point takes no injected randomness for DKLs23. The
// public parameter types have no `random` (a type error, checked by tsc over the tests), and a
// `random` property smuggled in anyway is ignored: the sessions draw from the CSPRNG. Injected
// randomness is reachable through test-hooks.ts only, as for FROST.
import { describe, expect, it } from 'vitest';
import {
  dkls23Dkg,
  dkls23Presign,
  dkls23Refresh,
  dkls23Reshare,
  publicShareSet,
  type Dkls23DkgParams,
  type Dkls23PresignParams,
  type Dkls23RefreshParams,
  type Dkls23ReshareParams,
  type RandomSource,
} from '../src/index.js';
import * as entry from '../src/index.js';
import { dkls23DkgForTesting, dkls23PresignForTesting } from '../src/test-hooks.js';
import { sid } from './helpers.js';
import { freshSid, testRegistry } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

/** A source that gives the same bytes on every call: what a stored or seeded source amounts to. */
const replaying: RandomSource = (n) => new Uint8Array(n).fill(7);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('DKLs23 entry points take no injected randomness (F2)', () => {
  it('the public parameter types have no `random`', () => {
    const shares = dealDkls23Shares([1, 2], 2);
    const keyShare = shares.get(1)!;
    const presign: Dkls23PresignParams = {
      sid: freshSid(),
      keyShare,
      signers: [1, 2],
      registry: testRegistry,
      // @ts-expect-error: not a public parameter (test-hooks.ts: dkls23PresignForTesting)
      random: replaying,
    };
    const dkg: Dkls23DkgParams = {
      sid: sid('dkg'),
      parties: [1, 2],
      me: 1,
      threshold: 2,
      // @ts-expect-error: not a public parameter (test-hooks.ts: dkls23DkgForTesting)
      random: replaying,
    };
    const reshare: Dkls23ReshareParams = {
      sid: sid('reshare'),
      dealers: [1, 2],
      receivers: [1, 2, 3],
      threshold: 3,
      me: 1,
      keyShare,
      // @ts-expect-error: not a public parameter (test-hooks.ts: dkls23ReshareForTesting)
      random: replaying,
    };
    const refresh: Dkls23RefreshParams = {
      sid: sid('refresh'),
      keyShare,
      // @ts-expect-error: not a public parameter (test-hooks.ts: dkls23RefreshForTesting)
      random: replaying,
    };
    expect([presign, dkg, reshare, refresh].every((p) => 'random' in p)).toBe(true);
    // And the test hooks are not on the entry point.
    for (const name of [
      'dkls23PresignForTesting',
      'dkls23DkgForTesting',
      'dkls23ReshareForTesting',
      'dkls23RefreshForTesting',
    ])
      expect(name in entry).toBe(false);
    expect(publicShareSet(keyShare).parties).toEqual([1, 2]);
  });

  it('a smuggled `random` is ignored: presigning draws n_B from the CSPRNG', async () => {
    const shares = dealDkls23Shares([1, 2], 2);
    const nonceOf = async (make: typeof dkls23Presign) => {
      const params = {
        sid: freshSid(),
        keyShare: shares.get(1)!,
        signers: [1, 2],
        registry: testRegistry,
        random: replaying,
      } as Dkls23PresignParams;
      const toTwo = (await make(params)).start().find((m) => m.to === 2)!;
      return hex(toTwo.payload.subarray(0, 32)); // n_B, Bob's per-use OT nonce
    };
    const injected = (p: Dkls23PresignParams) => dkls23PresignForTesting(p, { random: replaying });
    // Control: through the test hook the replaying source gives the same n_B every time …
    expect(await nonceOf(injected)).toBe(await nonceOf(injected));
    expect(await nonceOf(injected)).toBe('07'.repeat(32));
    // … through the entry point it is never used.
    const [a, b] = [await nonceOf(dkls23Presign), await nonceOf(dkls23Presign)];
    expect(a).not.toBe(b);
    expect(a).not.toBe('07'.repeat(32));
  });

  it('a smuggled `random` is ignored by key generation (DKG, reshare, refresh)', () => {
    const shares = dealDkls23Shares([1, 2], 2);
    const round1 = (s: { start(): { to: unknown; payload: Uint8Array }[] }) =>
      hex(s.start().find((m) => m.to === 'broadcast')!.payload);
    const dkgParams = {
      sid: sid('dkg-random'),
      parties: [1, 2],
      me: 1,
      threshold: 2,
      random: replaying,
    } as Dkls23DkgParams;
    // Control: the same seed gives the same round-1 commitment through the test hook.
    expect(round1(dkls23DkgForTesting(dkgParams, { random: replaying }))).toBe(
      round1(dkls23DkgForTesting(dkgParams, { random: replaying })),
    );
    expect(round1(dkls23Dkg(dkgParams))).not.toBe(round1(dkls23Dkg(dkgParams)));
    const reshareParams = {
      sid: sid('reshare-random'),
      dealers: [1, 2],
      receivers: [1, 2, 3],
      threshold: 3,
      me: 1,
      keyShare: shares.get(1)!,
      random: replaying,
    } as Dkls23ReshareParams;
    expect(round1(dkls23Reshare(reshareParams))).not.toBe(round1(dkls23Reshare(reshareParams)));
    const refreshParams = {
      sid: sid('refresh-random'),
      keyShare: shares.get(1)!,
      random: replaying,
    } as Dkls23RefreshParams;
    expect(round1(dkls23Refresh(refreshParams))).not.toBe(round1(dkls23Refresh(refreshParams)));
  });
});
