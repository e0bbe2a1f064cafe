/** `GET /v1/management/audit_logs`: the workspace's audit trail, newest first, cursor-paginated. */
import {
  ErrorBodySchema,
  GetAuditLogsQuerySchema,
  GetAuditLogsResponseSchema,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from './principal-of.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export function auditLogRoutes(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/management/audit_logs',
    {
      config: { permission: 'auditLogs:read' },
      schema: {
        tags: ['Audit logs'],
        querystring: GetAuditLogsQuerySchema,
        response: {
          200: GetAuditLogsResponseSchema,
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
        },
      },
    },
    async (request) => {
      const { workspaceId } = principalOf(request);
      const limit = request.query.limit ?? 100;
      const period = request.query.timePeriod;
      const since = period
        ? new Date(Date.now() - (period === 'WEEK' ? 7 : 1) * DAY_MS)
        : undefined;
      const rows = await app.services.audit.page({
        workspaceId,
        beforeSeq: request.query.cursor,
        since,
        limit,
      });
      return {
        data: rows.map((r) => ({
          id: r.id,
          timestamp: r.at.getTime(),
          createdAt: r.at.getTime(),
          user: r.actorId ?? r.actorKind,
          userId: r.actorId ?? '',
          subject: r.subject ?? '',
          event: r.action,
          tenantId: workspaceId,
          details: r.details,
          seq: r.seq,
          prevHash: r.prevHash,
          hash: r.hash,
        })),
        cursor: rows.length === limit ? rows[rows.length - 1]!.seq : null,
        total: rows.length,
      };
    },
  );
}
