// The RESHARE job refuses before any MPC message leaves: a roster not signed by the pinned
// platform key, a roster of another purpose (a KEYGEN roster replayed for a reshare), and an
// authorization not signed by the platform; a re-offered lease without a stored outcome fails
// instead of re-running; a finished run is answered from the store. An API co-signer dealer
// (reshare review H1) deals only through a Callback Handler or its operator's explicit opt-in:
// without either it refuses with PAIRING_NOT_GUARDED before any MPC message. The platform is a
// stub that answers the session and records every other call. The full protocol run is tested
// end to end in packages/cli/test/cosigner-reshare.test.ts.
import { join } from 'node:path';
import {
  encodePublicShareSet,
  exportKeyShare,
  publicShareSet,
  type KeyShare,
} from '@countersign/mpc';
import {
  encodeReshareAuthorization,
  encodeRoster,
  type LeasedJob,
  type RosterPurpose,
  type SessionResponse,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, describe, expect, it } from 'vitest';
import { PartyIdentity } from '../src/channel/identity.js';
import type { JobContext } from '../src/daemon/job-context.js';
import { reshareOutcomeMetaKey, runReshareJob } from '../src/daemon/reshare-job.js';
import { SignRefusedByCallback } from '../src/daemon/sign-callback.js';
import { KeyedSlots } from '../src/daemon/slots.js';
import type { PlatformClient } from '../src/platform/platform-client.js';
import { initStore, type CosignerStore } from '../src/store/cosigner-store.js';
import type { ShareSetParty } from '../src/store/share-set-repository.js';
import { ed25519KeyShares } from './frost-fixtures.js';
import { signedBy, stubPlatform } from './platform-stub.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

afterAll(cleanupTempDirs);

const platformSecret = ed25519.utils.randomSecretKey();
const platformKey = ed25519.getPublicKey(platformSecret);
const sessionHex = 'ab'.repeat(32);
const identities = [1, 2, 3, 4].map(() => PartyIdentity.generate());
afterAll(() => identities.forEach((i) => i.dispose()));

const job: LeasedJob = {
  jobId: '00000000-0000-4000-8000-000000000001',
  type: 'RESHARE',
  leaseId: '00000000-0000-4000-8000-000000000002',
  leaseExpiresAt: Date.now() + 60_000,
  attempt: 1,
  sessionId: sessionHex,
  workspaceId: '00000000-0000-4000-8000-000000000003',
  apiKeyId: '00000000-0000-4000-8000-000000000004',
  algorithm: 'EDDSA_ED25519',
  shareSetId: 'share-set-new',
  threshold: 3,
};

const OLD_SIGNER = '00000000-0000-4000-8000-00000000000a';

function published(options: {
  purpose?: RosterPurpose;
  rosterKey?: Uint8Array;
  authorizationKey?: Uint8Array;
  oldShareSet?: Uint8Array;
}): SessionResponse {
  const expiresAt = Date.now() + 60_000;
  const roster = encodeRoster({
    sessionId: Buffer.from(sessionHex, 'hex'),
    shareSetId: job.shareSetId,
    purpose: options.purpose ?? 'RESHARE',
    expiresAt,
    parties: identities.map((id, k) => ({
      index: k + 1,
      cosignerId: `cosigner-${k + 1}`,
      ...id.publicKeys(),
    })),
  });
  const authorization = encodeReshareAuthorization({
    sessionId: Buffer.from(sessionHex, 'hex'),
    algorithm: 'EDDSA_ED25519',
    oldShareSetId: 'share-set-old',
    newShareSetId: job.shareSetId,
    oldSignerId: OLD_SIGNER,
    newSignerId: job.apiKeyId,
    newCosignerId: 'cosigner-4',
    approvalRequestId: '00000000-0000-4000-8000-00000000000c',
    dealers: [1, 2, 3],
    receivers: [1, 2, 4],
    threshold: 3,
    oldShareSet: options.oldShareSet ?? new Uint8Array(8).fill(1),
    expiresAt,
  });
  return {
    sessionId: sessionHex,
    status: 'OPEN',
    signedRoster: signedBy(roster, options.rosterKey ?? platformSecret),
    signedAuthorization: signedBy(authorization, options.authorizationKey ?? platformSecret),
    expiresAt,
  };
}

/** A FROST DKG among cloud-1, cloud-2 and party 3 (the existing signer); party 3's share. */
function existingSignerShare(): KeyShare {
  return ed25519KeyShares(7).get(3)!;
}

/** The existing signer's store: its API key paired, its old share set (pinned when given). */
async function existingSignerStore(
  share: KeyShare,
  parties?: ShareSetParty[],
): Promise<CosignerStore> {
  const dir = await tempDir();
  const store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
  store.pairedApiKeys.addPairedApiKey({
    apiKeyId: OLD_SIGNER,
    cosignerId: 'cosigner-3',
    platformUrl: 'https://platform.example',
  });
  store.shareSets.putShareSet({
    id: 'share-set-old',
    apiKeyId: OLD_SIGNER,
    algorithm: 'EDDSA_ED25519',
    share: exportKeyShare(share),
    ...(parties === undefined ? {} : { parties }),
  });
  return store;
}

/** The existing signer's API co-signer (index 3): the dealer that leaves. */
function dealerContext(
  store: CosignerStore,
  client: PlatformClient,
  approvePairingsWithoutHandler?: boolean,
): JobContext {
  return {
    client,
    accessToken: () => Promise.resolve('csat_test'),
    store,
    identity: identities[2]!,
    platformKey,
    signal: new AbortController().signal,
    mode: 'api',
    ...(approvePairingsWithoutHandler === undefined ? {} : { approvePairingsWithoutHandler }),
    presignSlots: new KeyedSlots(8),
  };
}

