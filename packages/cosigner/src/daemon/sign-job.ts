/**
 * One SIGN job (ARCHITECTURE §4, §8): sign one message of a transaction with this party's share
 * of the share set, over the relay, only as the platform authorized it.
 *
 * 1. Verify the roster (purpose SIGN, this session and share set) and the signing authorization
 *    (signing-authorization.ts) against the pinned platform key; the message and the derivation
 *    path come from the verified authorization, never from the job's unsigned fields.
 * 2. API co-signer: ask the API key's Callback Handler (sign-callback.ts) and go on only on
 *    APPROVE, with the authorization still unexpired; an API key not paired here gets nothing.
 * 3. Claim the message in the store (signing-record-repository.ts): a re-offered session whose
 *    nonces died with a crash, or a fresh session for a message this party already released a
 *    signature share for, is refused — a transaction is signed at most once.
 * 4. Run the protocol; before the signature share leaves, record SHARE_SENT durably.
 *    - EDDSA_ED25519: FROST (RFC 9591) with the Ed25519 tweak derivation; nonces live in memory
 *      only, so a crash before the share means a fresh session, never a replay.
 *    - ECDSA_SECP256K1: DKLs23 — the pooled presignature the authorization names (made ahead
 *      of time by a PRESIGN job, presign-job.ts), or else one made in this session (its sid
 *      claimed durably in the store before the presign session exists); then the online round:
 *      the presignature is marked spent durably before its share exists, re-randomised and
 *      tweaked by the BIP32 path (mpc dkls23/sign.ts); every party combines the broadcast
 *      shares.
 * 5. Verify the signature against the public key derived here from the share set's root and the
 *    path (@noble/curves, independently of the protocol's own check), store it, report it.
 * @module
 */
import {
  combineSignatureShares,
  createSignatureShare,
  derivePublicKey,
  frostPooledSignatureShare,
  importFrostNonceSet,
  importDkls23KeyShare,
  importKeyShare,
  importPresignature,
  sign,
  wipeDkls23KeyShare,
  wipeFrostNonceSet,
  wipeKeyShare,
  wipePresignature,
  type Dkls23KeyShare,
  type Dkls23Presignature,
  type Dkls23SigningContext,
  type ProtocolMessage,
} from '@countersign/mpc';
import { setTimeout as delay } from 'node:timers/promises';
import type { LeasedJob, SignResult, SigningAuthorization } from '@countersign/protocol';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { verifyEd25519Strict } from '../channel/ed25519-strict.js';
import type { VerifiedRoster } from '../channel/roster.js';
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError, isCosignerError } from '../errors.js';
import type { SigningClaim } from '../store/signing-record-repository.js';
import { assertPresignAllowed } from './dkls23-ban.js';
import { presignOverRelay } from './dkls23-presign.js';
import type { JobContext } from './job-context.js';
import { crashPoint } from './crash-points.js';
import { assertHeldShareSet } from './held-share-set.js';
import { publishedSession } from './published-session.js';
import { RelayPhase, runOverRelay } from './relay-session.js';
import { approveByCallback } from './sign-callback.js';
import { verifySigningAuthorization } from './signing-authorization.js';

/** FROST signing: round 1 broadcasts nonce commitments, round 2 the signature shares. */
const FROST_SHARE_ROUND = 2;
/** The DKLs23 online round's channel protocol: one broadcast of each signer's share. */
const DKLS23_ONLINE_PROTOCOL = 'dkls23-secp256k1/sign/v1';
/**
 * The online round with a pooled presignature: round 1 broadcasts that the party holds it and
 * computed its share (its signing context's digest), round 2 the signature shares.
 */
const DKLS23_POOLED_PROTOCOL = 'dkls23-secp256k1/sign-pooled/v1';
const POOLED_SHARE_ROUND = 2;
/** How long one wait for a held job's release lasts (a long poll, asked again until released). */
const RELEASE_WAIT_SECONDS = 20;
/** The pause before asking again when the platform could not be reached. */
const RELEASE_RETRY_MS = 250;

/** What both algorithms work from. */
interface SignInput {
  readonly ctx: JobContext;
  readonly job: LeasedJob;
  readonly sid: Uint8Array;
  readonly roster: VerifiedRoster;
  readonly authorization: SigningAuthorization;
  /** Records SHARE_SENT; call right before the signature share leaves. */
  readonly shareLeaving: () => void;
}

