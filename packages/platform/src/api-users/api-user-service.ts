/**
 * API users: created from a CSR by an admin, active once the admin quorum
 * approves (with the default quorum of 1 the creating admin's own approval
 * completes it). The API key is the user's UUID; the private key never
 * reaches the platform.
 */
import { randomUUID } from 'node:crypto';
import { isRole, type Role } from '@countersign/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { ApprovalKind, ApprovalService } from '../approvals/approval-service.js';
import type { ApprovalRequestRow } from '../approvals/approval-request-repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import { parseIpAllowlist } from '../auth/ip-allowlist.js';
import { roleHasPermission } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/schema.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import type { ApiUserRepository, ApiUserRow } from './api-user-repository.js';
import { parseApiUserCsr } from './csr.js';

export const API_USER_CREATE = 'API_USER_CREATE';
export const API_USER_IP_ALLOWLIST = 'API_USER_IP_ALLOWLIST';

/** No control characters (PostgreSQL text rejects NUL) and no lone surrogates (not UTF-8). */
const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

/**
 * Which roles a creator may grant: never more than it holds. A NON_SIGNING_ADMIN
 * manages users but may not sign, so it may not mint an ADMIN or a SIGNER —
 * otherwise it would hand itself the signing power its role withholds.
 */
const GRANTABLE_ROLES: Partial<Record<Role, readonly Role[]>> = {
  OWNER: ['ADMIN', 'NON_SIGNING_ADMIN', 'SIGNER', 'APPROVER', 'EDITOR', 'VIEWER'],
  ADMIN: ['ADMIN', 'NON_SIGNING_ADMIN', 'SIGNER', 'APPROVER', 'EDITOR', 'VIEWER'],
  NON_SIGNING_ADMIN: ['NON_SIGNING_ADMIN', 'APPROVER', 'EDITOR', 'VIEWER'],
};

/** Roles an API user may hold: every role but OWNER, which belongs to a person. */
const API_USER_ROLES: readonly Role[] = [
  'ADMIN',
  'NON_SIGNING_ADMIN',
  'SIGNER',
  'APPROVER',
  'EDITOR',
  'VIEWER',
];

export interface CreateApiUserInput {
  name: string;
  role: string;
  csrPem: string;
  coSignerSetupType?: string | undefined;
  coSignerSetupIsFirstUser?: boolean | undefined;
}

export interface CreatedApiUser {
  user: ApiUserRow;
  approvalRequest: ApprovalRequestRow;
  warnings: string[];
}

/** Runs in the approving transaction once an API user is READY. */
export type ApiUserReadyListener = (
  trx: Transaction<Database>,
  apiUserId: string,
) => Promise<unknown>;

export class ApiUserService {
  private readonly readyListeners: ApiUserReadyListener[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly apiUsers: ApiUserRepository,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditLog,
  ) {
    approvals.register(this.creationApproval());
    approvals.register(this.ipAllowlistApproval());
  }

