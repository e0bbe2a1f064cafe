/**
 * Shapes of the API operations the client wraps, as the Fireblocks API (and
 * its official `@fireblocks/ts-sdk`) models them. Fields are optional where
 * Fireblocks marks them optional; extra fields the platform adds are kept.
 */
import type { Role } from '@countersign/protocol';

export interface ApiUser {
  id?: string;
  name?: string;
  role?: Role | (string & {});
  enabled?: boolean;
  status?: string;
  userType?: string;
  [field: string]: unknown;
}

export interface ListApiUsersResponse {
  users: ApiUser[];
  [field: string]: unknown;
}

export interface CreateApiUserInput {
  name: string;
  role: Role;
  /** PKCS#10 CSR (PEM) of the RSA key that will sign this API user's requests. */
  csrPem: string;
  coSignerSetupType?: string;
  coSignerSetupIsFirstUser?: boolean;
  /** Sent as the `Idempotency-Key` header: makes the POST safe to retry. */
  idempotencyKey?: string;
}

/** Fireblocks answers this call with an empty body; Countersign adds the API key and warnings. */
export type CreateApiUserResponse = Record<string, unknown> | undefined;

export type AuditLogTimePeriod = 'DAY' | 'WEEK';

export interface AuditLogEntry {
  id?: string;
  timestamp?: number;
  createdAt?: number;
  user?: string;
  subject?: string;
  event?: string;
  tenantId?: string;
  userId?: string;
  [field: string]: unknown;
}

export interface ListAuditLogsInput {
  timePeriod?: AuditLogTimePeriod;
  /** Cursor from a previous page; omit for the first page. */
  cursor?: string;
  /** Page size (a Countersign extension; Fireblocks pages at its own size). */
  limit?: number;
}

export interface AuditLogsPage {
  data: AuditLogEntry[];
  cursor?: string | null;
  total?: number;
  [field: string]: unknown;
}