export async function runSignJob(ctx: JobContext, job: LeasedJob): Promise<SignResult> {
  const { sid, roster, published } = await publishedSession(ctx, job, 'SIGN');
  const authorization = verifySigningAuthorization(
    published.signedAuthorization,
    job,
    ctx.platformKey,
  );
  assertHeldShareSet(ctx, job);
  const claim: SigningClaim = {
    transactionId: authorization.transactionId,
    messageIndex: authorization.messageIndex,
    shareSetId: job.shareSetId,
    sessionId: job.sessionId,
  };
  const pooled = job.algorithm === 'EDDSA_ED25519' ? authorization.presignSessionId : undefined;
  // Only a Cloud Co-signer asks for held jobs, and only a pooled EdDSA signing holds any back.
  if (job.held === true && (ctx.mode !== 'cloud' || pooled === undefined))
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'a held job, but not a pooled EdDSA signing of a Cloud Co-signer',
    });
  // Before any claim or MPC message (review C1, L4) — but once per session: this session's own
  // claim from before a crash means its handler approved and the clouds may be computing
  // (sayReady); asking again could turn them away with their shares out (ready-call review M2).
  if (pooled === undefined || !ctx.store.signingRecords.startedIn(claim))
    await approveByCallback(ctx, job, authorization);
  if (pooled !== undefined) return signWithNonceSet(ctx, job, roster, authorization, claim, pooled);
  const outcome = ctx.store.signingRecords.claim(claim);
  if (outcome.kind === 'signed') return JSON.parse(outcome.result) as SignResult;
  if (outcome.kind === 'refused') throw refusedClaim(outcome);
  crashPoint('sign:claimed');

  let shareSent = false;
  const input: SignInput = {
    ctx,
    job,
    sid,
    roster,
    authorization,
    shareLeaving: () => {
      if (shareSent) return;
      ctx.store.signingRecords.markShareSent(claim);
      shareSent = true;
      crashPoint('sign:share-sent');
    },
  };
  const result =
    job.algorithm === 'EDDSA_ED25519' ? await signEddsa(input) : await signEcdsa(input);
  ctx.store.signingRecords.markSigned(claim, JSON.stringify(result));
  crashPoint('sign:signed');
  return result;
}

/**
 * A pooled entry (presignature, nonce set) is used only as made: by PRESIGN session `presignSid`,
 * for me among exactly the roster's signers. Stored under that id by this party's PRESIGN job,
 * and sealed; checked anyway, as it is cheap.
 */
function assertMadeForRoster(
  pooled: { readonly sid: Uint8Array; readonly index: number; readonly signers: readonly number[] },
  presignSid: Uint8Array,
  roster: VerifiedRoster,
  what: string,
): void {
  const fits =
    constantTimeEqual(pooled.sid, presignSid) &&
    pooled.index === roster.myIndex &&
    pooled.signers.length === roster.indices.length &&
    pooled.signers.every((s, i) => s === roster.indices[i]);
  if (!fits)
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: `the named ${what} was made by other signers`,
    });
}

/** A refused claim, as the job's error (see the claim outcomes in signing-record-repository.ts). */
function refusedClaim(outcome: { reason: string; shareReleased: boolean }): CosignerError {
  // A released share makes every fresh session futile; the platform ends the message with
  // SIGNATURE_MAY_EXIST instead of retrying (review M1).
  return new CosignerError(
    outcome.shareReleased ? 'ERR_COSIGNER_SHARE_RELEASED' : 'ERR_COSIGNER_CONFLICT',
    { detail: outcome.reason },
  );
}

/**
 * A pooled EdDSA session holds the Cloud Co-signers back until the signer's co-signer (the one
 * party not in cloud mode) can no longer fail on its own side (pooled EdDSA review H1). Once its
 * handler approved, it claims the message for the session in its store (resumably: the nonce set
 * stays until the share is computed), if the named set is here, and tells the platform, so they
 * compute beside it instead of after its report. Anything else says nothing: the job's own end
 * (a refusal, PRESIGNATURE_MISSING, a re-offer answered from the record) settles it, and a DONE
 * releases them as before. signFromPool decides again, in its transaction.
 */
