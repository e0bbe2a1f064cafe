/**
 * Authentication and authorization for every route. A route that does not
 * declare a permission fails at startup, so nothing is reachable by accident.
 * Each failure is answered with its Fireblocks code and written to the audit
 * log (with the API key and workspace when the key is known).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { roleHasPermission, type Permission } from '../auth/permissions.js';
import { AuthError, ForbiddenError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route and the permission it declared, for audits and tests. */
    routePermissions: readonly RoutePermission[];
  }
}

export interface RoutePermission {
  method: string;
  url: string;
  permission: Permission | 'public';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const authentication = fp(
  (app: FastifyInstance) => {
    app.decorateRequest('principal', undefined);
    const routes: RoutePermission[] = [];
    app.decorate('routePermissions', routes);

    app.addHook('onRoute', (route) => {
      const permission = route.config?.permission;
      if (permission === undefined) {
        throw new Error(`route ${String(route.method)} ${route.url} declares no permission`);
      }
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') routes.push({ method, url: route.url, permission });
      }
    });

    // After body parsing (the JWT covers the body's hash), before validation
    // and the handler: an unauthenticated caller learns nothing from schemas.
    app.addHook('preValidation', async (request) => {
      const permission = request.routeOptions.config.permission;
      if (permission === 'public' || permission === undefined) return;
      const { services } = app;
      const apiKey = header(request, 'x-api-key');
      try {
        const principal = await services.authenticator.authenticate({
          apiKey,
          authorization: header(request, 'authorization'),
          url: request.url,
          rawBody: request.rawBody,
          ip: request.ip,
        });
        if (!roleHasPermission(principal.role, permission)) {
          await services.audit.append({
            workspaceId: principal.workspaceId,
            actorKind: principal.kind,
            actorId: principal.id,
            action: 'auth.forbidden',
            subject: request.routeOptions.url ?? null,
            details: { method: request.method, permission, role: principal.role, ip: request.ip },
          });
          throw new ForbiddenError();
        }
        request.principal = principal;
      } catch (error) {
        if (error instanceof AuthError) {
          const knownKey = apiKey && UUID.test(apiKey) ? apiKey.toLowerCase() : null;
          const owner = knownKey ? await workspaceOf(app, knownKey) : null;
          await services.audit.append({
            workspaceId: owner,
            actorKind: 'anonymous',
            actorId: knownKey,
            action: 'auth.failed',
            subject: request.routeOptions.url ?? null,
            details: {
              method: request.method,
              reason: error.code,
              code: error.apiCode,
              ip: request.ip,
            },
          });
        }
        throw error;
      }
    });
    return Promise.resolve();
  },
  { name: 'authentication', dependencies: ['services'] },
);

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? undefined : value;
}

async function workspaceOf(app: FastifyInstance, apiUserId: string): Promise<string | null> {
  const row = await app.services.database.db
    .selectFrom('api_users')
    .select('workspace_id')
    .where('id', '=', apiUserId)
    .executeTakeFirst();
  return row?.workspace_id ?? null;
}
