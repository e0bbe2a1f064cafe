/** Approval requests (`/v1/countersign/approval_requests`): changes waiting for the admin quorum. */
import { Type, type Static } from 'typebox';
import { ApprovalRequestStatusSchema } from './api-users.js';

export const ApprovalVoteSchema = Type.Object(
  {
    voterKind: Type.String(),
    voterId: Type.String(),
    decision: Type.Union([Type.Literal('APPROVE'), Type.Literal('REJECT')]),
    at: Type.Number(),
  },
  { additionalProperties: false },
);

export const ApprovalRequestSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    subjectId: Type.String(),
    status: ApprovalRequestStatusSchema,
    requiredApprovals: Type.Integer(),
    createdBy: Type.Object(
      { kind: Type.String(), id: Type.String() },
      { additionalProperties: false },
    ),
    createdAt: Type.Number(),
    decidedAt: Type.Union([Type.Number(), Type.Null()]),
    payload: Type.Record(Type.String(), Type.Unknown()),
    votes: Type.Array(ApprovalVoteSchema),
  },
  { additionalProperties: false },
);
export type ApprovalRequest = Static<typeof ApprovalRequestSchema>;

export const ListApprovalRequestsResponseSchema = Type.Object(
  { approvalRequests: Type.Array(ApprovalRequestSchema) },
  { additionalProperties: false },
);
