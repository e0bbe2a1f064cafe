/**
 * One SIGN job (ARCHITECTURE §4, §8): sign one message of a transaction with this party's share
 * of the share set, over the relay, only as the platform authorized it.
 *
 * 1. Verify the roster (purpose SIGN, this session and share set) and the signing authorization
 *    (signing-authorization.ts) against the pinned platform key; the message and the derivation
 *    path come from the verified authorization, never from the job's unsigned fields.
 * 2. Claim the message in the store (signing-record-repository.ts): a re-offered session whose
 *    nonces died with a crash, or a fresh session for a message this party already released a
 *    signature share for, is refused — a transaction is signed at most once.
 * 3. Run the protocol; before the signature share leaves, record SHARE_SENT durably.
 *    EDDSA_ED25519: FROST (RFC 9591) with the Ed25519 tweak derivation; nonces live in memory
 *    only, so a crash before the share means a fresh session, never a replay.
 * 4. Verify the signature against the public key derived here from the share set's root and
 *    the path (independently of the protocol's own check), store it, then report it.
 * @module
 */
import {
  derivePublicKey,
  importKeyShare,
  sign,
  wipeKeyShare,
  type ProtocolMessage,
} from '@countersign/mpc';
import type { LeasedJob, SignResult } from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError } from '../errors.js';
import type { SigningClaim } from '../store/signing-record-repository.js';
import type { JobContext } from './job-context.js';
import { publishedSession } from './published-session.js';
import { runOverRelay } from './relay-session.js';
import { verifySigningAuthorization } from './signing-authorization.js';

/** FROST signing: round 1 broadcasts nonce commitments, round 2 the signature shares. */
const FROST_SHARE_ROUND = 2;

export async function runSignJob(ctx: JobContext, job: LeasedJob): Promise<SignResult> {
  const { sid, roster, published } = await publishedSession(ctx, job, 'SIGN');
  const authorization = verifySigningAuthorization(
    published.signedAuthorization,
    job,
    ctx.platformKey,
  );
  const stored = ctx.store.shareSets.getShareSet(job.shareSetId);
  if (
    stored === undefined ||
    stored.algorithm !== job.algorithm ||
    stored.apiKeyId !== job.apiKeyId
  )
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `no ${job.algorithm} share set ${job.shareSetId} for this API user`,
    });
  const claim: SigningClaim = {
    transactionId: authorization.transactionId,
    messageIndex: authorization.messageIndex,
    shareSetId: job.shareSetId,
    sessionId: job.sessionId,
  };
  const outcome = ctx.store.signingRecords.claim(claim);
  if (outcome.kind === 'signed') return JSON.parse(outcome.result) as SignResult;
  if (outcome.kind === 'refused')
    throw new CosignerError('ERR_COSIGNER_CONFLICT', { detail: outcome.reason });

  if (job.algorithm !== 'EDDSA_ED25519')
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `${job.algorithm} signing is not supported by this co-signer`,
    });
  const { share: bytes } = ctx.store.shareSets.readShare(job.shareSetId);
  const keyShare = importKeyShare(bytes);
  bytes.fill(0);
  let result: SignResult;
  try {
    const session = sign({
      sid,
      keyShare,
      signers: roster.indices,
      message: authorization.content,
      path: authorization.derivationPath,
    });
    let shareSent = false;
    const signed = await runOverRelay(ctx, job, roster, session, {
      beforeSend: (messages: readonly ProtocolMessage[]) => {
        if (shareSent || !messages.some((m) => m.round >= FROST_SHARE_ROUND)) return;
        ctx.store.signingRecords.markShareSent(claim);
        shareSent = true;
      },
    });
    const derived = derivePublicKey(
      { curve: 'ed25519', publicKey: keyShare.publicKey, chainCode: keyShare.chainCode },
      authorization.derivationPath,
    );
    const verifies =
      constantTimeEqual(signed.publicKey, derived.publicKey) &&
      ed25519.verify(signed.signature, authorization.content, derived.publicKey, {
        zip215: false,
      });
    if (!verifies)
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: 'the signature does not verify against the derived public key',
      });
    result = {
      signature: Buffer.from(signed.signature).toString('hex'),
      publicKey: Buffer.from(derived.publicKey).toString('hex'),
    };
  } finally {
    wipeKeyShare(keyShare);
  }
  ctx.store.signingRecords.markSigned(claim, JSON.stringify(result));
  return result;
}
