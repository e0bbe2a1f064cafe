/**
 * Pairing the development co-signers with the platform they run beside, over HTTP on loopback
 * with the real protocol (`POST /cosigner/v1/pair`); only what an operator or the Owner would do
 * by hand happens in-process: minting the cloud pairing tokens (cloud-cosigner.ts does the same
 * from the database), issuing the Signer's pairing token, and the Owner's approval of the
 * COSIGNER_PAIR request (packages/platform/docs/pairing.md).
 */
import {
  PlatformCredentials,
  pairApiKey,
  pendingPairings,
  waitForPairing,
  type CosignerStore,
} from '@countersign/cosigner';
import type { PlatformServices, Principal } from '@countersign/platform';
import type { DevCosigner } from './dev-cosigner-home.js';

/** How long the approved pairing may take to reach the co-signer. */
const PAIRING_WAIT_MS = 60_000;

/** Where a store is registered, or undefined before its first pairing. */
export function registrationOf(
  store: CosignerStore,
): { cosignerId: string; platformUrl: string } | undefined {
  try {
    const credentials = new PlatformCredentials(store);
    return { cosignerId: credentials.cosignerId, platformUrl: credentials.client.baseUrl };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_COSIGNER_NOT_PAIRED') return undefined;
    throw error;
  }
}

/** An operator's co-signer: cloud slot 1 or 2, or the communal test co-signer of sandboxes. */
export type OperatorSeat = 1 | 2 | 'sandbox';

/**
 * Whether a registered co-signer is one this database knows: the operator's co-signer of that
 * seat, or (no seat) an API co-signer of this workspace. A store kept while the database was
 * removed is not.
 */
export async function knownHere(
  services: PlatformServices,
  seat: OperatorSeat | undefined,
  cosignerId: string,
  workspaceId: string,
): Promise<boolean> {
  const row = await services.database.db
    .selectFrom('cosigners')
    .select(['workspace_id', 'mode', 'type', 'cloud_slot', 'archived'])
    .where('id', '=', cosignerId)
    .executeTakeFirst();
  if (!row || row.archived) return false;
  if (seat === 'sandbox') return row.type === 'SANDBOX';
  if (seat !== undefined) return row.mode === 'CLOUD' && row.cloud_slot === seat;
  return row.workspace_id === workspaceId;
}

/** Registers the operator's co-signer of `seat` with an operator token minted in-process. */
export async function registerOperatorCosigner(
  services: PlatformServices,
  cosigner: DevCosigner,
  seat: OperatorSeat,
  platformUrl: string,
): Promise<void> {
  const taken = await services.database.db
    .selectFrom('cosigners')
    .select('id')
    .$if(seat === 'sandbox', (q) => q.where('type', '=', 'SANDBOX'))
    .$if(seat !== 'sandbox', (q) => q.where('cloud_slot', '=', seat as 1 | 2))
    .executeTakeFirst();
  if (taken) {
    throw new Error(
      `the ${seat === 'sandbox' ? 'communal test co-signer' : `cloud slot ${seat}`} is registered ` +
        `to co-signer ${taken.id}, whose store is not ${cosigner.dir}: ` +
        'the co-signer stores and the database come from different runs',
    );
  }
  const { token } = await services.cloudCosigners.issueToken(seat);
  await pairApiKey(cosigner.store, { pairingToken: token, platformUrl, name: cosigner.name });
}

/**
 * Pairs the API co-signer with the Signer and approves the pairing as the Owner. Resumes a
 * pairing an interrupted run left waiting, rather than asking for a second one.
 */
export async function pairSigner(
  services: PlatformServices,
  cosigner: DevCosigner,
  owner: Principal,
  signerId: string,
  platformUrl: string,
): Promise<void> {
  const { store } = cosigner;
  if (store.pairedApiKeys.getPairedApiKey(signerId) !== undefined) return;
  let requestId = pendingPairings(store).find((p) => p.apiKeyId === signerId)?.requestId;
  if (requestId === undefined) {
    const live = await services.database.db
      .selectFrom('cosigner_api_keys')
      .select('cosigner_id')
      .where('api_user_id', '=', signerId)
      .where('status', 'in', ['WAITING_FOR_APPROVAL', 'PAIRED'])
      .executeTakeFirst();
    if (live) {
      throw new Error(
        `the API user dev-signer is paired with co-signer ${live.cosigner_id}, whose store is ` +
          `not ${cosigner.dir}: the co-signer stores and the database come from different runs`,
      );
    }
    const { pairingToken } = await services.pairing.issuePairingToken(owner, signerId);
    const outcome = await pairApiKey(store, { pairingToken, platformUrl, name: cosigner.name });
    requestId = outcome.requestId;
  }
  if (requestId === undefined) return; // paired at once: nothing to approve
  const request = await services.database.db
    .selectFrom('approval_requests')
    .select('status')
    .where('id', '=', requestId)
    .executeTakeFirst();
  if (request?.status === 'PENDING') await services.approvals.decide(owner, requestId, 'APPROVE');
  await waitForPairing(store, requestId, { timeoutMs: PAIRING_WAIT_MS, pollIntervalMs: 200 });
}
