/**
 * The platform's database, typed for Kysely. Nullable columns are `| null`;
 * columns with defaults are `Generated`.
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface WorkspacesTable {
  id: string;
  name: string;
  admin_quorum: Generated<number>;
  created_at: Generated<Date>;
}

export interface ConsoleUsersTable {
  id: string;
  workspace_id: string;
  email: string;
  password_hash: string;
  role: string;
  enabled: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface ApiUsersTable {
  id: string;
  workspace_id: string;
  name: string;
  role: string;
  status: string;
  enabled: boolean;
  public_key_pem: string;
  csr_subject: string;
  csr_pem: string;
  ip_allowlist: JSONColumnType<string[], string, string>;
  cosigner_setup_type: string | null;
  cosigner_setup_is_first_user: boolean | null;
  approval_request_id: string | null;
  created_at: Generated<Date>;
}

export interface ApprovalRequestsTable {
  id: string;
  workspace_id: string;
  kind: string;
  subject_id: string;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  status: string;
  required_approvals: number;
  created_by_kind: string;
  created_by_id: string;
  created_at: Generated<Date>;
  decided_at: Timestamp | null;
}

export interface ApprovalVotesTable {
  approval_request_id: string;
  voter_kind: string;
  voter_id: string;
  decision: string;
  created_at: Generated<Date>;
}

export interface AuditLogTable {
  seq: Generated<string>;
  id: string;
  workspace_id: string | null;
  at: Timestamp;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  subject: string | null;
  details: JSONColumnType<Record<string, unknown>, string, string>;
  prev_hash: string;
  hash: string;
}

export interface RequestNoncesTable {
  api_user_id: string;
  nonce: string;
  expires_at: Timestamp;
}

export interface Database {
  workspaces: WorkspacesTable;
  console_users: ConsoleUsersTable;
  api_users: ApiUsersTable;
  approval_requests: ApprovalRequestsTable;
  approval_votes: ApprovalVotesTable;
  audit_log: AuditLogTable;
  request_nonces: RequestNoncesTable;
}
