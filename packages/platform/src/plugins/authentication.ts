/**
 * Authentication and authorization for every route. A route that does not
 * declare a permission fails at startup, so nothing is reachable by accident.
 *
 * Order (Fastify hooks): `onRequest` verifies the headers and the token before
 * the body is read; the JSON parser checks the body hash on the raw bytes
 * before parsing them; `preValidation` consumes the nonce and checks the
 * permission. Each failure is answered with its Fireblocks code and audited,
 * within the per-address failure limit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { FailureLimiter } from '../auth/failure-limiter.js';
import {
  roleHasPermission,
  workspacePermission,
  type Permission,
  type RouteAccess,
} from '../auth/permissions.js';
import type { PendingAuthentication } from '../auth/request-authenticator.js';
import { AuthError, ForbiddenError, PlatformError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route and the permission it declared, for audits and tests. */
    routePermissions: readonly RoutePermission[];
  }
  interface FastifyRequest {
    /** Token verified, body and nonce not yet: set in onRequest. */
    pendingAuthentication: PendingAuthentication | undefined;
  }
}

export interface RoutePermission {
  method: string;
  url: string;
  permission: RouteAccess;
}

export interface AuthenticationOptions {
  /** Failed authentications audited per address per minute before it is refused (429). */
  maxFailuresPerMinute?: number;
}

class TooManyFailures extends PlatformError {
  constructor() {
    super(
      'ERR_AUTH_TOO_MANY_FAILURES',
      'RATE_LIMITED',
      429,
      'Too many failed authentications from this address; try again later',
    );
  }
}

export const authentication = fp(
  (app: FastifyInstance, options: AuthenticationOptions) => {
    app.decorateRequest('principal', undefined);
    app.decorateRequest('pendingAuthentication', undefined);
    const routes: RoutePermission[] = [];
    app.decorate('routePermissions', routes);
    const limiter = new FailureLimiter({
      maxFailures: options.maxFailuresPerMinute ?? 60,
      windowMs: 60_000,
      maxTracked: 100_000,
    });

    app.addHook('onRoute', (route) => {
      const permission = route.config?.permission;
      if (permission === undefined) {
        throw new Error(`route ${String(route.method)} ${route.url} declares no permission`);
      }
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') routes.push({ method, url: route.url, permission });
      }
    });

    /** Audits a failure (within the limit) and rethrows it; 401s over the limit become 429. */
    async function fail(request: FastifyRequest, error: unknown): Promise<never> {
      if (!(error instanceof AuthError)) throw error;
      const verdict = limiter.record(request.ip);
      if (verdict !== 'suppressed') {
        const user = error.verifiedApiUser;
        await app.services.audit.append({
          workspaceId: user?.workspaceId ?? null,
          actorKind: user ? 'api_user' : 'anonymous',
          actorId: user?.id ?? null,
          action: verdict === 'audit' ? 'auth.failed' : 'auth.rate_limited',
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

    function requiresAuth(request: FastifyRequest): Permission | undefined {
      return workspacePermission(request.routeOptions.config.permission);
    }

    app.addHook('onRequest', async (request) => {
      if (!requiresAuth(request)) return;
      if (limiter.blocked(request.ip)) throw new TooManyFailures();
      try {
        request.pendingAuthentication = await app.services.authenticator.verifyHeaders({
          apiKey: header(request, 'x-api-key'),
          authorization: header(request, 'authorization'),
          url: request.url,
          ip: request.ip,
        });
      } catch (error) {
        await fail(request, error);
      }
    });

    app.decorate('verifyRequestBody', async (request: FastifyRequest, raw: Buffer) => {
      const pending = request.pendingAuthentication;
      if (!pending) return;
      try {
        app.services.authenticator.verifyBody(pending, raw);
      } catch (error) {
        await fail(request, error);
      }
    });

    app.addHook('preValidation', async (request) => {
      const permission = requiresAuth(request);
      if (!permission) return;
      const pending = request.pendingAuthentication;
      if (!pending) throw new Error('authentication did not run');
      try {
        // Covers requests without a body, which the parser never saw.
        app.services.authenticator.verifyBody(pending, request.rawBody);
        const principal = await app.services.authenticator.complete(pending);
        if (!roleHasPermission(principal.role, permission)) {
          await app.services.audit.append({
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
        await fail(request, error);
      }
    });
    return Promise.resolve();
  },
  { name: 'authentication', dependencies: ['services'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** Checks the body hash of an authenticated request on its raw bytes, before parsing. */
    verifyRequestBody(request: FastifyRequest, raw: Buffer): Promise<void>;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? undefined : value;
}
