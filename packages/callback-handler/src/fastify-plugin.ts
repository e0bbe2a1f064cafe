/**
 * The handler as a Fastify plugin, encapsulated: its raw-body parser does not leak into the
 * rest of the application.
 *
 *     app.register(callbackHandlerPlugin, { handler, prefix: '/callback' });
 *
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';

import {
  CALLBACK_CONFIG_CHANGE_SIGN_REQUEST_PATH,
  CALLBACK_TX_SIGN_REQUEST_PATH,
} from '@countersign/protocol';

import type { CallbackHandler } from './callback-handler.js';

export interface CallbackHandlerPluginOptions {
  handler: CallbackHandler;
}

export const callbackHandlerPlugin: FastifyPluginAsync<CallbackHandlerPluginOptions> = (
  app,
  options,
) => {
  const { handler } = options;
  // The body is handed over byte for byte whatever its content type: the JWT's signature is
  // over those bytes, and JSON is parsed (once, strictly) by the handler.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: handler.maxBodyBytes },
    (_request, body, done) => done(null, body),
  );
  for (const path of [CALLBACK_TX_SIGN_REQUEST_PATH, CALLBACK_CONFIG_CHANGE_SIGN_REQUEST_PATH]) {
    app.post(path, { bodyLimit: handler.maxBodyBytes }, async (request, reply) => {
      const answer = await handler.handle({
        method: 'POST',
        path,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        remoteAddress: request.socket.remoteAddress,
      });
      return reply
        .code(answer.status)
        .header('content-type', answer.contentType)
        .header('cache-control', 'no-store')
        .send(answer.body);
    });
  }
  return Promise.resolve();
};
