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

/**
 * An approved COSIGNER_PAIR request: how far the new signer's share set of one root key is.
 * READY: made. PENDING: being made, or waiting (for the root key, a dealer, a retry). REFUSED:
 * the existing signer's co-signer that was to deal refused the pairing (`subStatus`
 * REJECTED_BY_CALLBACK, IGNORED_BY_CALLBACK or PAIRING_NOT_GUARDED, its `reason`, the dealer's
 * API key) — final for this pairing. BLOCKED: a receiver reported another key or share set (see
 * the audit's `mpc.reshare_key_mismatch`). FAILED: the attempts ran out.
 */
export const PairingShareSetSchema = Type.Object(
  {
    algorithm: Type.Union([Type.Literal('ECDSA_SECP256K1'), Type.Literal('EDDSA_ED25519')]),
    status: Type.Union([
      Type.Literal('READY'),
      Type.Literal('PENDING'),
      Type.Literal('REFUSED'),
      Type.Literal('BLOCKED'),
      Type.Literal('FAILED'),
    ]),
    subStatus: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    dealerApiKeyId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type PairingShareSet = Static<typeof PairingShareSetSchema>;

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
    /** COSIGNER_PAIR, once approved and while the pairing lasts: the new signer's share sets. */
    shareSets: Type.Optional(Type.Array(PairingShareSetSchema)),
  },
  { additionalProperties: false },
);
export type ApprovalRequest = Static<typeof ApprovalRequestSchema>;

export const ListApprovalRequestsResponseSchema = Type.Object(
  { approvalRequests: Type.Array(ApprovalRequestSchema) },
  { additionalProperties: false },
);
