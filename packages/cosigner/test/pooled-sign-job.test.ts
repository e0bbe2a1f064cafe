// A pooled EdDSA SIGN job tells the platform it will sign (`ready`, which releases the Cloud
// Co-signers' held jobs) only when nothing on its own side can stop it any more (pooled EdDSA
// review H1, ready-call review M1, M2, T1): in API mode, after its Callback Handler approved, with
// the named nonce set in its store and the message claimed for the session. A handler that does
// not approve, or a set that is not here, ends the job with nothing said and nothing claimed;
// a cloud never says it; a ready call whose outcome is unknown still signs; a refused one spends
// nothing, and the re-offered session resumes its claim without asking the handler again. A
// PRESIGN job whose nonce set is pooled already reports it again from the store, spending nothing.
// A cloud's job leased while still held waits for its release with nothing spent or claimed.
// Real store, real FROST key share and nonce set; the platform is a stub recording its calls.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  beginFrostPreprocess,
  exportFrostNonceSet,
  frostCommitmentList,
  exportKeyShare,
  type KeyShare,
} from '@countersign/mpc';
import {
  encodeRoster,
  encodeSigningAuthorization,
  type LeasedJob,
  type RosterParty,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PartyIdentity } from '../src/channel/identity.js';
import { CosignerError } from '../src/errors.js';
import type { JobContext } from '../src/daemon/job-context.js';
import { runPresignJob } from '../src/daemon/presign-job.js';
import { runSignJob } from '../src/daemon/sign-job.js';
import { KeyedSlots } from '../src/daemon/slots.js';
import type { PlatformClient } from '../src/platform/platform-client.js';
import { initStore, type CosignerStore } from '../src/store/cosigner-store.js';
import type { SigningClaim } from '../src/store/signing-record-repository.js';
import { ed25519KeyShares } from './frost-fixtures.js';
import { signedBy } from './platform-stub.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

const platformSecret = ed25519.utils.randomSecretKey();
const platformKey = ed25519.getPublicKey(platformSecret);
const API_KEY = '00000000-0000-4000-8000-000000000004';
const SHARE_SET = 'ss-eddsa';
/** Another share set of the store, of another API key. */
const OTHER_SHARE_SET = 'ss-eddsa-other';
const OTHER_API_KEY = '00000000-0000-4000-8000-000000000007';
const ME = 3;
const holders = [1, 2, 3].map(() => PartyIdentity.generate());
const seats: RosterParty[] = holders.map((id, k) => ({
  index: k + 1,
  cosignerId: `cosigner-${k + 1}`,
  ...id.publicKeys(),
}));
/** A handler that nothing answers: with a lease this short it is never asked, only refused. */
const UNREACHABLE_HANDLER = { mode: 'jwt', url: 'http://127.0.0.1:9/hook', publicKey: 'x' };

let shares: Map<number, KeyShare>;
let store: CosignerStore;

let counter = 0;
/**
 * A pooled signing of a fresh message: my nonce set of a fresh PRESIGN session pooled in the
 * store, and the SIGN job whose signed authorization names it.
 */
function pooledJob(
  leaseMs = 10 * 60_000,
  /** Whose nonce set is pooled under the named id: mine, another party's, or another session's. */
  madeBy: 'me' | 'another party' | 'another session' = 'me',
): {
  job: LeasedJob;
  presignatureId: string;
  claim: SigningClaim;
  /** The pooled nonce set's commitment list, as its PRESIGN job reported it. */
  commitments: Uint8Array;
} {
  counter += 1;
  const transactionId = `5f0c6f9e-4b8a-4f55-9a43-1d2f3e4a5b${counter.toString(16).padStart(2, '0')}`;
  const presignSid = new Uint8Array(32).fill(counter);
  const madeIn = madeBy === 'another session' ? presignSid.map((b) => b ^ 0xff) : presignSid;
  const committers = new Map(
    [1, 2, 3].map((i) => [
      i,
      beginFrostPreprocess({ sid: madeIn, keyShare: shares.get(i)!, signers: [1, 2, 3] }),
    ]),
  );
  const maker = madeBy === 'another party' ? 2 : ME;
  const mine = committers
    .get(maker)!
    .complete(
      new Map(
        [1, 2, 3].filter((j) => j !== maker).map((j) => [j, committers.get(j)!.message] as const),
      ),
    );
  const presignatureId = Buffer.from(presignSid).toString('hex');
  const commitments = frostCommitmentList(mine);
  store.presignatures.addPresignatures(SHARE_SET, [
    { id: presignatureId, presignature: exportFrostNonceSet(mine) },
  ]);
  const sessionId = new Uint8Array(32).fill(0x80 + counter);
  const sessionHex = Buffer.from(sessionId).toString('hex');
  const expiresAt = Date.now() + 10 * 60_000;
  const authorization = encodeSigningAuthorization({
    sessionId,
    shareSetId: SHARE_SET,
    algorithm: 'EDDSA_ED25519',
    transactionId,
    messageIndex: 0,
    derivationPath: [44, 501, 0, 0, counter],
    content: Buffer.from(`pooled message ${counter}`),
    expiresAt,
    presignSessionId: presignSid,
  });
  const job = leasedJob('SIGN', sessionId, { expiresAt, leaseMs, authorization });
  const claim = { transactionId, messageIndex: 0, shareSetId: SHARE_SET, sessionId: sessionHex };
  return { job, presignatureId, claim, commitments };
}

