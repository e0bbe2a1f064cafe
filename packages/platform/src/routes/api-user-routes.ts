/** `/v1/management/api_users` (Fireblocks shapes) and Countersign's IP allowlist management. */
import {
  CreateApiUserRequestSchema,
  CreateApiUserResponseSchema,
  ErrorBodySchema,
  GetApiUsersResponseSchema,
  IpAllowlistSchema,
  SetIpAllowlistRequestSchema,
  SetIpAllowlistResponseSchema,
  type ApiUser,
  type Role,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ApiUserRow } from '../api-users/api-user-repository.js';
import { principalOf } from './principal-of.js';

const UserIdParams = Type.Object(
  { userId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
const errors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
};

export function apiUserRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/v1/management/api_users',
    {
      config: { permission: 'apiUsers:read' },
      schema: {
        tags: ['API users'],
        summary: 'List API users',
        response: { 200: GetApiUsersResponseSchema, ...errors },
      },
    },
    async (request) => {
      const rows = await app.services.apiUsers.list(principalOf(request).workspaceId);
      return { users: rows.map(toApiUser) };
    },
  );

  r.post(
    '/v1/management/api_users',
    {
      config: { permission: 'apiUsers:create' },
      schema: {
        tags: ['API users'],
        summary: 'Create an API user from a CSR (an approval request for the admin quorum)',
        body: CreateApiUserRequestSchema,
        response: { 200: CreateApiUserResponseSchema, 409: ErrorBodySchema, ...errors },
      },
    },
    async (request) => {
      const { user, approvalRequest, warnings } = await app.services.apiUsers.create(
        principalOf(request),
        request.body,
      );
      return {
        id: user.id,
        apiKey: user.id,
        name: user.name,
        role: user.role as Role,
        status: user.status as ApiUser['status'],
        enabled: user.enabled,
        approvalRequest: {
          id: approvalRequest.id,
          status: approvalRequest.status as 'PENDING' | 'APPROVED' | 'REJECTED',
        },
        warnings,
      };
    },
  );

  r.get(
    '/v1/management/api_users/:userId/whitelist_ip_addresses',
    {
      config: { permission: 'apiUsers:read' },
      schema: {
        tags: ['API users'],
        summary: 'The IP addresses an API user may call from (empty: any)',
        params: UserIdParams,
        response: { 200: IpAllowlistSchema, ...errors },
      },
    },
    async (request) => {
      const user = await app.services.apiUsers.get(
        principalOf(request).workspaceId,
        request.params.userId,
      );
      return { userId: user.id, whitelistedIps: user.ip_allowlist };
    },
  );

  r.put(
    '/v1/countersign/api_users/:userId/ip_allowlist',
    {
      config: { permission: 'apiUsers:manageIpAllowlist' },
      schema: {
        tags: ['API users'],
        summary:
          'Replace an API user’s IP allowlist (single addresses only): an approval request; ' +
          '200 when it completed at once, 202 while it waits for the quorum',
        params: UserIdParams,
        body: SetIpAllowlistRequestSchema,
        response: {
          200: SetIpAllowlistResponseSchema,
          202: SetIpAllowlistResponseSchema,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { allowlist, current, approvalRequest } =
        await app.services.apiUsers.requestIpAllowlist(
          principalOf(request),
          request.params.userId,
          request.body.addresses,
        );
      const status = approvalRequest.status as 'PENDING' | 'APPROVED' | 'REJECTED';
      return reply.status(status === 'APPROVED' ? 200 : 202).send({
        userId: request.params.userId,
        whitelistedIps: status === 'APPROVED' ? allowlist : current,
        requested: allowlist,
        approvalRequest: { id: approvalRequest.id, status },
      });
    },
  );
}

export function toApiUser(row: ApiUserRow): ApiUser {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    enabled: row.enabled,
    status: row.status as ApiUser['status'],
    userType: 'API',
    csrSubject: row.csr_subject,
    createdAt: row.created_at.getTime(),
  };
}
