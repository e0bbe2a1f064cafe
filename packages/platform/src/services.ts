/**
 * The platform's services, built once per app from one database handle.
 * Routes reach them through `app.services`.
 */
import { ApiUserRepository } from './api-users/api-user-repository.js';
import { ApiUserService } from './api-users/api-user-service.js';
import { ApprovalRequestRepository } from './approvals/approval-request-repository.js';
import { ApprovalService } from './approvals/approval-service.js';
import { AuditLog } from './audit/audit-log.js';
import { NonceStore } from './auth/nonce-store.js';
import { RequestAuthenticator } from './auth/request-authenticator.js';
import type { PlatformConfig } from './config.js';
import type { PlatformDatabase } from './db/connect.js';
import { WorkspaceService } from './workspaces/workspace-service.js';

export interface PlatformServices {
  database: PlatformDatabase;
  audit: AuditLog;
  nonces: NonceStore;
  authenticator: RequestAuthenticator;
  approvals: ApprovalService;
  approvalRequests: ApprovalRequestRepository;
  apiUsers: ApiUserService;
  workspaces: WorkspaceService;
}

export function createServices(
  database: PlatformDatabase,
  config: Pick<PlatformConfig, 'clockSkewSeconds'>,
): PlatformServices {
  const db = database.db;
  const audit = new AuditLog(db);
  const nonces = new NonceStore(db);
  const apiUserRepository = new ApiUserRepository(db);
  const approvalRequests = new ApprovalRequestRepository(db);
  const approvals = new ApprovalService(db, approvalRequests, audit);
  return {
    database,
    audit,
    nonces,
    authenticator: new RequestAuthenticator(apiUserRepository, nonces, {
      clockSkewSeconds: config.clockSkewSeconds,
    }),
    approvals,
    approvalRequests,
    apiUsers: new ApiUserService(db, apiUserRepository, approvals, audit),
    workspaces: new WorkspaceService(db, audit),
  };
}
