/** `/v1/countersign/approval_requests`: list, read and decide changes waiting for the quorum. */
import {
  ApprovalRequestSchema,
  ErrorBodySchema,
  ListApprovalRequestsResponseSchema,
  type ApprovalRequest,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ApprovalRequestRow } from '../approvals/approval-request-repository.js';
import { COSIGNER_PAIR } from '../cosigners/cosigner-approvals.js';
import { NotFoundError } from '../errors.js';
import { pairingShareSets } from '../mpc/pairing-share-sets.js';
import { principalOf } from './principal-of.js';

const IdParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
const StatusQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('PENDING'), Type.Literal('APPROVED'), Type.Literal('REJECTED')]),
    ),
  },
  { additionalProperties: false },
);
const errors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
};

export function approvalRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { approvals, approvalRequests } = app.services;

  async function present(row: ApprovalRequestRow): Promise<ApprovalRequest> {
    const votes = await approvalRequests.votes(app.services.database.db, row.id);
    // An approved pairing shows whether its signer got its share sets, or why not (M1).
    const shareSets =
      row.kind === COSIGNER_PAIR && row.status === 'APPROVED'
        ? await pairingShareSets(app.services.database.db, row.workspace_id, row.id)
        : undefined;
    return {
      id: row.id,
      kind: row.kind,
      subjectId: row.subject_id,
      status: row.status as ApprovalRequest['status'],
      requiredApprovals: row.required_approvals,
      createdBy: { kind: row.created_by_kind, id: row.created_by_id },
      createdAt: row.created_at.getTime(),
      decidedAt: row.decided_at ? row.decided_at.getTime() : null,
      payload: row.payload,
      votes: votes.map((v) => ({
        voterKind: v.voter_kind,
        voterId: v.voter_id,
        decision: v.decision as 'APPROVE' | 'REJECT',
        at: v.created_at.getTime(),
      })),
      ...(shareSets === undefined ? {} : { shareSets }),
    };
  }

  r.get(
    '/v1/countersign/approval_requests',
    {
      config: { permission: 'approvalRequests:read' },
      schema: {
        tags: ['Approval requests'],
        querystring: StatusQuery,
        response: { 200: ListApprovalRequestsResponseSchema, ...errors },
      },
    },
    async (request) => {
      const rows = await approvalRequests.list(
        principalOf(request).workspaceId,
        request.query.status,
      );
      return { approvalRequests: await Promise.all(rows.map(present)) };
    },
  );

  r.get(
    '/v1/countersign/approval_requests/:id',
    {
      config: { permission: 'approvalRequests:read' },
      schema: {
        tags: ['Approval requests'],
        params: IdParams,
        response: { 200: ApprovalRequestSchema, ...errors },
      },
    },
    async (request) => {
      const row = await approvalRequests.findById(
        principalOf(request).workspaceId,
        request.params.id,
      );
      if (!row) throw new NotFoundError('Approval request');
      return present(row);
    },
  );

  for (const decision of ['APPROVE', 'REJECT'] as const) {
    r.post(
      `/v1/countersign/approval_requests/:id/${decision.toLowerCase()}`,
      {
        config: { permission: 'approvalRequests:decide' },
        schema: {
          tags: ['Approval requests'],
          params: IdParams,
          response: { 200: ApprovalRequestSchema, ...errors },
        },
      },
      async (request) =>
        present(await approvals.decide(principalOf(request), request.params.id, decision)),
    );
  }
}
