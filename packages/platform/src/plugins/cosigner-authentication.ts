/**
 * Authentication of co-signer calls: routes declared `cosigner` need a
 * co-signer access token (`Authorization: Bearer csat_...`); the handler
 * finds the caller in `request.cosigner`. Checked in `onRequest`, before any
 * body is read.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { CosignerCaller } from '../cosigners/cosigner-token-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The co-signer an access token proved, on `cosigner` routes. */
    cosigner: CosignerCaller | undefined;
  }
}

export const cosignerAuthentication = fp(
  (app: FastifyInstance) => {
    app.decorateRequest('cosigner', undefined);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config.permission !== 'cosigner') return;
      const authorization = request.headers.authorization;
      request.cosigner = await app.services.cosignerTokens.authenticate(authorization);
    });
    return Promise.resolve();
  },
  { name: 'cosigner-authentication', dependencies: ['services'] },
);
