/**
 * The existing signer's guard over a later signer's pairing (ARCHITECTURE §3 "Next signer";
 * reshare review 2026-11-28 H1, M2). An API co-signer that is asked to deal its share set in a
 * RESHARE is the only customer-side party among the dealers: cloud-1 and cloud-2 are the
 * operator's, and the platform both states the Owner's approval (which the co-signer cannot check)
 * and chooses which existing signer deals. So the co-signer deals only when
 *
 * - the old signer's API key has a Callback Handler, and it answers APPROVE to
 *   `config_change_sign_request` type PAIR_API_KEY (the customer's own record of what its Owner
 *   approved, out of band of the platform); or
 * - its operator started it with `--approve-pairings-without-handler`, accepting the platform's
 *   statement of the Owner's approval.
 *
 * Otherwise it refuses with PAIRING_NOT_GUARDED before any MPC message: without either, a
 * platform that forges an approval could have cloud-1, cloud-2 and a co-signer of its own hold a
 * 3-of-3 sharing of the root key — the whole key.
 * @module
 */
import { createHash } from 'node:crypto';
import {
  identityFingerprint,
  type ConfigChangeSignRequest,
  type LeasedJob,
  type ReshareAuthorization,
} from '@countersign/protocol';
import type { VerifiedRoster } from '../channel/roster.js';
import type { JobContext } from './job-context.js';
import { decideByCallback, SignRefusedByCallback } from './sign-callback.js';

/**
 * Returns when the old signer's guard lets this API co-signer deal for the pairing `a` names;
 * throws SignRefusedByCallback (PAIRING_NOT_GUARDED, or the handler's refusal) otherwise.
 */
export async function guardPairing(
  ctx: JobContext,
  job: LeasedJob,
  a: ReshareAuthorization,
  roster: VerifiedRoster,
): Promise<void> {
  if (ctx.mode === 'cloud') return;
  const pairing = ctx.store.pairedApiKeys.getPairedApiKey(a.oldSignerId);
  // An API key not paired here (or unpaired) is refused by the gate itself (NOT_FOUND).
  const unguarded =
    pairing !== undefined &&
    pairing.unpairedAt === null &&
    (pairing.callbackHandler === undefined || pairing.callbackHandler === null);
  if (unguarded && ctx.approvePairingsWithoutHandler !== true)
    throw new SignRefusedByCallback(
      'PAIRING_NOT_GUARDED',
      `API key ${a.oldSignerId} has no Callback Handler to approve pairing ${a.approvalRequestId}, ` +
        'and this co-signer was not started with --approve-pairings-without-handler',
    );
  await decideByCallback(ctx, {
    apiKeyId: a.oldSignerId,
    kind: 'config_change_sign_request',
    payload: pairApiKeyRequest(a, roster),
    expiresAt: a.expiresAt,
    leaseExpiresAt: job.leaseExpiresAt,
    what: 'reshare authorization',
  });
}

/**
 * `config_change_sign_request` for the pairing that authorized the new signer, with what the
 * Owner was shown — the approval request, the new API key and co-signer, and the fingerprint of
 * the co-signer's identity key as the signed roster names it.
 *
 * `requestId` = `pair:{approvalRequestId}:{newApiKeyId}:{first 32 hex digits of SHA-256 over the
 * canonical extraInfo}` (review M2, as sign-callback.ts does for SIGN): the same for both
 * algorithms' reshares and every retry of one genuine pairing, but never the same for another
 * co-signer or identity key — so a handler that remembers an approved request id cannot be led
 * to approve a substituted co-signer under it.
 */
export function pairApiKeyRequest(
  a: ReshareAuthorization,
  roster: VerifiedRoster,
): ConfigChangeSignRequest {
  const newMember = a.receivers.find((i) => !a.dealers.includes(i))!;
  const identityKey = roster.party(newMember)!.identityKey;
  // Fixed member order: JSON.stringify keeps insertion order, so this is the canonical form.
  const extraInfo = {
    approvalRequestId: a.approvalRequestId,
    apiKeyId: a.newSignerId,
    cosignerId: a.newCosignerId,
    identityKey: Buffer.from(identityKey).toString('hex'),
    identityFingerprint: identityFingerprint(identityKey),
  };
  const digest = createHash('sha256').update(JSON.stringify(extraInfo)).digest('hex').slice(0, 32);
  return {
    requestId: `pair:${a.approvalRequestId}:${a.newSignerId}:${digest}`,
    signerId: a.oldSignerId,
    type: 'PAIR_API_KEY',
    extraInfo,
  };
}
