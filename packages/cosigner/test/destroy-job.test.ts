// The DESTROY job of a Cloud Co-signer (ARCHITECTURE §3 "Unpair"): an order the platform signed
// destroys the share set it names — a tombstone stays, the share no longer opens — and a repeat,
// or a share set never held here, is answered as already destroyed. Refused with the store
// untouched: an authorization not signed by the pinned platform key, any altered byte, another
// domain tag (a reshare authorization), an expired one, one naming another session, API key or
// algorithm, a roster of another purpose, a share set held here for another API key, a roster
// that does not seat the clouds pinned for the share set (pool review M2), and any DESTROY job
// sent to an API co-signer. The platform is a stub that answers the session and records every
// other call (there must be none).
import { join } from 'node:path';
import {
  encodeDestroyAuthorization,
  encodeRoster,
  type DestroyAuthorization,
  type LeasedJob,
  type RosterParty,
  type RosterPurpose,
  type SessionResponse,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { PartyIdentity } from '../src/channel/identity.js';
import { verifyDestroyAuthorization } from '../src/daemon/destroy-authorization.js';
import { runDestroyJob } from '../src/daemon/destroy-job.js';
import type { JobContext } from '../src/daemon/job-context.js';
import { KeyedSlots } from '../src/daemon/slots.js';
import { initStore, type CosignerStore } from '../src/store/cosigner-store.js';
import { signedBy as platformSigned, stubPlatform } from './platform-stub.js';
import { cleanupTempDirs, pattern, tempDir, testLocalKms } from './store-helpers.js';

const platformSecret = ed25519.utils.randomSecretKey();
const platformKey = ed25519.getPublicKey(platformSecret);
const sessionHex = 'cd'.repeat(32);
const clouds = [PartyIdentity.generate(), PartyIdentity.generate()];
const signer = PartyIdentity.generate();
const stores: CosignerStore[] = [];
afterAll(async () => {
  [...clouds, signer].forEach((i) => i.dispose());
  stores.forEach((s) => s.close());
  await cleanupTempDirs();
});

const job: LeasedJob = {
  jobId: '00000000-0000-4000-8000-000000000001',
  type: 'DESTROY',
  leaseId: '00000000-0000-4000-8000-000000000002',
  leaseExpiresAt: Date.now() + 60_000,
  attempt: 1,
  sessionId: sessionHex,
  workspaceId: '00000000-0000-4000-8000-000000000003',
  apiKeyId: '00000000-0000-4000-8000-000000000004',
  algorithm: 'ECDSA_SECP256K1',
  shareSetId: '00000000-0000-4000-8000-000000000005',
  threshold: 2,
};
const authorization: DestroyAuthorization = {
  sessionId: Buffer.from(sessionHex, 'hex'),
  workspaceId: job.workspaceId,
  apiKeyId: job.apiKeyId,
  cosignerId: '00000000-0000-4000-8000-000000000006',
  shareSetId: job.shareSetId,
  algorithm: 'ECDSA_SECP256K1',
  reason: 'UNPAIRED_BY_OWNER',
  expiresAt: Date.now() + 3_600_000,
};

const signedBy = (bytes: Uint8Array, key = platformSecret): string => platformSigned(bytes, key);

/** The clouds at indices 1 and 2 (a DESTROY roster); with the signer at 3, the share set's. */
const seatedClouds = (): RosterParty[] =>
  clouds.map((id, k) => ({ index: k + 1, cosignerId: `cloud-${k + 1}`, ...id.publicKeys() }));

function published(
  options: {
    purpose?: RosterPurpose;
    shareSetId?: string;
    signedAuthorization?: string;
    parties?: RosterParty[];
  } = {},
): SessionResponse {
  const expiresAt = Date.now() + 60_000;
  const roster = encodeRoster({
    sessionId: Buffer.from(sessionHex, 'hex'),
    shareSetId: options.shareSetId ?? job.shareSetId,
    purpose: options.purpose ?? 'DESTROY',
    expiresAt,
    parties: options.parties ?? seatedClouds(),
  });
  return {
    sessionId: sessionHex,
    status: 'OPEN',
    signedRoster: signedBy(roster),
    signedAuthorization:
      options.signedAuthorization ?? signedBy(encodeDestroyAuthorization(authorization)),
    expiresAt,
  };
}

describe('DESTROY job', () => {
  let store: CosignerStore;
  let answer: SessionResponse;
  const calls: string[] = [];
  const context = (mode: 'api' | 'cloud' = 'cloud'): JobContext => ({
    // Only the session is answered; anything else (a message sent, a result) is recorded.
    client: stubPlatform(() => answer, calls),
    accessToken: () => Promise.resolve('csat_test'),
    store,
    identity: clouds[0]!,
    platformKey,
    signal: new AbortController().signal,
    mode,
    presignSlots: new KeyedSlots(8),
  });
  const share = pattern(96, 3);
  /** The share still opens, byte for byte: the store is untouched. */
  const expectShareIntact = (): void => {
    const { record, share: opened } = store.shareSets.readShare(job.shareSetId);
    expect(record.destroyedAt).toBeNull();
    expect(Buffer.from(opened).equals(Buffer.from(share))).toBe(true);
  };

  beforeEach(async () => {
    const dir = await tempDir();
    store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
    stores.push(store);
    store.shareSets.putShareSet({
      id: job.shareSetId,
      apiKeyId: job.apiKeyId,
      algorithm: 'ECDSA_SECP256K1',
      share,
      parties: [...seatedClouds(), { index: 3, ...signer.publicKeys() }],
    });
    answer = published();
    calls.length = 0;
  });

  it('destroys the share set the platform names, durably; a repeat or an unknown one is already destroyed', async () => {
    expect(await runDestroyJob(context(), job)).toEqual({
      destroyedShareSetId: job.shareSetId,
      heldUntilNow: true,
    });
    const tombstone = store.shareSets.getShareSet(job.shareSetId);
    expect(tombstone?.destroyedAt).not.toBeNull();
    expect(() => store.shareSets.readShare(job.shareSetId)).toThrow(
      expect.objectContaining({ code: 'ERR_COSIGNER_NOT_FOUND' }),
    );
    expect(store.shareSets.listShareSets()).toEqual([]);
    // Idempotent: a re-offered lease or a second order.
    expect(await runDestroyJob(context(), { ...job, attempt: 2 })).toEqual({
      destroyedShareSetId: job.shareSetId,
      heldUntilNow: false,
    });
    // A share set this store never held.
    const unknown = '00000000-0000-4000-8000-0000000000ff';
    answer = published({
      shareSetId: unknown,
      signedAuthorization: signedBy(
        encodeDestroyAuthorization({ ...authorization, shareSetId: unknown }),
      ),
    });
    expect(await runDestroyJob(context(), { ...job, shareSetId: unknown })).toEqual({
      destroyedShareSetId: unknown,
      heldUntilNow: false,
    });
    expect(store.shareSets.getShareSet(unknown)).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('takes the session the lease carries instead of asking, and verifies it the same way', async () => {
    const other = ed25519.utils.randomSecretKey();
    const forged = published({
      signedAuthorization: signedBy(encodeDestroyAuthorization(authorization), other),
    });
    // The lease's copy is checked as strictly: a forged one is refused whatever GET would say.
    answer = published();
    await expect(runDestroyJob(context(), { ...job, session: forged })).rejects.toThrow(
      /signature does not verify against the pinned platform key/,
    );
    expectShareIntact();
    // The platform's answer would be refused: only the lease's copy can make this job succeed.
    answer = forged;
    expect(await runDestroyJob(context(), { ...job, session: published() })).toEqual({
      destroyedShareSetId: job.shareSetId,
      heldUntilNow: true,
    });
    expect(calls).toEqual([]);
  });

  it('refuses what the platform did not sign, any altered byte and another domain tag, leaving the store untouched', async () => {
    const other = ed25519.utils.randomSecretKey();
    const encoded = encodeDestroyAuthorization(authorization);
    // The same bytes under the reshare authorization's tag (same length): another domain.
    const reshareTagged = Buffer.from(encoded);
    reshareTagged.write('reshare', reshareTagged.indexOf('destroy'), 'latin1');
    const cases: [string, RegExp][] = [
      [signedBy(encoded, other), /signature does not verify against the pinned platform key/],
      [signedBy(reshareTagged), /destroy authorization: malformed/],
    ];
    for (const [signedAuthorization, message] of cases) {
      answer = published({ signedAuthorization });
      await expect(runDestroyJob(context(), job)).rejects.toThrow(message);
    }
    // Every altered byte, checked where the job checks it (the roster's check is the channel's).
    const bytes = Buffer.from(signedBy(encoded), 'base64');
    for (let i = 0; i < bytes.length; i++) {
      const altered = Buffer.from(bytes);
      altered[i]! ^= 0x01;
      expect(() =>
        verifyDestroyAuthorization(altered.toString('base64'), job, platformKey),
      ).toThrow(/destroy authorization/);
    }
    expectShareIntact();
    expect(calls).toEqual([]);
  });

  it('refuses an expired order, another session, API key or algorithm, another roster purpose, a share set of another API key, and an API co-signer', async () => {
    const signed = (change: Partial<DestroyAuthorization>): string =>
      signedBy(encodeDestroyAuthorization({ ...authorization, ...change }));
    const otherKey = '00000000-0000-4000-8000-0000000000aa';
    const cases: [SessionResponse, LeasedJob, RegExp][] = [
      [published({ signedAuthorization: signed({ expiresAt: Date.now() - 1 }) }), job, /expired/],
      [
        published({ signedAuthorization: signed({ sessionId: new Uint8Array(32).fill(1) }) }),
        job,
        /another session/,
      ],
      [published({ signedAuthorization: signed({ apiKeyId: otherKey }) }), job, /another API key/],
      [
        published({ signedAuthorization: signed({ algorithm: 'EDDSA_ED25519' }) }),
        job,
        /another algorithm/,
      ],
      [published({ purpose: 'SIGN' }), job, /purpose/i],
      // Signed and consistent with the job, but the share set here belongs to another API key.
      [
        published({ signedAuthorization: signed({ apiKeyId: otherKey }) }),
        { ...job, apiKeyId: otherKey },
        /of another API key or algorithm/,
      ],
    ];
    for (const [session, leased, message] of cases) {
      answer = session;
      await expect(runDestroyJob(context(), leased)).rejects.toThrow(message);
    }
    answer = published();
    await expect(runDestroyJob(context('api'), job)).rejects.toThrow(/API co-signer takes no/);
    expectShareIntact();
    expect(calls).toEqual([]);
  });

  it('refuses a roster that does not seat the clouds pinned for the share set (pool review M2)', async () => {
    // The platform's own identity in cloud-2's seat, and the signer in a cloud's.
    const platformsOwn = PartyIdentity.generate();
    const [cloud1, cloud2] = seatedClouds() as [RosterParty, RosterParty];
    const cases: [RosterParty[], RegExp][] = [
      [[cloud1, { ...cloud2, ...platformsOwn.publicKeys() }], /party 2 is not seated/],
      [[cloud1, { ...cloud2, ...signer.publicKeys() }], /party 2 is not seated/],
      [[cloud1, { ...cloud2, index: 4 }], /party 4 holds no share/],
    ];
    try {
      for (const [parties, message] of cases) {
        answer = published({ parties });
        await expect(runDestroyJob(context(), job)).rejects.toMatchObject({
          code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
          message: expect.stringMatching(message),
        });
      }
    } finally {
      platformsOwn.dispose();
    }
    expectShareIntact();
    expect(calls).toEqual([]);
  });
});