/** The PRESIGN job of the session whose sid `presignatureId` is (the id its entry is pooled under). */
function presignJob(presignatureId: string): LeasedJob {
  const expiresAt = Date.now() + 10 * 60_000;
  return leasedJob('PRESIGN', Buffer.from(presignatureId, 'hex'), { expiresAt, leaseMs: 60_000 });
}

/** A leased job of SHARE_SET's session `sessionId`, its roster (and authorization) signed. */
function leasedJob(
  type: 'SIGN' | 'PRESIGN',
  sessionId: Uint8Array,
  {
    expiresAt,
    leaseMs,
    authorization,
  }: { expiresAt: number; leaseMs: number; authorization?: Uint8Array },
): LeasedJob {
  const sessionHex = Buffer.from(sessionId).toString('hex');
  const roster = encodeRoster({
    sessionId,
    shareSetId: SHARE_SET,
    purpose: type,
    expiresAt,
    parties: seats,
  });
  return {
    jobId: '00000000-0000-4000-8000-000000000001',
    type,
    leaseId: '00000000-0000-4000-8000-000000000002',
    leaseExpiresAt: Date.now() + leaseMs,
    attempt: 1,
    sessionId: sessionHex,
    workspaceId: '00000000-0000-4000-8000-000000000003',
    apiKeyId: API_KEY,
    algorithm: 'EDDSA_ED25519',
    shareSetId: SHARE_SET,
    threshold: 3,
    session: {
      sessionId: sessionHex,
      status: 'OPEN',
      signedRoster: signedBy(roster, platformSecret),
      ...(authorization === undefined
        ? {}
        : { signedAuthorization: signedBy(authorization, platformSecret) }),
      expiresAt,
    },
  };
}

const calls: string[] = [];
/** What the stub's `ready` does: answer, or fail as given. */
let readyAnswer: () => Promise<number>;
/** What the stub's `awaitRelease` answers, call after call (then: released). */
let releaseAnswers: (() => Promise<boolean>)[];
/** Runs at each `awaitRelease`, before it answers: what the store holds while the job waits. */
let whileWaiting: () => void;
const platform = new Proxy(
  {},
  {
    get: (_t, name) => () => {
      calls.push(String(name));
      if (name === 'ready') return readyAnswer();
      if (name === 'awaitRelease') {
        whileWaiting();
        return (releaseAnswers.shift() ?? (() => Promise.resolve(true)))();
      }
      throw new Error(`no platform call ${String(name)} expected`);
    },
  },
) as PlatformClient;

const context = (mode: 'api' | 'cloud'): JobContext => ({
  client: platform,
  accessToken: () => Promise.resolve('csat_test'),
  store,
  identity: holders[ME - 1]!,
  platformKey,
  signal: new AbortController().signal,
  mode,
  presignSlots: new KeyedSlots(8),
});

beforeAll(async () => {
  shares = ed25519KeyShares(5);
  const dir = await tempDir();
  store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
  const share = exportKeyShare(shares.get(ME)!);
  store.shareSets.putShareSet({
    id: SHARE_SET,
    apiKeyId: API_KEY,
    algorithm: 'EDDSA_ED25519',
    share,
    parties: seats,
  });
  store.shareSets.putShareSet({
    id: OTHER_SHARE_SET,
    apiKeyId: OTHER_API_KEY,
    algorithm: 'EDDSA_ED25519',
    share,
    parties: seats,
  });
  share.fill(0);
  store.pairedApiKeys.addPairedApiKey({
    apiKeyId: API_KEY,
    cosignerId: 'cosigner-3',
    platformUrl: 'https://platform.example',
  });
}, 120_000);
afterAll(async () => {
  store.close();
  holders.forEach((i) => i.dispose());
  await cleanupTempDirs();
});
beforeEach(() => {
  calls.length = 0;
  readyAnswer = () => Promise.resolve(2);
  releaseAnswers = [];
  whileWaiting = () => undefined;
  store.pairedApiKeys.setCallbackHandler(API_KEY, null);
});

