/**
 * Closing without waiting on clients: requests in progress finish, and every connection with
 * nothing in progress is closed — as the close begins and whenever one falls quiet after.
 *
 * Node's `server.close()` closes the connections it deems idle, once. It does not count a
 * connection that never sent a request as idle (it waits for its headers until `headersTimeout`,
 * checked every 30 s), nor one whose response finishes just after: either held
 * `countersign dev`'s close for up to 72 s. An HTTP client can leave the first kind behind when it
 * aborts a request after connecting and before writing it (a co-signer stopping mid-poll), then
 * keeps the socket for reuse. Responses sent while closing say `connection: close`.
 * @module
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** While closing: how often connections that fell quiet since are closed. */
const QUIET_SWEEP_MS = 50;

export const gracefulClose = fp(
  (app: FastifyInstance) => {
    /** Open connections, with how many of their requests are in progress. */
    const inProgress = new Map<Socket, number>();
    let closing = false;
    const closeQuiet = (): void => {
      for (const [socket, n] of inProgress) if (n === 0) socket.destroy();
    };
    app.server.on('connection', (socket: Socket) => {
      inProgress.set(socket, 0);
      socket.once('close', () => inProgress.delete(socket));
    });
    app.server.on('request', (request, response) => {
      const socket = request.socket;
      inProgress.set(socket, (inProgress.get(socket) ?? 0) + 1);
      response.once('close', () => {
        const left = (inProgress.get(socket) ?? 1) - 1;
        if (inProgress.has(socket)) inProgress.set(socket, left);
        if (closing && left === 0) socket.destroy();
      });
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('preClose', (done) => {
      closing = true;
      closeQuiet();
      // A connection can also fall quiet without a response of its own (its request aborted).
      const sweep = setInterval(closeQuiet, QUIET_SWEEP_MS);
      sweep.unref();
      app.server.once('close', () => clearInterval(sweep));
      done();
    });
    return Promise.resolve();
  },
  { name: 'graceful-close' },
);
