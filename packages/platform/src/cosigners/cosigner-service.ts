/**
 * Co-signer management for a workspace (`/v1/cosigners...`): list, read and
 * rename co-signers; list and read their paired API keys; ask to pair or
 * unpair an API key (approval requests); report such a request's status.
 */
import { randomUUID } from 'node:crypto';
import type { CosignerCommandStatus, PageOrder, PageQuery } from '@countersign/protocol';
import type { Kysely } from 'kysely';
import type { ApiUserService } from '../api-users/api-user-service.js';
import type { ApprovalRequestRepository } from '../approvals/approval-request-repository.js';
import type { ApprovalService } from '../approvals/approval-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { rootKeysHeldOnlyBy } from '../mpc/share-sets.js';
import {
  COSIGNER_PAIR,
  COSIGNER_UNPAIR,
  lastShareSetsMessage,
  pairingPayload,
} from './cosigner-approvals.js';
import type { CosignerPairingRow, CosignerRepository, CosignerRow } from './cosigner-repository.js';
import { decodePageCursor, encodePageCursor } from './page-cursor.js';
import { alreadyPaired, assertPairable } from './pairing-service.js';

const DEFAULT_PAGE_SIZE = 10;
const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

/** A co-signer name as stored: trimmed, 1 to 100 printable characters (else a 400). */
export function cosignerName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100 || !PRINTABLE.test(trimmed)) {
    throw new ValidationError(
      'ERR_COSIGNER_NAME',
      'INVALID_REQUEST',
      'name must be 1 to 100 printable characters',
    );
  }
  return trimmed;
}

export interface Page<T> {
  rows: T[];
  next: string | null;
}

/** A pair or unpair command: its approval request, which the status URL names. */
export interface CosignerCommand {
  requestId: string;
  status: CosignerCommandStatus['status'];
}