async function sayReady(
  ctx: JobContext,
  job: LeasedJob,
  claim: SigningClaim,
  presignSid: Uint8Array,
): Promise<void> {
  if (ctx.mode === 'cloud') return;
  if (!ctx.store.claimForPool(claim, Buffer.from(presignSid).toString('hex'))) return;
  crashPoint('sign:pool-claimed');
  try {
    await ctx.client.ready(await ctx.accessToken(), job.jobId, job.leaseId);
  } catch (error) {
    // Refused (the lease moved on): this call released nothing, and nothing is spent here.
    if (isCosignerError(error, 'ERR_COSIGNER_PLATFORM_REFUSED')) throw error;
    // Unknown (a timeout, a reset): the clouds may be computing. Sign — the share is recorded
    // before it leaves, and a re-offered job reports it — rather than fail and leave theirs out
    // (ready-call review M1).
  }
  crashPoint('sign:pool-ready');
}

/**
 * A Cloud Co-signer's job leased while still held (docs/mpc-relay.md "PRESIGN", EdDSA): it has
 * verified the session and read its share meanwhile, and now waits for the platform to say the
 * signer's co-signer will sign. Nothing of the message is computed, nor the nonce set spent,
 * before. A set that is not here fails the job now, while the clouds are still held, so no share
 * of the others leaves for a signing that cannot end (decision 0006). The platform being out of
 * reach for a moment does not fail the job: it is asked again until the authorization expires;
 * refused (the session ended, the lease moved on), the job fails with nothing spent.
 */
async function awaitRelease(
  ctx: JobContext,
  job: LeasedJob,
  authorization: SigningAuthorization,
  presignSid: Uint8Array,
): Promise<void> {
  if (job.held !== true) return;
  const id = Buffer.from(presignSid).toString('hex');
  if (!ctx.store.presignatures.holdsPresignature(job.shareSetId, id))
    throw new CosignerError('ERR_COSIGNER_NO_PRESIGNATURE', {
      detail: `share set ${job.shareSetId}, presignature ${id}`,
    });
  for (;;) {
    if (ctx.signal.aborted)
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'shutting down' });
    if (Date.now() >= authorization.expiresAt)
      throw new CosignerError('ERR_COSIGNER_CONFLICT', {
        detail: 'the signing authorization expired while the job was held',
      });
    try {
      const released = await ctx.client.awaitRelease(
        await ctx.accessToken(),
        job.jobId,
        job.leaseId,
        RELEASE_WAIT_SECONDS,
        ctx.signal,
      );
      if (released) return;
    } catch (error) {
      if (!isCosignerError(error, 'ERR_COSIGNER_PLATFORM_UNAVAILABLE')) throw error;
      await delay(RELEASE_RETRY_MS, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
  }
}

/**
 * EdDSA from the pooled FROST nonce set of PRESIGN session `presignSid` (docs/decisions/0006):
 * no MPC message at all. The signer's co-signer first claims the message and says it will sign
 * ({@link sayReady}); then, in one store transaction, the message is claimed, the nonce set taken
 * (spent, erased), this party's signature share computed under the commitment list it holds,
 * and the message recorded SIGNED with that share; the share then leaves as the job's result,
 * for the platform to aggregate. The nonce set must be the one this party pooled for these very
 * signers; the message, the path and the key share come from the verified authorization and the
 * store. A nonce set this party does not hold (a restored backup, a trimmed pool) fails the job
 * before anything is recorded.
 */
async function signWithNonceSet(
  ctx: JobContext,
  job: LeasedJob,
  roster: VerifiedRoster,
  authorization: SigningAuthorization,
  claim: SigningClaim,
  presignSid: Uint8Array,
): Promise<SignResult> {
  // Read before the platform is told: a share that cannot be read fails the job with the
  // clouds still held (ready-call review L1).
  const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
  const keyShare = importKeyShare(bytes);
  bytes.fill(0);
  try {
    await sayReady(ctx, job, claim, presignSid);
    await awaitRelease(ctx, job, authorization, presignSid);
    const outcome = ctx.store.signFromPool(
      claim,
      Buffer.from(presignSid).toString('hex'),
      (pooled) => {
        const nonceSet = importFrostNonceSet(pooled);
        try {
          assertMadeForRoster(nonceSet, presignSid, roster, 'nonce set');
          const share = frostPooledSignatureShare({
            nonceSet,
            keyShare,
            message: authorization.content,
            path: authorization.derivationPath,
          });
          crashPoint('sign:pool-computing');
          return JSON.stringify({ signatureShare: Buffer.from(share).toString('hex') });
        } finally {
          wipeFrostNonceSet(nonceSet);
        }
      },
    );
    if (outcome.kind === 'refused') throw refusedClaim(outcome);
    if (outcome.kind !== 'signed') throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT');
    crashPoint('sign:pool-signed');
    return JSON.parse(outcome.result) as SignResult;
  } finally {
    wipeKeyShare(keyShare);
  }
}

