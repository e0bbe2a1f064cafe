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
  /** Set at creation, never changed (a trigger refuses it): docs/sandbox.md. */
  sandbox: Generated<boolean>;
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

export interface PlatformSecretsTable {
  name: string;
  secret_hex: string;
  created_at: Generated<Date>;
}

export type CosignerMode = 'API' | 'CLOUD';

export interface CosignersTable {
  id: string;
  seq: Generated<string>;
  /** Null for a cloud co-signer: it belongs to the operator. */
  workspace_id: string | null;
  name: string;
  type: string;
  mode: CosignerMode;
  /** 1 or 2 for cloud co-signers, else null. */
  cloud_slot: Generated<number | null>;
  identity_ed25519: string;
  identity_x25519: string;
  version: string;
  archived: Generated<boolean>;
  last_seen_at: Timestamp | null;
  /** Set by a clean stop (POST /cosigner/v1/offline), cleared when it polls for work again. */
  offline_at: Timestamp | null;
  created_at: Generated<Date>;
}

export type CosignerPairingStatus = 'WAITING_FOR_APPROVAL' | 'PAIRED' | 'REJECTED' | 'UNPAIRED';

export interface CosignerApiKeysTable {
  id: string;
  seq: Generated<string>;
  cosigner_id: string;
  api_user_id: string;
  workspace_id: string;
  status: CosignerPairingStatus;
  approval_request_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PairingTokensTable {
  id: string;
  token_hash: string;
  workspace_id: string;
  api_user_id: string;
  issued_by_kind: string;
  issued_by_id: string;
  issued_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  used_by_cosigner_id: string | null;
  /** When a failed exchange of this token was first audited (audited once per token). */
  failed_at: Timestamp | null;
}

/** The poll token a co-signer waits with while the Owner decides its pairing. */
export interface CosignerPairingPollsTable {
  pairing_id: string;
  token_hash: string;
  starts_family: boolean;
  expires_at: Timestamp;
  delivered_at: Timestamp | null;
  created_at: Generated<Timestamp>;
}

/** Nonces of identity-key-signed recovery requests, kept until the request expires. */
export interface CosignerRecoveryNoncesTable {
  cosigner_id: string;
  nonce: string;
  expires_at: Timestamp;
}

export interface CosignerTokenFamiliesTable {
  id: string;
  cosigner_id: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
}

export interface CosignerRefreshTokensTable {
  token_hash: string;
  family_id: string;
  issued_at: Timestamp;
  expires_at: Timestamp;
  rotated_at: Timestamp | null;
}

export interface CosignerAccessTokensTable {
  token_hash: string;
  family_id: string;
  cosigner_id: string;
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
  platform_secrets: PlatformSecretsTable;
  cosigners: CosignersTable;
  cosigner_api_keys: CosignerApiKeysTable;
  pairing_tokens: PairingTokensTable;
  cosigner_token_families: CosignerTokenFamiliesTable;
  cosigner_refresh_tokens: CosignerRefreshTokensTable;
  cosigner_access_tokens: CosignerAccessTokensTable;
  cosigner_pairing_polls: CosignerPairingPollsTable;
  cosigner_recovery_nonces: CosignerRecoveryNoncesTable;
  cloud_pairing_tokens: CloudPairingTokensTable;
  mpc_sessions: MpcSessionsTable;
  mpc_session_parties: MpcSessionPartiesTable;
  mpc_messages: MpcMessagesTable;
  cosigner_jobs: CosignerJobsTable;
  presignatures: PresignaturesTable;
  frost_commitment_points: FrostCommitmentPointsTable;
  root_keys: RootKeysTable;
  share_sets: ShareSetsTable;
  transactions: TransactionsTable;
  transaction_messages: TransactionMessagesTable;
  vault_account_counters: VaultAccountCountersTable;
  vault_accounts: VaultAccountsTable;
  vault_wallets: VaultWalletsTable;
  vault_addresses: VaultAddressesTable;
}

export interface CloudPairingTokensTable {
  id: string;
  token_hash: string;
  /** 1 or 2; null for the communal test co-signer's token. */
  cloud_slot: number | null;
  /** A token that registers the communal test co-signer (docs/sandbox.md). */
  sandbox: Generated<boolean>;
  issued_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  used_by_cosigner_id: string | null;
}

export type MpcSessionStatus = 'OPEN' | 'DONE' | 'FAILED' | 'EXPIRED';

export interface MpcSessionsTable {
  id: string;
  workspace_id: string;
  api_user_id: string;
  purpose: string;
  algorithm: string;
  share_set_id: string;
  threshold: number;
  /** base64 of `roster ‖ signature`. */
  signed_roster: string;
  /** SIGN only: base64 of `authorization ‖ signature` (countersign/signing-authorization/v2). */
  signed_authorization: string | null;
  /** RESHARE only: the existing signer whose share set the session re-deals. */
  dealer_api_user_id: Generated<string | null>;
  /**
   * RESHARE only: the sub-status with which the dealer's co-signer refused the pairing
   * (REJECTED_BY_CALLBACK, IGNORED_BY_CALLBACK, PAIRING_NOT_GUARDED), and its reason; such a
   * session ends the pairing's attempts (migration 0012).
   */
  refusal_sub_status: Generated<string | null>;
  refusal_reason: Generated<string | null>;
  status: MpcSessionStatus;
  failure_reason: string | null;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export interface MpcSessionPartiesTable {
  session_id: string;
  party_index: number;
  cosigner_id: string;
}

export interface MpcMessagesTable {
  seq: Generated<string>;
  session_id: string;
  from_index: number;
  to_index: number | null;
  round: number;
  payload: Uint8Array;
  created_at: Timestamp;
}

export type CosignerJobStatus = 'PENDING' | 'LEASED' | 'DONE' | 'FAILED';

export interface CosignerJobsTable {
  id: string;
  cosigner_id: string;
  type: 'KEYGEN' | 'RESHARE' | 'PRESIGN' | 'SIGN' | 'DESTROY';
  session_id: string;
  status: CosignerJobStatus;
  lease_id: string | null;
  lease_expires_at: Timestamp | null;
  attempts: Generated<number>;
  result: unknown;
  failure_reason: string | null;
  created_at: Timestamp;
  /** Offered from then on (migration 0014): later than created_at for a deferred job. */
  available_at: Timestamp;
  updated_at: Timestamp;
  /** When a SIGN job's ready call released its session's held jobs (migration 0016); else null. */
  ready_at: Timestamp | null;
}

export type PresignatureStatus = 'MAKING' | 'READY' | 'TAKEN' | 'DISCARDED';

/**
 * One pooled ECDSA presignature or FROST nonce set, by the PRESIGN session that makes it
 * (migrations 0014, 0015).
 */
export interface PresignaturesTable {
  session_id: string;
  workspace_id: string;
  share_set_id: string;
  status: PresignatureStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
  taken_by_session_id: string | null;
  /** EdDSA, READY on: the nonce set's commitment list, hex, for aggregation. */
  commitments: Generated<string | null>;
}

/** A FROST nonce commitment point an EdDSA share set's pool was offered (migration 0017). */
export interface FrostCommitmentPointsTable {
  share_set_id: string;
  /** Canonical encoding, hex. */
  point: string;
  /** The PRESIGN session whose entry offered it first, and the party that did. */
  presign_session_id: string;
  party_index: number;
}

export interface RootKeysTable {
  workspace_id: string;
  algorithm: string;
  public_key: string;
  chain_code: string | null;
  session_id: string;
  created_at: Timestamp;
}

/** One signer's share set of a root key: made by KEYGEN (the first signer) or RESHARE. */
export interface ShareSetsTable {
  id: string;
  workspace_id: string;
  algorithm: string;
  api_user_id: string;
  cosigner_id: string;
  session_id: string;
  /** The signer's party index (cloud-1 and cloud-2 are 1 and 2). */
  signer_index: number;
  /** Hex of the public share set; null for share sets made before it was recorded. */
  public_share_set: string | null;
  created_at: Timestamp;
  /** Set when its pairing ended: the cloud co-signers were told to destroy their shares. */
  destruction_requested_at: Timestamp | null;
  /** When cloud-1 (party 1) and cloud-2 (party 2) confirmed they hold no share of it. */
  cloud_1_destroyed_at: Timestamp | null;
  cloud_2_destroyed_at: Timestamp | null;
}

export type TransactionStatus =
  | 'SUBMITTED'
  | 'PENDING_SIGNATURE'
  | 'COMPLETED'
  | 'FAILED'
  | 'REJECTED';

export interface TransactionsTable {
  id: string;
  workspace_id: string;
  created_by: string;
  operation: 'RAW';
  status: TransactionStatus;
  sub_status: string;
  /** Why, in words, for a callback sub-status (the handler's rejectionReason); else null. */
  sub_status_detail: ColumnType<string | null, string | null | undefined, string | null>;
  algorithm: string;
  asset_id: string | null;
  /** Decimal digits, as the request's source.id. */
  source_vault_account_id: string;
  note: string;
  external_tx_id: string | null;
  customer_ref_id: string | null;
  extra_parameters: unknown;
  idempotency_key: string | null;
  request_hash: string;
  signer_api_user_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TransactionMessagesTable {
  transaction_id: string;
  message_index: number;
  content: string;
  derivation_path: unknown;
  status: 'PENDING' | 'SIGNED' | 'FAILED';
  session_id: string | null;
  attempts: Generated<number>;
  result: unknown;
}

/** The next vault account id of a workspace (ids are BIP44 path indices, sequential). */
export interface VaultAccountCountersTable {
  workspace_id: string;
  next_id: number;
}

export interface VaultAccountsTable {
  workspace_id: string;
  id: number;
  name: string;
  hidden_on_ui: Generated<boolean>;
  customer_ref_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface VaultWalletsTable {
  workspace_id: string;
  vault_account_id: number;
  asset_id: string;
  created_at: Timestamp;
}

export interface VaultAddressesTable {
  workspace_id: string;
  vault_account_id: number;
  asset_id: string;
  bip44_change: number;
  bip44_address_index: number;
  address: string;
  created_at: Timestamp;
}