describe('a pooled EdDSA SIGN job signs only with the nonce set made for it (pooled review T3)', () => {
  it.each(['another party', 'another session'] as const)(
    'a set made by %s under the named id: refused, nothing spent, nothing recorded SIGNED',
    async (madeBy) => {
      const { job, presignatureId, claim } = pooledJob(undefined, madeBy);
      await expect(runSignJob(context('api'), job)).rejects.toMatchObject({
        code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
        message: expect.stringMatching(/made by other signers/),
      });
      expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(true);
      expect(store.signingRecords.state(claim.transactionId, 0)).toBe('STARTED');
    },
  );
});

describe('a PRESIGN job whose nonce set is pooled here already (a crash kept its report from leaving)', () => {
  it('reports it again from the store: the same list, no MPC message, the set still here to sign (pooled EdDSA review L4)', async () => {
    const { job, presignatureId, commitments } = pooledJob();
    const report = await runPresignJob(context('cloud'), presignJob(presignatureId));
    expect(calls).toEqual([]);
    expect(report).toEqual({
      presignatureId: createHash('sha256').update(commitments).digest('hex'),
      commitments: Buffer.from(commitments).toString('hex'),
    });
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(true);
    expect(await runSignJob(context('cloud'), job)).toHaveProperty('signatureShare');
  });

  it('reads the list without decoding the nonces: a set whose nonces are no scalars reports it all the same', async () => {
    const { presignatureId, commitments } = pooledJob();
    const taken = store.presignatures.takePresignature(SHARE_SET, presignatureId).presignature;
    const garbled = Uint8Array.from(taken).fill(0xff, taken.length - 64);
    const id = `${presignatureId.slice(0, -2)}ee`;
    store.presignatures.addPresignatures(SHARE_SET, [{ id, presignature: garbled }]);
    const report = await runPresignJob(context('cloud'), presignJob(id));
    expect(calls).toEqual([]);
    expect(report.commitments).toBe(Buffer.from(commitments).toString('hex'));
  });

  it("an entry of that id under another share set is not this job's: refused before any MPC message (review I3)", async () => {
    const { presignatureId } = pooledJob();
    const taken = store.presignatures.takePresignature(SHARE_SET, presignatureId).presignature;
    const id = `${presignatureId.slice(0, -2)}ef`;
    store.presignatures.addPresignatures(OTHER_SHARE_SET, [{ id, presignature: taken }]);
    await expect(runPresignJob(context('cloud'), presignJob(id))).rejects.toMatchObject({
      code: 'ERR_COSIGNER_CONFLICT',
    });
    // Nor one spent here (trimmed, say): a set made again under its id could not be kept.
    await expect(runPresignJob(context('cloud'), presignJob(presignatureId))).rejects.toMatchObject(
      { code: 'ERR_COSIGNER_CONFLICT' },
    );
    expect(calls).toEqual([]);
    expect(store.presignatures.holdsPresignature(OTHER_SHARE_SET, id)).toBe(true);
  });
});

