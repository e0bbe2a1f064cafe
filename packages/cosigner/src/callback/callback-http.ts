/**
 * One bounded POST to a Callback Handler: a single deadline covers connecting, the TLS handshake,
 * the answer and its body; the body is read up to a limit and no further; redirects are not
 * followed; every transport failure becomes a sub-status. Reading the body is the caller's
 * business (callback-client.ts) — this module never looks inside it.
 * @module
 */
import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { CallbackError } from '@countersign/protocol/callback-auth';

import { failed, type CallbackOutcome } from './callback-outcome.js';

export interface CallbackPost {
  readonly url: URL;
  readonly body: string;
  readonly contentType: string;
  /** The pinned agent in pinned-TLS mode; the default agents otherwise. */
  readonly agent?: Agent;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly signal?: AbortSignal | undefined;
}

/** A complete answer (any status), or the failure that prevented one. */
export type CallbackPostResult =
  | { readonly kind: 'answer'; readonly status: number; readonly body: Buffer }
  | { readonly kind: 'failure'; readonly outcome: CallbackOutcome; readonly status?: number };

/** POSTs and resolves (never rejects) with the answer or a classified failure. */
export function postToCallbackHandler(post: CallbackPost): Promise<CallbackPostResult> {
  return new Promise((resolve) => {
    const send = post.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(post.url, {
      method: 'POST',
      ...(post.agent === undefined ? {} : { agent: post.agent }),
      headers: {
        'content-type': post.contentType,
        'content-length': Buffer.byteLength(post.body),
        accept: post.contentType,
      },
    });
    let settled = false;
    const settle = (result: CallbackPostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      post.signal?.removeEventListener('abort', onAbort);
      // Whatever is still in flight (a hung body, a slow server) is of no further use.
      request.destroy();
      resolve(result);
    };
    const fail = (outcome: CallbackOutcome, status?: number) =>
      settle(
        status === undefined ? { kind: 'failure', outcome } : { kind: 'failure', outcome, status },
      );
    const timer = setTimeout(
      () => fail(failed('CALLBACK_TIMEOUT', `no complete answer within ${post.timeoutMs} ms`)),
      post.timeoutMs,
    );
    const onAbort = () => fail(failed('CALLBACK_ABORTED', 'the request was abandoned'));
    if (post.signal?.aborted === true) {
      onAbort();
      return;
    }
    post.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => fail(transportFailure(error)));
    request.on('response', (response) => readAnswer(response, post.maxResponseBytes, settle));
    request.end(post.body);
  });
}

function readAnswer(
  response: IncomingMessage,
  maxBytes: number,
  settle: (result: CallbackPostResult) => void,
): void {
  const status = response.statusCode ?? 0;
  const tooLarge = () =>
    settle({
      kind: 'failure',
      outcome: failed('CALLBACK_RESPONSE_TOO_LARGE', `answer over ${maxBytes} bytes`),
      status,
    });
  if (status !== 200) {
    // The body of a refusal is not read: it may be large, and it is no answer anyway.
    settle({ kind: 'failure', outcome: failed('CALLBACK_HTTP_ERROR', `HTTP ${status}`), status });
    return;
  }
  const declared = Number(response.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  response.on('data', (chunk: Buffer) => {
    length += chunk.length;
    if (length > maxBytes) tooLarge();
    else chunks.push(chunk);
  });
  response.on('end', () => settle({ kind: 'answer', status, body: Buffer.concat(chunks) }));
  response.on('error', (error) => settle({ kind: 'failure', outcome: transportFailure(error) }));
}

/** Node's TLS verification codes (`tls.TLSSocket.authorizationError`) that are not ERR_TLS_*. */
const TLS_VERIFY_CODES = /^(ERR_TLS_|ERR_SSL_|.*CERT|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO)/;

function transportFailure(error: unknown): CallbackOutcome {
  if (error instanceof CallbackError && error.code === 'ERR_CALLBACK_TLS_PIN_MISMATCH') {
    return failed('CALLBACK_TLS_PIN_MISMATCH', 'the server key is not the pinned one');
  }
  const code = (error as { code?: unknown } | null)?.code;
  const name = typeof code === 'string' ? code.slice(0, 64) : 'network error';
  if (TLS_VERIFY_CODES.test(name)) return failed('CALLBACK_TLS_ERROR', name);
  return failed('CALLBACK_UNREACHABLE', name);
}
