/** `GET /v1/countersign/session`: who the request authenticated as, and in what kind of workspace. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { RoleSchema } from '@countersign/protocol';
import { principalOf } from './principal-of.js';

const SessionSchema = Type.Object(
  {
    kind: Type.String(),
    id: Type.String(),
    name: Type.String(),
    workspaceId: Type.String(),
    /** A sandbox workspace: test networks only, signers served by the communal test co-signer. */
    workspaceSandbox: Type.Boolean(),
    role: RoleSchema,
  },
  { additionalProperties: false },
);

export function sessionRoutes(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/countersign/session',
    {
      config: { permission: 'session:read' },
      schema: {
        tags: ['Session'],
        summary: 'The authenticated caller',
        response: { 200: SessionSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        ...principal,
        workspaceSandbox: await app.services.workspaces.isSandbox(principal.workspaceId),
      };
    },
  );
}