export class CosignerService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cosigners: CosignerRepository,
    private readonly apiUsers: ApiUserService,
    private readonly approvals: ApprovalService,
    private readonly approvalRequests: ApprovalRequestRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async list(workspaceId: string, query: PageQuery): Promise<Page<CosignerRow>> {
    const listing = 'cosigners';
    const { order, size, after } = pageOf(query, listing);
    const rows = await this.cosigners.pageVisible(workspaceId, order, size + 1, after);
    return paged(rows, size, listing, order, (r) => r.id);
  }

  async get(workspaceId: string, cosignerId: string): Promise<CosignerRow> {
    const cosigner = await this.cosigners.findVisible(workspaceId, cosignerId);
    if (!cosigner) throw new NotFoundError('Co-signer');
    return cosigner;
  }

  /** Only the workspace that registered a co-signer names it: others may share it, not rename it. */
  async rename(actor: Principal, cosignerId: string, name: string): Promise<CosignerRow> {
    const cosigner = await this.get(actor.workspaceId, cosignerId);
    if (cosigner.workspace_id !== actor.workspaceId) {
      throw new ForbiddenError('Only the workspace that registered this co-signer may rename it');
    }
    const trimmed = cosignerName(name);
    return this.db.transaction().execute(async (trx) => {
      const renamed = await trx
        .updateTable('cosigners')
        .set({ name: trimmed })
        .where('id', '=', cosigner.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.audit.appendIn(trx, {
        workspaceId: actor.workspaceId,
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'cosigner.renamed',
        subject: cosigner.id,
        details: { from: cosigner.name, to: trimmed },
      });
      return renamed;
    });
  }

  async listApiKeys(
    workspaceId: string,
    cosignerId: string,
    query: PageQuery,
  ): Promise<Page<CosignerPairingRow> & { cosigner: CosignerRow }> {
    const cosigner = await this.get(workspaceId, cosignerId);
    const listing = `api_keys:${cosigner.id}`;
    const { order, size, after } = pageOf(query, listing);
    const rows = await this.cosigners.pagePaired(workspaceId, cosigner.id, order, size + 1, after);
    return { cosigner, ...paged(rows, size, listing, order, (r) => r.id) };
  }

  async getApiKey(
    workspaceId: string,
    cosignerId: string,
    apiKeyId: string,
  ): Promise<{ cosigner: CosignerRow; pairing: CosignerPairingRow }> {
    const cosigner = await this.get(workspaceId, cosignerId);
    const pairing = await this.cosigners.pairingOf(workspaceId, cosigner.id, apiKeyId, ['PAIRED']);
    if (!pairing) throw new NotFoundError('Paired API key');
    return { cosigner, pairing };
  }

  /**
   * Asks to pair an API user of the workspace with a co-signer the workspace
   * registered. The Owner approves; an Owner asking approves at once. A
   * co-signer of another workspace (or a Cloud Co-signer) is never attached
   * from here: its operator pairs it with a pairing token, so the co-signer
   * itself agrees (pairing review M3).
   */
  async requestPair(
    actor: Principal,
    cosignerId: string,
    apiKeyId: string,
  ): Promise<CosignerCommand> {
    const cosigner = await this.get(actor.workspaceId, cosignerId);
    if (cosigner.archived) throw new NotFoundError('Co-signer');
    if (cosigner.workspace_id !== actor.workspaceId) {
      throw new ForbiddenError(
        'This co-signer was registered by another workspace: give its operator a pairing token for the API user instead, so the co-signer itself asks',
      );
    }
    const user = await this.apiUsers.get(actor.workspaceId, apiKeyId);
    assertPairable(user);
    return this.db.transaction().execute(async (trx) => {
      if (await this.cosigners.livePairingOf(user.id, trx)) throw alreadyPaired();
      const pairingId = randomUUID();
      await this.cosigners.insertPairing(trx, {
        id: pairingId,
        cosigner_id: cosigner.id,
        api_user_id: user.id,
        workspace_id: actor.workspaceId,
        status: 'WAITING_FOR_APPROVAL',
        approval_request_id: null,
      });
      const request = await this.approvals.open(trx, {
        workspaceId: actor.workspaceId,
        kind: COSIGNER_PAIR,
        subjectId: user.id,
        payload: { cosignerId: cosigner.id, apiKeyId: user.id, pairingId, via: 'api' },
        createdBy: actor,
        requiredApprovals: 1,
      });
      await this.cosigners.setApprovalRequest(trx, pairingId, request.id);
      return { requestId: request.id, status: commandStatus(request.status) };
    });
  }

  /** Asks to unpair a paired API key; the admin quorum approves. */
  async requestUnpair(
    actor: Principal,
    cosignerId: string,
    apiKeyId: string,
  ): Promise<CosignerCommand> {
    const cosigner = await this.get(actor.workspaceId, cosignerId);
    const pairing = await this.cosigners.pairingOf(actor.workspaceId, cosigner.id, apiKeyId, [
      'PAIRED',
      'WAITING_FOR_APPROVAL',
    ]);
    if (!pairing) throw new NotFoundError('Paired API key');
    if (pairing.status !== 'PAIRED') {
      throw new ConflictError(
        'ERR_API_KEY_NOT_PAIRED',
        'API_KEY_NOT_PAIRED',
        'This API key is waiting for its pairing approval; reject that request instead',
      );
    }
    return this.db.transaction().execute(async (trx) => {
      // The last holder of a root key is refused here and again when the Owner decides.
      const lost = await rootKeysHeldOnlyBy(
        trx,
        actor.workspaceId,
        { apiUserId: pairing.api_user_id, cosignerId: cosigner.id },
        this.clock(),
      );
      if (lost.length > 0)
        throw new ConflictError(
          'ERR_LAST_SHARE_SETS',
          'LAST_SHARE_SETS',
          lastShareSetsMessage(lost),
        );
      const request = await this.approvals.open(trx, {
        workspaceId: actor.workspaceId,
        kind: COSIGNER_UNPAIR,
        subjectId: pairing.api_user_id,
        payload: { cosignerId: cosigner.id, apiKeyId: pairing.api_user_id, pairingId: pairing.id },
        createdBy: actor,
      });
      return { requestId: request.id, status: commandStatus(request.status) };
    });
  }

  /** Every pairing of a co-signer, for the co-signer itself (it serves them all). */
  async pairingsOf(
    cosignerId: string,
  ): Promise<(CosignerPairingRow & { workspace_sandbox: boolean })[]> {
    return this.cosigners.pairingsOfCosigner(cosignerId);
  }

  /** The status of a pair or unpair command about this co-signer and API key. */
  async commandStatus(
    workspaceId: string,
    cosignerId: string,
    apiKeyId: string,
    requestId: string,
  ): Promise<CosignerCommandStatus> {
    const request = await this.approvalRequests.findById(workspaceId, requestId);
    if (!request || (request.kind !== COSIGNER_PAIR && request.kind !== COSIGNER_UNPAIR)) {
      throw new NotFoundError('Co-signer request');
    }
    const p = pairingPayload(request.payload);
    if (p.cosignerId !== cosignerId.toLowerCase() || p.apiKeyId !== apiKeyId.toLowerCase()) {
      throw new NotFoundError('Co-signer request');
    }
    return {
      status: commandStatus(request.status),
      type: request.kind === COSIGNER_PAIR ? 'PAIR_API_KEY' : 'UNPAIR_API_KEY',
    };
  }
}

/** An approved request has already taken effect (same transaction), so it is COMPLETED. */
function commandStatus(approvalStatus: string): CosignerCommandStatus['status'] {
  switch (approvalStatus) {
    case 'PENDING':
      return 'WAITING_FOR_APPROVAL';
    case 'APPROVED':
      return 'COMPLETED';
    case 'REJECTED':
      return 'REJECTED';
    default:
      throw new Error(`unknown approval status ${approvalStatus}`);
  }
}

function pageOf(
  query: PageQuery,
  listing: string,
): { order: PageOrder; size: number; after: string | undefined } {
  const order = query.order ?? 'ASC';
  const size = query.pageSize ?? DEFAULT_PAGE_SIZE;
  const after =
    query.pageCursor === undefined ? undefined : decodePageCursor(query.pageCursor, listing, order);
  return { order, size, after };
}

/** Rows fetched one past the page size: the extra row only says whether a next page exists. */
function paged<T>(
  rows: T[],
  size: number,
  listing: string,
  order: PageOrder,
  idOf: (row: T) => string,
): Page<T> {
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return {
    rows: page,
    next:
      rows.length > size && last !== undefined
        ? encodePageCursor({ listing, order, after: idOf(last) })
        : null,
  };
}
