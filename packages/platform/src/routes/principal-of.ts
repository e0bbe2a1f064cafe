import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';

/** The authenticated caller; authentication runs before every non-public handler. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('handler reached without authentication');
  return request.principal;
}
