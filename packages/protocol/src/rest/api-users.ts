/**
 * API users (`/v1/management/api_users`), shaped as the Fireblocks API models
 * them (`CreateAPIUser`, `APIUser`, `GetAPIUsersResponse`), plus Countersign's
 * additions, which existing clients ignore.
 */
import { Type, type Static } from 'typebox';
import { RoleSchema } from './common.js';

export const CreateApiUserRequestSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.String({
      description: 'ADMIN, NON_SIGNING_ADMIN, SIGNER, APPROVER, EDITOR or VIEWER',
    }),
    csrPem: Type.String({ minLength: 1, maxLength: 65536, description: 'PKCS#10 CSR, PEM' }),
    coSignerSetupType: Type.Optional(Type.String({ maxLength: 100 })),
    coSignerSetupIsFirstUser: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateApiUserRequest = Static<typeof CreateApiUserRequestSchema>;

export const ApiUserStatusSchema = Type.Union([
  Type.Literal('PENDING_APPROVAL'),
  Type.Literal('READY'),
  Type.Literal('REJECTED'),
]);

export const ApiUserSchema = Type.Object(
  {
    id: Type.String({ description: 'The API key' }),
    name: Type.String(),
    role: RoleSchema,
    enabled: Type.Boolean(),
    status: ApiUserStatusSchema,
    userType: Type.Literal('API'),
    csrSubject: Type.String(),
    createdAt: Type.Number({ description: 'Milliseconds since the epoch' }),
  },
  { additionalProperties: false },
);
export type ApiUser = Static<typeof ApiUserSchema>;

export const ApprovalRequestStatusSchema = Type.Union([
  Type.Literal('PENDING'),
  Type.Literal('APPROVED'),
  Type.Literal('REJECTED'),
]);

export const CreateApiUserResponseSchema = Type.Object(
  {
    id: Type.String({ description: 'The API key' }),
    apiKey: Type.String(),
    name: Type.String(),
    role: RoleSchema,
    status: ApiUserStatusSchema,
    enabled: Type.Boolean(),
    approvalRequest: Type.Object(
      { id: Type.String(), status: ApprovalRequestStatusSchema },
      { additionalProperties: false },
    ),
    warnings: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type CreateApiUserResponse = Static<typeof CreateApiUserResponseSchema>;

export const GetApiUsersResponseSchema = Type.Object(
  { users: Type.Array(ApiUserSchema) },
  { additionalProperties: false },
);
export type GetApiUsersResponse = Static<typeof GetApiUsersResponseSchema>;

export const IpAllowlistSchema = Type.Object(
  {
    userId: Type.String(),
    whitelistedIps: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type IpAllowlist = Static<typeof IpAllowlistSchema>;

export const SetIpAllowlistRequestSchema = Type.Object(
  { addresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 }) },
  { additionalProperties: false },
);
export type SetIpAllowlistRequest = Static<typeof SetIpAllowlistRequestSchema>;

export const SetIpAllowlistResponseSchema = Type.Object(
  {
    userId: Type.String(),
    /** In force now: the new list when the approval completed at once, else the old one. */
    whitelistedIps: Type.Array(Type.String()),
    requested: Type.Array(Type.String()),
    approvalRequest: Type.Object(
      { id: Type.String(), status: ApprovalRequestStatusSchema },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SetIpAllowlistResponse = Static<typeof SetIpAllowlistResponseSchema>;