describe('a pooled EdDSA SIGN job says it will sign only when nothing can stop it', () => {
  it('its handler not approving: nothing said, nothing claimed, the nonce set still here', async () => {
    store.pairedApiKeys.setCallbackHandler(API_KEY, UNREACHABLE_HANDLER);
    const { job, presignatureId, claim } = pooledJob(10_000);
    await expect(runSignJob(context('api'), job)).rejects.toMatchObject({
      subStatus: 'CALLBACK_SESSION_DEADLINE',
    });
    expect(calls).toEqual([]);
    expect(store.signingRecords.startedIn(claim)).toBe(false);
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(true);
  });

  it('approved, with the set here: says so once, then signs from the set', async () => {
    const { job, presignatureId, claim } = pooledJob();
    const result = await runSignJob(context('api'), job);
    expect(calls).toEqual(['ready']);
    expect(result).toEqual({ signatureShare: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(false);
    expect(store.signingRecords.state(claim.transactionId, 0)).toBe('SIGNED');
  });

  it('the set not here: nothing said; the job fails as PRESIGNATURE_MISSING would', async () => {
    const { job, presignatureId, claim } = pooledJob();
    store.presignatures.discardAvailablePresignatures(SHARE_SET);
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(false);
    await expect(runSignJob(context('api'), job)).rejects.toMatchObject({
      code: 'ERR_COSIGNER_NO_PRESIGNATURE',
    });
    expect(calls).toEqual([]);
    expect(store.signingRecords.startedIn(claim)).toBe(false);
  });

  it('a Cloud Co-signer never says it: its job is what the platform held', async () => {
    const { job } = pooledJob();
    const result = await runSignJob(context('cloud'), job);
    expect(calls).toEqual([]);
    expect(result).toHaveProperty('signatureShare');
  });

  it('a ready call that may have arrived (no answer) still signs: the clouds may be computing', async () => {
    readyAnswer = () => Promise.reject(new Error('socket hang up'));
    const { job } = pooledJob();
    const result = await runSignJob(context('api'), job);
    expect(calls).toEqual(['ready']);
    expect(result).toHaveProperty('signatureShare');
  });

  it('refused: nothing spent; the re-offered session resumes its claim without asking the handler again', async () => {
    readyAnswer = () =>
      Promise.reject(
        new CosignerError('ERR_COSIGNER_PLATFORM_REFUSED', { detail: 'HTTP 409 lease not held' }),
      );
    const { job, presignatureId, claim } = pooledJob();
    await expect(runSignJob(context('api'), job)).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_REFUSED',
    });
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(true);
    expect(store.signingRecords.startedIn(claim)).toBe(true);
    // The same session, re-offered: a handler that would now refuse is not asked.
    store.pairedApiKeys.setCallbackHandler(API_KEY, UNREACHABLE_HANDLER);
    readyAnswer = () => Promise.resolve(0);
    calls.length = 0;
    const result = await runSignJob(context('api'), {
      ...job,
      leaseExpiresAt: Date.now() + 10_000,
    });
    expect(calls).toEqual(['ready']);
    expect(result).toHaveProperty('signatureShare');
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(false);
  });
});

describe('a Cloud Co-signer job leased while held (docs/mpc-relay.md "PRESIGN", EdDSA)', () => {
  it('waits for its release with the nonce set unspent and nothing claimed, then signs', async () => {
    const { job, presignatureId, claim } = pooledJob();
    const seen: { held: boolean; started: boolean }[] = [];
    whileWaiting = () =>
      seen.push({
        held: store.presignatures.holdsPresignature(SHARE_SET, presignatureId),
        started: store.signingRecords.startedIn(claim),
      });
    releaseAnswers = [() => Promise.resolve(false), () => Promise.resolve(true)];
    const result = await runSignJob(context('cloud'), { ...job, held: true });
    expect(calls).toEqual(['awaitRelease', 'awaitRelease']);
    expect(seen).toEqual([
      { held: true, started: false },
      { held: true, started: false },
    ]);
    expect(result).toEqual({ signatureShare: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(false);
  });

  it('its session ending first (409): the job fails, nothing spent, nothing claimed', async () => {
    const { job, presignatureId, claim } = pooledJob();
    releaseAnswers = [
      () =>
        Promise.reject(
          new CosignerError('ERR_COSIGNER_PLATFORM_REFUSED', { detail: 'HTTP 409 session failed' }),
        ),
    ];
    await expect(runSignJob(context('cloud'), { ...job, held: true })).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_REFUSED',
    });
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(true);
    expect(store.signingRecords.startedIn(claim)).toBe(false);
  });

  it('the platform out of reach for a moment: asked again, and the job signs once released', async () => {
    const { job } = pooledJob();
    releaseAnswers = [
      () =>
        Promise.reject(new CosignerError('ERR_COSIGNER_PLATFORM_UNAVAILABLE', { detail: 'reset' })),
      () => Promise.resolve(true),
    ];
    const result = await runSignJob(context('cloud'), { ...job, held: true });
    expect(calls).toEqual(['awaitRelease', 'awaitRelease']);
    expect(result).toHaveProperty('signatureShare');
  });

  it('its nonce set not here: fails at once, still held, as PRESIGNATURE_MISSING would', async () => {
    const { job, claim } = pooledJob();
    store.presignatures.discardAvailablePresignatures(SHARE_SET);
    await expect(runSignJob(context('cloud'), { ...job, held: true })).rejects.toMatchObject({
      code: 'ERR_COSIGNER_NO_PRESIGNATURE',
    });
    expect(calls).toEqual([]);
    expect(store.signingRecords.startedIn(claim)).toBe(false);
  });

  it('an API co-signer given a held job refuses it before its handler or the store is touched', async () => {
    const { job, presignatureId, claim } = pooledJob();
    await expect(runSignJob(context('api'), { ...job, held: true })).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
    });
    expect(calls).toEqual([]);
    expect(store.presignatures.holdsPresignature(SHARE_SET, presignatureId)).toBe(true);
    expect(store.signingRecords.startedIn(claim)).toBe(false);
  });
});
