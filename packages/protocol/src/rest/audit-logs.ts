/**
 * Audit log (`/v1/management/audit_logs`), shaped as the Fireblocks
 * `GetAuditLogsResponse`, with the hash-chain fields added.
 */
import { Type, type Static } from 'typebox';

export const AuditLogEntrySchema = Type.Object(
  {
    id: Type.String(),
    timestamp: Type.Number(),
    createdAt: Type.Number(),
    user: Type.String({ description: 'Who acted: API user or console user id, or "system"' }),
    userId: Type.String(),
    subject: Type.String(),
    event: Type.String(),
    tenantId: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
    seq: Type.String(),
    prevHash: Type.String(),
    hash: Type.String(),
  },
  { additionalProperties: false },
);
export type AuditLogEntry = Static<typeof AuditLogEntrySchema>;

export const GetAuditLogsQuerySchema = Type.Object(
  {
    timePeriod: Type.Optional(Type.Union([Type.Literal('DAY'), Type.Literal('WEEK')])),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);

export const GetAuditLogsResponseSchema = Type.Object(
  {
    data: Type.Array(AuditLogEntrySchema),
    cursor: Type.Union([Type.String(), Type.Null()]),
    total: Type.Integer(),
  },
  { additionalProperties: false },
);
export type GetAuditLogsResponse = Static<typeof GetAuditLogsResponseSchema>;
