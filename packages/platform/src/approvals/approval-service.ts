/**
 * Approval requests: one mechanism for every change that needs the admin
 * quorum (API user creation now; pairing, callback handler changes and policy
 * publishing later). A kind registers what happens when its request is
 * approved or rejected; those effects run in the same transaction as the
 * deciding vote, so a request is never approved without its effect.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import { roleHasPermission, type Permission } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/schema.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import type {
  ApprovalDecision,
  ApprovalRequestRepository,
  ApprovalRequestRow,
} from './approval-request-repository.js';

export interface ApprovalKind {
  kind: string;
  /** What a voter must be allowed to do. */
  deciderPermission: Permission;
  /**
   * Checked when the last approval arrives, before the effect: a reason why
   * the change can no longer take effect (its subject changed while the
   * request waited) turns the approval into a rejection carrying that reason.
   */
  refusal?(trx: Transaction<Database>, request: ApprovalRequestRow): Promise<string | undefined>;
  onApproved(trx: Transaction<Database>, request: ApprovalRequestRow): Promise<void>;
  onRejected(trx: Transaction<Database>, request: ApprovalRequestRow): Promise<void>;
}

/**
 * Who opened a request. With a role, the creator's own approval is counted
 * when that role may decide the kind; without one (a request a co-signer
 * raised on the strength of an admin's pairing token) it waits for a vote.
 */
export type ApprovalCreator = Pick<Principal, 'kind' | 'id'> & { role?: Principal['role'] };

export interface NewApprovalRequest {
  workspaceId: string;
  kind: string;
  subjectId: string;
  payload: Record<string, unknown>;
  createdBy: ApprovalCreator;
  /** Approvals needed; default the workspace's admin quorum. */
  requiredApprovals?: number;
}

export class ApprovalService {
  private readonly kinds = new Map<string, ApprovalKind>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly requests: ApprovalRequestRepository,
    private readonly audit: AuditLog,
  ) {}

  register(kind: ApprovalKind): void {
    if (this.kinds.has(kind.kind)) throw new Error(`approval kind registered twice: ${kind.kind}`);
    this.kinds.set(kind.kind, kind);
  }

  /**
   * Opens a request needing the workspace's admin quorum. The creator's own
   * approval counts when the creator may decide this kind, so with the default
   * quorum of 1 the request completes at once.
   */
  async open(trx: Transaction<Database>, req: NewApprovalRequest): Promise<ApprovalRequestRow> {
    const kind = this.kindOf(req.kind);
    const workspace = await trx
      .selectFrom('workspaces')
      .select('admin_quorum')
      .where('id', '=', req.workspaceId)
      .executeTakeFirstOrThrow();
    const id = randomUUID();
    const requiredApprovals = req.requiredApprovals ?? workspace.admin_quorum;
    await this.requests.insert(trx, {
      id,
      workspace_id: req.workspaceId,
      kind: req.kind,
      subject_id: req.subjectId,
      payload: req.payload,
      status: 'PENDING',
      required_approvals: requiredApprovals,
      created_by_kind: req.createdBy.kind,
      created_by_id: req.createdBy.id,
    });
    await this.audit.appendIn(trx, {
      workspaceId: req.workspaceId,
      actorKind: req.createdBy.kind,
      actorId: req.createdBy.id,
      action: 'approval_request.opened',
      subject: id,
      details: {
        kind: req.kind,
        subjectId: req.subjectId,
        requiredApprovals,
      },
    });
    // The creator's request carries its approval, unless the request is about
    // the creator itself: nobody decides on themselves.
    const { role } = req.createdBy;
    if (
      role !== undefined &&
      roleHasPermission(role, kind.deciderPermission) &&
      req.createdBy.id !== req.subjectId
    ) {
      return this.voteIn(trx, { ...req.createdBy, role }, id, 'APPROVE');
    }
    return (await this.requests.lockById(trx, id))!;
  }

  async decide(
    voter: Principal,
    requestId: string,
    decision: ApprovalDecision,
  ): Promise<ApprovalRequestRow> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.requests.lockById(trx, requestId);
      if (!row || row.workspace_id !== voter.workspaceId)
        throw new NotFoundError('Approval request');
      return this.voteIn(trx, voter, requestId, decision);
    });
  }

  private async voteIn(
    trx: Transaction<Database>,
    voter: Pick<Principal, 'kind' | 'id' | 'role'>,
    requestId: string,
    decision: ApprovalDecision,
  ): Promise<ApprovalRequestRow> {
    const row = (await this.requests.lockById(trx, requestId))!;
    const kind = this.kindOf(row.kind);
    if (!roleHasPermission(voter.role, kind.deciderPermission)) {
      throw new ForbiddenError('Your role may not decide this approval request');
    }
    if (row.subject_id === voter.id) {
      throw new ForbiddenError('No one may decide an approval request about themselves');
    }
    if (row.status !== 'PENDING') {
      throw new ConflictError(
        'ERR_APPROVAL_NOT_PENDING',
        'APPROVAL_REQUEST_NOT_PENDING',
        `Approval request is already ${row.status}`,
      );
    }
    const added = await this.requests.addVote(trx, {
      requestId,
      voterKind: voter.kind,
      voterId: voter.id,
      decision,
    });
    if (!added) {
      throw new ConflictError(
        'ERR_APPROVAL_ALREADY_VOTED',
        'APPROVAL_ALREADY_VOTED',
        'You already voted on this request',
      );
    }
    await this.audit.appendIn(trx, {
      workspaceId: row.workspace_id,
      actorKind: voter.kind,
      actorId: voter.id,
      action:
        decision === 'APPROVE' ? 'approval_request.approved_by' : 'approval_request.rejected_by',
      subject: requestId,
      details: { kind: row.kind },
    });
    const votes = await this.requests.votes(trx, requestId);
    const approvals = votes.filter((v) => v.decision === 'APPROVE').length;
    // One rejection ends the request: an approval quorum is a set of vetoes.
    let outcome: 'APPROVED' | 'REJECTED' | null =
      decision === 'REJECT' ? 'REJECTED' : approvals >= row.required_approvals ? 'APPROVED' : null;
    const refusal = outcome === 'APPROVED' ? await kind.refusal?.(trx, row) : undefined;
    if (refusal !== undefined) outcome = 'REJECTED';
    if (outcome) {
      await this.requests.setStatus(trx, requestId, outcome);
      const decided = (await this.requests.lockById(trx, requestId))!;
      if (outcome === 'APPROVED') await kind.onApproved(trx, decided);
      else await kind.onRejected(trx, decided);
      await this.audit.appendIn(trx, {
        workspaceId: row.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: outcome === 'APPROVED' ? 'approval_request.completed' : 'approval_request.rejected',
        subject: requestId,
        details: { kind: row.kind, approvals, ...(refusal === undefined ? {} : { refusal }) },
      });
      return decided;
    }
    return (await this.requests.lockById(trx, requestId))!;
  }

  private kindOf(kind: string): ApprovalKind {
    const k = this.kinds.get(kind);
    if (!k) throw new Error(`unknown approval kind: ${kind}`);
    return k;
  }
}
