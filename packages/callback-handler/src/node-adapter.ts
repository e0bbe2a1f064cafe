/**
 * The handler as a plain `node:http` / `node:https` request listener:
 *
 *     https.createServer({ key, cert }, createNodeRequestListener(handler)).listen(8443);
 *
 * Reads at most `maxBodyBytes` (413 beyond, without buffering the rest) and never throws into
 * the server: an unexpected failure is a 500.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { CallbackHandler, CallbackHttpResponse } from './callback-handler.js';

export interface NodeAdapterOptions {
  /** Mount point, e.g. `/callback` if the co-signer is configured with `https://host/callback`. */
  pathPrefix?: string;
}

export function createNodeRequestListener(
  handler: CallbackHandler,
  options: NodeAdapterOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '');
  return (request, response) => {
    void serve(handler, prefix, request, response).catch(() => {
      send(response, {
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ code: 'ERR_CALLBACK_INTERNAL', message: 'internal error' }),
      });
    });
  };
}

async function serve(
  handler: CallbackHandler,
  prefix: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = request.url ?? '';
  const path = url.startsWith(prefix + '/') ? url.slice(prefix.length) : '\0';
  const body = await readBody(request, handler.maxBodyBytes);
  if (body === null) {
    // Answer, then drop the connection rather than drain an oversized upload; `connection:
    // close` keeps the client from reusing the socket we are about to destroy.
    response.on('finish', () => request.destroy());
    send(
      response,
      {
        status: 413,
        contentType: 'application/json',
        body: JSON.stringify({
          code: 'ERR_CALLBACK_BODY_TOO_LARGE',
          message: 'request body too large',
        }),
      },
      true,
    );
    return;
  }
  send(
    response,
    await handler.handle({
      method: request.method ?? '',
      path,
      body,
      remoteAddress: request.socket.remoteAddress,
    }),
  );
}

/** The body, or null as soon as it exceeds `limit` (a lying Content-Length is caught either way). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    request.on('error', (error) => {
      if (!done) reject(error);
    });
  });
}

function send(
  response: ServerResponse,
  reply: CallbackHttpResponse,
  closeConnection = false,
): void {
  if (response.headersSent) return;
  response.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    'cache-control': 'no-store',
    ...(closeConnection ? { connection: 'close' } : {}),
  });
  response.end(reply.body);
}