describe('RESHARE job refusals', () => {
  it('refuses a roster or authorization the platform did not sign, and a roster of another purpose', async () => {
    const dir = await tempDir();
    const store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
    const calls: string[] = [];
    let answer: SessionResponse | undefined;
    const client = stubPlatform(() => answer, calls);
    // The new signer's co-signer (index 4): a receiver that holds no old share.
    const ctx: JobContext = {
      client,
      accessToken: () => Promise.resolve('csat_test'),
      store,
      identity: identities[3]!,
      platformKey,
      signal: new AbortController().signal,
      presignSlots: new KeyedSlots(8),
    };
    const other = ed25519.utils.randomSecretKey();
    const cases: [Parameters<typeof published>[0], RegExp][] = [
      // The channel's one fixed message for every cryptographic failure (no oracle).
      [{ rosterKey: other }, /cryptographic verification failed/],
      [{ purpose: 'KEYGEN' }, /purpose/i],
      [{ authorizationKey: other }, /reshare authorization: signature does not verify/],
    ];
    try {
      for (const [options, message] of cases) {
        answer = published(options);
        await expect(runReshareJob(ctx, job)).rejects.toThrow(message);
      }
      expect(calls).toEqual([]);
      expect(store.shareSets.getShareSet(job.shareSetId)).toBeUndefined();

      // A re-offered lease never re-runs; a stored outcome answers without the platform.
      answer = undefined;
      await expect(runReshareJob(ctx, { ...job, attempt: 2 })).rejects.toThrow(/cannot resume/);
      const outcome = { publicKey: 'cd'.repeat(32), chainCode: 'ef'.repeat(32) };
      store.setMeta(reshareOutcomeMetaKey(job.sessionId), JSON.stringify(outcome));
      expect(await runReshareJob(ctx, { ...job, attempt: 2 })).toEqual(outcome);
      expect(calls).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe("the existing signer's API co-signer guards the pairing (reshare review H1)", () => {
  it('refuses to deal without a Callback Handler unless its operator opted in', async () => {
    const share = existingSignerShare();
    const store = await existingSignerStore(share);
    const answer = published({ oldShareSet: encodePublicShareSet(publicShareSet(share)) });
    const calls: string[] = [];
    const ctx = (approvePairingsWithoutHandler?: boolean): JobContext =>
      dealerContext(
        store,
        stubPlatform(() => answer, calls),
        approvePairingsWithoutHandler,
      );
    try {
      // The default and an explicit false: refused, with its own sub-status, before any message.
      for (const optIn of [undefined, false]) {
        const refusal = await runReshareJob(ctx(optIn), job).catch((e: unknown) => e);
        expect(refusal).toBeInstanceOf(SignRefusedByCallback);
        expect(refusal).toMatchObject({ subStatus: 'PAIRING_NOT_GUARDED' });
        expect((refusal as Error).message).toContain(OLD_SIGNER);
      }
      expect(calls).toEqual([]);

      // Opted in: it deals — its first MPC message goes to the platform.
      await expect(runReshareJob(ctx(true), job)).rejects.toThrow(/no other platform call/);
      expect(calls).toEqual(['postMessages']);

      // Unpaired here, the opt-in does not help: the old signer's share is not dealt.
      calls.length = 0;
      store.pairedApiKeys.markUnpaired(OLD_SIGNER);
      await expect(runReshareJob(ctx(true), job)).rejects.toMatchObject({
        code: 'ERR_COSIGNER_NOT_FOUND',
      });
      expect(calls).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe("a dealer's roster seats the old share set's pinned parties (pool review M2)", () => {
  it('refuses another key at a dealer index before anyone is asked; the pinned keys deal', async () => {
    const share = existingSignerShare();
    const answer = published({ oldShareSet: encodePublicShareSet(publicShareSet(share)) });
    const elsewhere = PartyIdentity.generate();
    /** Pinned when the old share set was made: `cloud1` at index 1, then parties 2 and 3. */
    const pinnedWith = (cloud1: PartyIdentity): ShareSetParty[] =>
      [cloud1, identities[1]!, identities[2]!].map((id, k) => ({
        index: k + 1,
        ...id.publicKeys(),
      }));
    const calls: string[] = [];
    const ctx = (store: CosignerStore): JobContext =>
      dealerContext(
        store,
        stubPlatform(() => answer, calls),
        true,
      );
    const pinnedElsewhere = await existingSignerStore(share, pinnedWith(elsewhere));
    const pinnedAsSeated = await existingSignerStore(share, pinnedWith(identities[0]!));
    try {
      // The roster seats cosigner-1's keys at index 1; the old share set was made with others.
      await expect(runReshareJob(ctx(pinnedElsewhere), job)).rejects.toMatchObject({
        code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
        message: expect.stringMatching(/party 1 is not seated with the keys pinned/),
      });
      expect(calls).toEqual([]);
      // Seated as pinned: it deals — its first MPC message goes to the platform.
      await expect(runReshareJob(ctx(pinnedAsSeated), job)).rejects.toThrow(
        /no other platform call/,
      );
      expect(calls).toEqual(['postMessages']);
    } finally {
      elsewhere.dispose();
      pinnedElsewhere.close();
      pinnedAsSeated.close();
    }
  });
});
