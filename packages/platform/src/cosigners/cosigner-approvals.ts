/**
 * Approval kinds for co-signer changes. Their effects run in the deciding
 * vote's transaction (see ApprovalService), and move a pairing on only from
 * the state the request was opened for.
 */
import type { Transaction } from 'kysely';
import type { ApprovalKind } from '../approvals/approval-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import type { EndedPairing } from '../mpc/share-set-destruction.js';
import { rootKeysHeldOnlyBy } from '../mpc/share-sets.js';
import type { CosignerRepository } from './cosigner-repository.js';
import { isPairable, lockApiUser } from './pairable.js';

/** Pair an API user with an existing co-signer: the workspace Owner approves. */
export const COSIGNER_PAIR = 'COSIGNER_PAIR';
/**
 * Unpair an API user: the workspace Owner decides, as for pairing. Unpairing makes the cloud
 * co-signers destroy their shares of that signer's share set (ARCHITECTURE §3), so it must not
 * be in the hands of any single admin (a requesting admin's own vote does not count; an Owner's
 * does, the Owner being the workspace's final authority).
 */
export const COSIGNER_UNPAIR = 'COSIGNER_UNPAIR';

/** What both kinds carry in their payload. */
export interface CosignerPairingPayload {
  cosignerId: string;
  apiKeyId: string;
  pairingId: string;
}

export function pairingPayload(payload: Record<string, unknown>): CosignerPairingPayload {
  const { cosignerId, apiKeyId, pairingId } = payload;
  if (
    typeof cosignerId !== 'string' ||
    typeof apiKeyId !== 'string' ||
    typeof pairingId !== 'string'
  ) {
    throw new Error('co-signer approval request without its pairing');
  }
  return { cosignerId, apiKeyId, pairingId };
}

/** What else happens in the deciding transaction when a pairing starts or ends. */
export interface PairingHooks {
  /** Once an API user is PAIRED: its share sets (KEYGEN of a first signer, else RESHARE). */
  onSignerPaired?: (trx: Transaction<Database>, workspaceId: string) => Promise<unknown>;
  /** Once a pairing is UNPAIRED: the cloud co-signers destroy their shares of its share sets. */
  onPairingEnded?: (trx: Transaction<Database>, pairing: EndedPairing) => Promise<unknown>;
}

export function cosignerApprovalKinds(
  cosigners: CosignerRepository,
  audit: AuditLog,
  clock: Clock,
  hooks: PairingHooks = {},
): ApprovalKind[] {
  return [
    {
      kind: COSIGNER_PAIR,
      deciderPermission: 'cosigners:approvePairing',
      // The API user or the co-signer may have changed while the request waited (pairing review
      // L3): the Owner's approval then rejects it instead of pairing what is no longer pairable.
      refusal: async (trx, request) => {
        const p = pairingPayload(request.payload);
        const user = await lockApiUser(trx, p.apiKeyId);
        if (!user || !isPairable(user)) {
          return 'the API user is no longer an enabled, ready SIGNER or ADMIN';
        }
        const cosigner = await cosigners.findById(p.cosignerId, trx);
        if (!cosigner || cosigner.archived) return 'the co-signer is archived';
        return undefined;
      },
      onApproved: async (trx, request) => {
        const p = pairingPayload(request.payload);
        const moved = await cosigners.transition(
          trx,
          p.pairingId,
          'WAITING_FOR_APPROVAL',
          'PAIRED',
          clock(),
        );
        if (!moved) throw new Error('approved pairing is no longer waiting');
        await hooks.onSignerPaired?.(trx, request.workspace_id);
        await audit.appendIn(trx, {
          workspaceId: request.workspace_id,
          actorKind: 'system',
          actorId: null,
          action: 'cosigner.api_key_paired',
          subject: p.cosignerId,
          details: { apiUserId: p.apiKeyId, approvalRequestId: request.id },
        });
      },
      onRejected: async (trx, request) => {
        const p = pairingPayload(request.payload);
        await cosigners.transition(trx, p.pairingId, 'WAITING_FOR_APPROVAL', 'REJECTED', clock());
      },
    },
    {
      kind: COSIGNER_UNPAIR,
      deciderPermission: 'cosigners:approvePairing',
      // Checked again when the Owner decides: the other signers may have gone meanwhile.
      refusal: async (trx, request) => {
        const p = pairingPayload(request.payload);
        const lost = await rootKeysHeldOnlyBy(
          trx,
          request.workspace_id,
          { apiUserId: p.apiKeyId, cosignerId: p.cosignerId },
          clock(),
        );
        return lost.length === 0 ? undefined : lastShareSetsMessage(lost);
      },
      onApproved: async (trx, request) => {
        const p = pairingPayload(request.payload);
        // Already unpaired by an earlier request: nothing left to do.
        const moved = await cosigners.transition(trx, p.pairingId, 'PAIRED', 'UNPAIRED', clock());
        if (moved) {
          // The long polls see the DESTROY jobs within their recheck (docs/mpc-relay.md).
          await hooks.onPairingEnded?.(trx, {
            workspaceId: request.workspace_id,
            apiUserId: p.apiKeyId,
            cosignerId: p.cosignerId,
          });
          await audit.appendIn(trx, {
            workspaceId: request.workspace_id,
            actorKind: 'system',
            actorId: null,
            action: 'cosigner.api_key_unpaired',
            subject: p.cosignerId,
            details: { apiUserId: p.apiKeyId, approvalRequestId: request.id },
          });
        }
      },
      onRejected: () => Promise.resolve(),
    },
  ];
}

/** Why an unpair is refused: it would destroy the last share sets of these root keys. */
export function lastShareSetsMessage(algorithms: readonly string[]): string {
  return (
    `this signer holds the only complete share sets of the workspace's ${algorithms.join(' and ')} ` +
    'root key: unpairing it would destroy the key for good. Pair another signer first and wait ' +
    'until its share sets are READY (its pairing approval request shows them)'
  );
}
