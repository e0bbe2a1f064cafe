/**
 * JSON is the only request body type. The parser keeps the raw bytes, because
 * the request JWT signs a hash of exactly those bytes, and turns malformed
 * JSON into a clear 400.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ValidationError } from '../errors.js';

export const jsonBody = fp(
  (app: FastifyInstance) => {
    app.decorateRequest('rawBody', undefined);
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      const raw = body as Buffer;
      request.rawBody = raw;
      if (raw.length === 0) {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(raw.toString('utf8')));
      } catch {
        done(
          new ValidationError(
            'ERR_MALFORMED_JSON',
            'MALFORMED_JSON',
            'Request body is not valid JSON',
          ),
          undefined,
        );
      }
    });
    return Promise.resolve();
  },
  { name: 'json-body' },
);
