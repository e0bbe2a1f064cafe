/**
 * JSON is the only request body type. The parser keeps the raw bytes, checks
 * an authenticated request's body hash on them before anything else, and only
 * then parses — so an unauthenticated caller cannot make the server parse
 * anything, and malformed or absurdly nested JSON gets a clear 400.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ValidationError } from '../errors.js';

/** Deeper nesting than any request of ours needs; refused before JSON.parse sees it. */
export const MAX_JSON_DEPTH = 32;

export const jsonBody = fp(
  (app: FastifyInstance) => {
    app.decorateRequest('rawBody', undefined);
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer' },
      async (request: FastifyRequest, body: Buffer | string) => {
        const raw = typeof body === 'string' ? Buffer.from(body) : body;
        request.rawBody = raw;
        await request.server.verifyRequestBody(request, raw);
        if (raw.length === 0) return undefined;
        if (nestingDepth(raw) > MAX_JSON_DEPTH) {
          throw new ValidationError(
            'ERR_JSON_TOO_DEEP',
            'MALFORMED_JSON',
            `Request body nests deeper than ${MAX_JSON_DEPTH} levels`,
          );
        }
        try {
          return JSON.parse(raw.toString('utf8')) as unknown;
        } catch {
          throw new ValidationError(
            'ERR_MALFORMED_JSON',
            'MALFORMED_JSON',
            'Request body is not valid JSON',
          );
        }
      },
    );
    return Promise.resolve();
  },
  { name: 'json-body' },
);

/** Maximum bracket depth outside strings, in one pass over the bytes. */
function nestingDepth(raw: Buffer): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