function signatureInvalid(): CosignerError {
  return new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
    detail: 'the signature does not verify against the derived public key',
  });
}

async function signEddsa(input: SignInput): Promise<SignResult> {
  const { ctx, job, sid, roster, authorization } = input;
  const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
  const keyShare = importKeyShare(bytes);
  bytes.fill(0);
  try {
    const session = sign({
      sid,
      keyShare,
      signers: roster.indices,
      message: authorization.content,
      path: authorization.derivationPath,
    });
    const { result: signed } = await runOverRelay(ctx, job, roster, session, {
      beforeSend: (messages: readonly ProtocolMessage[]) => {
        if (messages.some((m) => m.round >= FROST_SHARE_ROUND)) input.shareLeaving();
      },
    });
    const derived = derivePublicKey(
      { curve: 'ed25519', publicKey: keyShare.publicKey, chainCode: keyShare.chainCode },
      authorization.derivationPath,
    );
    const verifies =
      constantTimeEqual(signed.publicKey, derived.publicKey) &&
      verifyEd25519Strict(signed.signature, authorization.content, derived.publicKey);
    if (!verifies) throw signatureInvalid();
    return {
      signature: Buffer.from(signed.signature).toString('hex'),
      publicKey: Buffer.from(derived.publicKey).toString('hex'),
    };
  } finally {
    wipeKeyShare(keyShare);
  }
}

/**
 * A pooled presignature when the authorization names one (no presigning here, so no presign
 * slot); else at most PRESIGNS_PER_SHARE_SET ECDSA sessions of one share set presign at once
 * (cosigner-daemon.ts): each presign lets a cheating peer probe one bit of Δ before a ban can be
 * recorded. The share is read inside the slot, so a ban persisted by an earlier session is seen
 * at creation.
 */
function signEcdsa(input: SignInput): Promise<SignResult> {
  const { ctx, job, authorization } = input;
  const pooled = authorization.presignSessionId;
  if (pooled !== undefined) return signWithPooled(input, pooled);
  return ctx.presignSlots.run(job.shareSetId, () => presignAndSign(input), ctx.signal);
}

async function presignAndSign(input: SignInput): Promise<SignResult> {
  const { ctx, job, sid, roster } = input;
  assertPresignAllowed(ctx.store, job.shareSetId);
  const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
  const keyShare = importDkls23KeyShare(bytes);
  bytes.fill(0);
  try {
    const { result: presignature, after } = await presignOverRelay(ctx, job, roster, sid, keyShare);
    crashPoint('sign:presigned');
    const online = new RelayPhase(ctx, job, roster, DKLS23_ONLINE_PROTOCOL, {
      beforeSend: input.shareLeaving,
    });
    try {
      const share = await signatureShare(input, keyShare, presignature);
      return await exchangeShares(input, keyShare, share, {
        phase: online,
        protocol: DKLS23_ONLINE_PROTOCOL,
        round: 1,
        after,
      });
    } finally {
      online.dispose();
    }
  } finally {
    wipeDkls23KeyShare(keyShare);
  }
}

/**
 * The online round with the pooled presignature of PRESIGN session `presignSid`. It is taken
 * from the pool and this party's share computed — the presignature spent durably twice over —
 * before anything is sent. Then every party says so (round 1: its signing context's digest,
 * which binds the presignature, the message, the path and the signers) before any party releases
 * its share (round 2): a party that no longer holds the presignature (a restored backup, a
 * trimmed pool) or was given another message fails the session while no share has left, so the
 * platform's fresh session is not refused as SIGNATURE_MAY_EXIST.
 */