  async create(creator: Principal, input: CreateApiUserInput): Promise<CreatedApiUser> {
    if (!roleHasPermission(creator.role, 'apiUsers:create')) throw new ForbiddenError();
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100 || !PRINTABLE.test(name)) {
      throw new ValidationError(
        'ERR_API_USER_NAME',
        'INVALID_REQUEST',
        'name must be 1 to 100 printable characters',
      );
    }
    if (!isRole(input.role) || !API_USER_ROLES.includes(input.role)) {
      throw new ValidationError(
        'ERR_API_USER_ROLE',
        'INVALID_REQUEST',
        `role must be one of ${API_USER_ROLES.join(', ')}`,
      );
    }
    if (!(GRANTABLE_ROLES[creator.role] ?? []).includes(input.role)) {
      throw new ForbiddenError(
        `A ${creator.role} may not create an API user with role ${input.role}`,
      );
    }
    const csr = parseApiUserCsr(input.csrPem);
    const id = randomUUID();
    return this.db.transaction().execute(async (trx) => {
      if (await this.apiUsers.nameTaken(trx, creator.workspaceId, name)) {
        throw new ConflictError(
          'ERR_API_USER_NAME_TAKEN',
          'API_USER_NAME_TAKEN',
          `An API user named ${JSON.stringify(name)} already exists`,
        );
      }
      await this.apiUsers.insert(trx, {
        id,
        workspace_id: creator.workspaceId,
        name,
        role: input.role,
        status: 'PENDING_APPROVAL',
        enabled: false,
        public_key_pem: csr.publicKeyPem,
        csr_subject: csr.subject,
        csr_pem: input.csrPem.trim(),
        ip_allowlist: [],
        cosigner_setup_type: input.coSignerSetupType ?? null,
        cosigner_setup_is_first_user: input.coSignerSetupIsFirstUser ?? null,
        approval_request_id: null,
      });
      await this.audit.appendIn(trx, {
        workspaceId: creator.workspaceId,
        actorKind: creator.kind,
        actorId: creator.id,
        action: 'api_user.created',
        subject: id,
        details: { name, role: input.role, csrSubject: csr.subject, keyBits: csr.modulusBits },
      });
      const approvalRequest = await this.approvals.open(trx, {
        workspaceId: creator.workspaceId,
        kind: API_USER_CREATE,
        subjectId: id,
        payload: { apiUserId: id, name, role: input.role },
        createdBy: creator,
      });
      await trx
        .updateTable('api_users')
        .set({ approval_request_id: approvalRequest.id })
        .where('id', '=', id)
        .execute();
      const user = (await this.apiUsers.findById(id, trx))!;
      return { user, approvalRequest, warnings: csr.warnings };
    });
  }

  /** `listener` runs in the deciding transaction of every approved creation (sandbox pairing). */
  whenReady(listener: ApiUserReadyListener): void {
    this.readyListeners.push(listener);
  }

  async list(workspaceId: string): Promise<ApiUserRow[]> {
    return this.apiUsers.listByWorkspace(workspaceId);
  }

  async get(workspaceId: string, id: string): Promise<ApiUserRow> {
    const user = await this.apiUsers.findById(id);
    if (!user || user.workspace_id !== workspaceId) throw new NotFoundError('API user');
    return user;
  }

  /**
   * Replaces an API user's IP allowlist through an approval request: locking
   * someone out (or opening their key to any address) is a change the admin
   * quorum decides. With quorum 1 another admin's request completes at once;
   * a change to one's own allowlist always waits for someone else.
   */
  async requestIpAllowlist(
    actor: Principal,
    id: string,
    entries: readonly string[],
  ): Promise<{ allowlist: string[]; current: string[]; approvalRequest: ApprovalRequestRow }> {
    if (!roleHasPermission(actor.role, 'apiUsers:manageIpAllowlist')) throw new ForbiddenError();
    const allowlist = parseIpAllowlist(entries);
    await this.get(actor.workspaceId, id);
    return this.db.transaction().execute(async (trx) => {
      const approvalRequest = await this.approvals.open(trx, {
        workspaceId: actor.workspaceId,
        kind: API_USER_IP_ALLOWLIST,
        subjectId: id,
        payload: { apiUserId: id, allowlist },
        createdBy: actor,
      });
      const current = (await this.apiUsers.findById(id, trx))!.ip_allowlist;
      return { allowlist, current, approvalRequest };
    });
  }

  private ipAllowlistApproval(): ApprovalKind {
    return {
      kind: API_USER_IP_ALLOWLIST,
      deciderPermission: 'apiUsers:manageIpAllowlist',
      onApproved: async (trx, request) => {
        const allowlist = parseIpAllowlist(request.payload['allowlist'] as string[]);
        await this.apiUsers.setIpAllowlist(trx, request.subject_id, allowlist);
        await this.audit.appendIn(trx, {
          workspaceId: request.workspace_id,
          actorKind: 'system',
          actorId: null,
          action: 'api_user.ip_allowlist_set',
          subject: request.subject_id,
          details: { allowlist, approvalRequestId: request.id },
        });
      },
      onRejected: () => Promise.resolve(),
    };
  }

  private creationApproval(): ApprovalKind {
    return {
      kind: API_USER_CREATE,
      deciderPermission: 'apiUsers:create',
      onApproved: async (trx, request) => {
        await this.apiUsers.setStatus(trx, request.subject_id, 'READY', true);
        for (const listener of this.readyListeners) await listener(trx, request.subject_id);
      },
      onRejected: async (trx, request) => {
        await this.apiUsers.setStatus(trx, request.subject_id, 'REJECTED', false);
      },
    };
  }
}
