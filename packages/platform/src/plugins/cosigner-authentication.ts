/**
 * Authentication of co-signer calls: routes declared `cosigner` need a
 * co-signer access token (`Authorization: Bearer csat_...`); the handler
 * finds the caller in `request.cosigner`. Checked in `onRequest`, before any
 * body is read.
 *
 * The co-signer's credential routes (`pair`, `token`, `recover`, the pairing
 * poll) and the access-token routes answer anonymous callers, so their
 * failures are bounded like API authentication's (pairing review L2): per
 * address, more than `maxFailuresPerMinute` refused credentials within a
 * minute get 429 before any lookup for the rest of that minute; each failure
 * under the limit is audited (`cosigner.auth_failed`, with the reason and
 * address, never a token), the one reaching it once (`cosigner.rate_limited`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { FailureLimiter } from '../auth/failure-limiter.js';
import type { CosignerCaller } from '../cosigners/cosigner-token-service.js';
import { CosignerTokenError, PlatformError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The co-signer an access token proved, on `cosigner` routes. */
    cosigner: CosignerCaller | undefined;
  }
}

export interface CosignerAuthenticationOptions {
  /** Refused co-signer credentials per address and minute before 429; default 60. */
  maxFailuresPerMinute?: number;
}

class TooManyCosignerFailures extends PlatformError {
  constructor() {
    super(
      'ERR_COSIGNER_TOO_MANY_FAILURES',
      'RATE_LIMITED',
      429,
      'Too many refused co-signer credentials from this address; try again later',
    );
  }
}

function isCosignerRoute(request: FastifyRequest): boolean {
  const permission = request.routeOptions.config.permission;
  return permission === 'cosigner' || permission === 'cosignerCredential';
}

export const cosignerAuthentication = fp(
  (app: FastifyInstance, options: CosignerAuthenticationOptions) => {
    const limiter = new FailureLimiter({
      maxFailures: options.maxFailuresPerMinute ?? 60,
      windowMs: 60_000,
      maxTracked: 100_000,
    });
    app.decorateRequest('cosigner', undefined);
    app.addHook('onRequest', async (request) => {
      if (!isCosignerRoute(request)) return;
      if (limiter.blocked(request.ip)) throw new TooManyCosignerFailures();
      if (request.routeOptions.config.permission !== 'cosigner') return;
      const authorization = request.headers.authorization;
      request.cosigner = await app.services.cosignerTokens.authenticate(authorization);
    });
    app.addHook('onError', async (request, _reply, error) => {
      if (!isCosignerRoute(request) || !(error instanceof CosignerTokenError)) return;
      const verdict = limiter.record(request.ip);
      if (verdict === 'suppressed') return;
      await app.services.audit.append({
        workspaceId: null,
        actorKind: 'anonymous',
        actorId: null,
        action: verdict === 'audit' ? 'cosigner.auth_failed' : 'cosigner.rate_limited',
        subject: request.routeOptions.url ?? null,
        details: {
          method: request.method,
          reason: error.code,
          code: error.apiCode,
          ip: request.ip,
        },
      });
    });
    return Promise.resolve();
  },
  { name: 'cosigner-authentication', dependencies: ['services'] },
);
