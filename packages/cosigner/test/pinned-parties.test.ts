// Pool review M2: a share set's parties are pinned in the store when it is made, and every later
// roster of it must seat the same keys at the same indices. A SIGN or PRESIGN roster that passes
// every roster check (signed by the platform; this session, share set and purpose; this party
// exactly once) but seats another identity or agreement key at a peer's index, or a peer at an
// index that holds no share, is refused before any MPC message, with nothing claimed in the
// store; the roster as pinned goes on to its first message. A share set stored before the pin
// existed (store schema 4) is not checked. Party 1 is a Cloud Co-signer (no Callback Handler)
// with a real DKLs23 share, so a job runs until the platform stub refuses its first MPC message.
import { join } from 'node:path';
import { exportDkls23KeyShare } from '@countersign/mpc';
import {
  encodeRoster,
  encodeSigningAuthorization,
  type LeasedJob,
  type RosterParty,
  type SessionResponse,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartyIdentity, type PartyPublicKeys } from '../src/channel/identity.js';
import type { JobContext } from '../src/daemon/job-context.js';
import { runPresignJob } from '../src/daemon/presign-job.js';
import { runSignJob } from '../src/daemon/sign-job.js';
import { KeyedSlots } from '../src/daemon/slots.js';
import { initStore, type CosignerStore } from '../src/store/cosigner-store.js';
import { dkls23KeyShares } from './dkls23-fixtures.js';
import { signedBy, stubPlatform } from './platform-stub.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

const platformSecret = ed25519.utils.randomSecretKey();
const platformKey = ed25519.getPublicKey(platformSecret);
const API_KEY = '00000000-0000-4000-8000-000000000004';
const PINNED = 'ss-pinned';
const UNPINNED = 'ss-stored-before-schema-4';
/** Parties 1..3 of the share set; the store under test is party 1's. */
const holders = [1, 2, 3].map(() => PartyIdentity.generate());
/** The platform's own identity, which it would seat in an honest peer's place. */
const platformsOwn = PartyIdentity.generate();

/** The holders at their indices, as the KEYGEN roster seated them. */
function seated(): RosterParty[] {
  return holders.map((id, k) => ({
    index: k + 1,
    cosignerId: `cosigner-${k + 1}`,
    ...id.publicKeys(),
  }));
}

/** The seats with `keys` put in at party `index`'s. */
function swapped(index: number, keys: Partial<PartyPublicKeys>): RosterParty[] {
  return seated().map((p) => (p.index === index ? { ...p, ...keys } : p));
}

let store: CosignerStore;
beforeAll(async () => {
  const dir = await tempDir();
  store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
  const share = exportDkls23KeyShare(dkls23KeyShares().get(1)!);
  const common = { apiKeyId: API_KEY, algorithm: 'ECDSA_SECP256K1', share } as const;
  store.shareSets.putShareSet({ ...common, id: PINNED, parties: seated() });
  store.shareSets.putShareSet({ ...common, id: UNPINNED });
  share.fill(0);
}, 120_000);
afterAll(async () => {
  store.close();
  [...holders, platformsOwn].forEach((i) => i.dispose());
  await cleanupTempDirs();
});

/** A leased job of `purpose` carrying the session the platform signed, with these seats. */
function leased(
  purpose: 'SIGN' | 'PRESIGN',
  shareSetId: string,
  sessionHex: string,
  parties: RosterParty[],
): LeasedJob {
  const sessionId = Buffer.from(sessionHex, 'hex');
  const expiresAt = Date.now() + 60_000;
  const roster = encodeRoster({ sessionId, shareSetId, purpose, expiresAt, parties });
  const authorization = encodeSigningAuthorization({
    sessionId,
    shareSetId,
    algorithm: 'ECDSA_SECP256K1',
    transactionId: '5f0c6f9e-4b8a-4f55-9a43-1d2f3e4a5b6c',
    messageIndex: 0,
    derivationPath: [44, 60, 0, 0, 0],
    content: new Uint8Array(32).fill(9),
    expiresAt,
  });
  const session: SessionResponse = {
    sessionId: sessionHex,
    status: 'OPEN',
    signedRoster: signedBy(roster, platformSecret),
    ...(purpose === 'SIGN' ? { signedAuthorization: signedBy(authorization, platformSecret) } : {}),
    expiresAt,
  };
  return {
    jobId: '00000000-0000-4000-8000-000000000001',
    type: purpose,
    leaseId: '00000000-0000-4000-8000-000000000002',
    leaseExpiresAt: expiresAt,
    attempt: 1,
    sessionId: sessionHex,
    workspaceId: '00000000-0000-4000-8000-000000000003',
    apiKeyId: API_KEY,
    algorithm: 'ECDSA_SECP256K1',
    shareSetId,
    threshold: parties.length,
    session,
  };
}

const calls: string[] = [];
/** Party 1, a cloud; the lease carries the session, so any platform call is an MPC message. */
const context = (): JobContext => ({
  client: stubPlatform(() => undefined, calls),
  accessToken: () => Promise.resolve('csat_test'),
  store,
  identity: holders[0]!,
  platformKey,
  signal: new AbortController().signal,
  mode: 'cloud',
  presignSlots: new KeyedSlots(8),
});

describe('a later roster of a pinned share set (pool review M2)', () => {
  const tampered: [string, RosterParty[], RegExp][] = [
    [
      "the platform's identity key at party 2's index",
      swapped(2, { identityKey: platformsOwn.publicKeys().identityKey }),
      /party 2 is not seated with the keys pinned for share set ss-pinned/,
    ],
    [
      "the platform's agreement key at party 3's index",
      swapped(3, { agreementKey: platformsOwn.publicKeys().agreementKey }),
      /party 3 is not seated with the keys pinned/,
    ],
    [
      "both of the platform's keys at party 2's index",
      swapped(2, platformsOwn.publicKeys()),
      /party 2 is not seated with the keys pinned/,
    ],
    [
      'party 3 at an index that holds no share',
      seated().map((p) => (p.index === 3 ? { ...p, index: 4 } : p)),
      /party 4 holds no share of share set ss-pinned/,
    ],
  ];
  const jobs: [
    'SIGN' | 'PRESIGN',
    (ctx: JobContext, job: LeasedJob) => Promise<unknown>,
    string,
  ][] = [
    ['SIGN', runSignJob, 'a1'.repeat(32)],
    ['PRESIGN', runPresignJob, 'b2'.repeat(32)],
  ];

  for (const [purpose, run, sessionHex] of jobs)
    it(`${purpose}: refused before any MPC message with nothing claimed; the pinned seats go on`, async () => {
      calls.length = 0;
      for (const [what, parties, message] of tampered)
        await expect(
          run(context(), leased(purpose, PINNED, sessionHex, parties)),
          what,
        ).rejects.toMatchObject({
          code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
          message: expect.stringMatching(message),
        });
      expect(calls).toEqual([]);
      // The same session as pinned: had a refused run claimed the message or the presign sid,
      // this one would be refused too. It sends its first MPC message.
      await expect(run(context(), leased(purpose, PINNED, sessionHex, seated()))).rejects.toThrow(
        /no other platform call expected/,
      );
      expect(calls).toEqual(['postMessages']);
    });

  it('a share set stored before schema 4 has no pin: its roster is trusted as before', async () => {
    calls.length = 0;
    const [, parties] = tampered[0]!;
    await expect(
      runPresignJob(context(), leased('PRESIGN', UNPINNED, 'c3'.repeat(32), parties)),
    ).rejects.toThrow(/no other platform call expected/);
    expect(calls).toEqual(['postMessages']);
  });
});