async function signWithPooled(input: SignInput, presignSid: Uint8Array): Promise<SignResult> {
  const { ctx, job, sid, roster } = input;
  const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
  const keyShare = importDkls23KeyShare(bytes);
  bytes.fill(0);
  try {
    const taken = ctx.store.presignatures.takePresignature(
      job.shareSetId,
      Buffer.from(presignSid).toString('hex'),
    );
    crashPoint('sign:pool-taken');
    let presignature: Dkls23Presignature;
    try {
      presignature = importPresignature(taken.presignature);
    } finally {
      taken.presignature.fill(0);
    }
    let share: SignatureShare;
    try {
      assertMadeForRoster(presignature, presignSid, roster, 'presignature');
      share = await signatureShare(input, keyShare, presignature);
    } finally {
      wipePresignature(presignature);
    }
    const { digest } = share.context;
    const phase = new RelayPhase(ctx, job, roster, DKLS23_POOLED_PROTOCOL, {
      beforeSend: (messages) => {
        if (messages.some((m) => m.round >= POOLED_SHARE_ROUND)) input.shareLeaving();
      },
    });
    try {
      await phase.send([
        {
          sid,
          protocol: DKLS23_POOLED_PROTOCOL,
          round: 1,
          from: roster.myIndex,
          to: 'broadcast',
          payload: digest,
        },
      ]);
      const waiting = new Set(roster.indices.filter((i) => i !== roster.myIndex));
      const after = await phase.receiveUntil(0, (m) => {
        const same = m.payload.length === digest.length && constantTimeEqual(m.payload, digest);
        if (m.round !== 1 || m.to !== 'broadcast' || !same || !waiting.delete(m.from))
          throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
            detail: `unexpected readiness from party ${m.from}: another presignature or message`,
          });
        return Promise.resolve(waiting.size === 0);
      });
      return await exchangeShares(input, keyShare, share, {
        phase,
        protocol: DKLS23_POOLED_PROTOCOL,
        round: POOLED_SHARE_ROUND,
        after,
      });
    } finally {
      phase.dispose();
    }
  } finally {
    wipeDkls23KeyShare(keyShare);
  }
}

/** This party's signature share and the public context every party combines under. */
interface SignatureShare {
  readonly share: Uint8Array;
  readonly context: Dkls23SigningContext;
}

/**
 * Computes this party's signature share of the authorized message: the presignature is marked
 * spent durably before the share exists, and wiped.
 */
async function signatureShare(
  input: SignInput,
  keyShare: Dkls23KeyShare,
  presignature: Dkls23Presignature,
): Promise<SignatureShare> {
  const { ctx, authorization } = input;
  const computed = await createSignatureShare({
    presignature,
    shareSet: keyShare,
    messageHash: authorization.content,
    path: authorization.derivationPath,
    store: ctx.store.spentPresignatures,
  });
  crashPoint('sign:spent');
  return computed;
}

/** Where the shares are exchanged: the phase and round, and the relay position to read from. */
interface ShareRound {
  readonly phase: RelayPhase;
  readonly protocol: string;
  readonly round: number;
  readonly after: number;
}

/** Broadcasts this party's signature share and combines everyone's into the signature. */
async function exchangeShares(
  input: SignInput,
  keyShare: Dkls23KeyShare,
  { share, context }: SignatureShare,
  { phase, protocol, round, after }: ShareRound,
): Promise<SignResult> {
  const { sid, roster, authorization } = input;
  await phase.send([
    { sid, protocol, round, from: roster.myIndex, to: 'broadcast', payload: share },
  ]);
  const shares = [share];
  const waiting = new Set(roster.indices.filter((i) => i !== roster.myIndex));
  await phase.receiveUntil(after, (m) => {
    if (m.round !== round || m.to !== 'broadcast' || !waiting.delete(m.from))
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
        detail: `unexpected signing message from party ${m.from}`,
      });
    shares.push(m.payload.slice());
    return Promise.resolve(waiting.size === 0);
  });
  // Verified by the library against the derived key (throws otherwise), low-s.
  const signature = combineSignatureShares(context, shares);
  const derived = derivePublicKey(
    { curve: 'secp256k1', publicKey: keyShare.publicKey, chainCode: keyShare.chainCode },
    authorization.derivationPath,
  );
  const verifies =
    signature.recovery <= 1 &&
    constantTimeEqual(signature.publicKey, derived.publicKey) &&
    secp256k1.verify(signature.compact, authorization.content, derived.publicKey, {
      prehash: false,
      lowS: true,
    });
  if (!verifies) throw signatureInvalid();
  return {
    signature: Buffer.from(signature.compact).toString('hex'),
    publicKey: Buffer.from(derived.publicKey).toString('hex'),
    recoveryId: signature.recovery,
  };
}
