/**
 * The one error handler: platform errors keep their code and message,
 * framework errors are mapped to specific codes, anything else is a 500 whose
 * body says nothing about the cause (the log has it).
 */
import { ApiErrorCode, type ApiErrorBody } from '@countersign/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PlatformError } from '../errors.js';

export const errorHandler = fp(
  (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const { status, body } = toResponse(error);
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: body.code, status }, body.message);
      return reply.status(status).send(body);
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send({
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
        code: ApiErrorCode.NOT_FOUND,
      }),
    );
    return Promise.resolve();
  },
  { name: 'error-handler' },
);

function toResponse(error: FastifyError): { status: number; body: ApiErrorBody } {
  if (error instanceof PlatformError) {
    return { status: error.status, body: { message: error.message, code: error.apiCode } };
  }
  const sqlState = databaseErrorCode(error);
  if (sqlState === '23505') {
    return {
      status: 409,
      body: { message: 'Conflicts with a concurrent change; retry', code: ApiErrorCode.CONFLICT },
    };
  }
  if (sqlState?.startsWith('22')) {
    // Data exceptions (a value the database cannot store): the input's fault, not ours.
    return {
      status: 400,
      body: {
        message: 'Invalid request: a value cannot be stored',
        code: ApiErrorCode.INVALID_REQUEST,
      },
    };
  }
  if (error.validation) {
    return {
      status: 400,
      body: { message: `Invalid request: ${error.message}`, code: ApiErrorCode.INVALID_REQUEST },
    };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { message: 'Request body is larger than allowed', code: ApiErrorCode.BODY_TOO_LARGE },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 415,
        body: {
          message: 'Content-Type must be application/json',
          code: ApiErrorCode.UNSUPPORTED_CONTENT_TYPE,
        },
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return {
        status: 400,
        body: { message: 'Request body is not valid JSON', code: ApiErrorCode.MALFORMED_JSON },
      };
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      status: error.statusCode,
      body: { message: error.message, code: ApiErrorCode.INVALID_REQUEST },
    };
  }
  return { status: 500, body: { message: 'Internal error', code: ApiErrorCode.INTERNAL } };
}

/** The SQLSTATE of a PostgreSQL or PGlite error, when it is one. */
function databaseErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
