/**
 * Request and response types of the operations the client wraps. They are
 * the wire schemas of `@countersign/protocol` — the same ones the platform
 * validates against — so client and server cannot drift apart.
 */
import type {
  CreateApiUserRequest,
  CreateTransactionRequest,
  GetApiUsersResponse,
  GetAuditLogsResponse,
} from '@countersign/protocol';

export type {
  ApiUser,
  AuditLogEntry,
  CreateApiUserResponse,
  CreateTransactionResponse,
  SignedMessage,
  TransactionResponse,
} from '@countersign/protocol';

export type ListApiUsersResponse = GetApiUsersResponse;

export type CreateApiUserInput = CreateApiUserRequest & {
  /** Sent as the `Idempotency-Key` header: makes the POST safe to retry. */
  idempotencyKey?: string;
};

export type CreateTransactionInput = CreateTransactionRequest & {
  /** Sent as the `Idempotency-Key` header: the same key and body answer the same transaction. */
  idempotencyKey?: string;
};

export type AuditLogTimePeriod = 'DAY' | 'WEEK';

export interface ListAuditLogsInput {
  timePeriod?: AuditLogTimePeriod;
  /** Cursor from a previous page; omit for the first page. */
  cursor?: string;
  /** Page size, 1–500. */
  limit?: number;
}

export type AuditLogsPage = GetAuditLogsResponse;
