/** What the platform adds to Fastify's instance, request and route config. */
import type { RouteAccess } from './auth/permissions.js';
import type { Principal } from './auth/principal.js';
import type { PlatformServices } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: PlatformServices;
  }
  interface FastifyRequest {
    /** Set by authentication on every non-public route. */
    principal: Principal | undefined;
    /** The exact bytes of a JSON body: the JWT's bodyHash covers these. */
    rawBody: Buffer | undefined;
  }
  interface FastifyContextConfig {
    /** Every route declares one; `public` routes skip authentication. */
    permission?: RouteAccess;
  }
}
