/**
 * One bounded POST to a Callback Handler (http/bounded-request.ts: a single deadline, a body read
 * up to a limit, no redirect followed), every failure classified as a sub-status. Reading the
 * body is the caller's business (callback-client.ts) — this module never looks inside it.
 * @module
 */
import type { Agent } from 'node:http';

import { CallbackError } from '@countersign/protocol/callback-auth';

import { boundedRequest } from '../http/bounded-request.js';
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
export async function postToCallbackHandler(post: CallbackPost): Promise<CallbackPostResult> {
  const response = await boundedRequest({
    url: post.url,
    method: 'POST',
    headers: { 'content-type': post.contentType, accept: post.contentType },
    body: post.body,
    ...(post.agent === undefined ? {} : { agent: post.agent }),
    timeoutMs: post.timeoutMs,
    maxResponseBytes: post.maxResponseBytes,
    signal: post.signal,
    // The body of a refusal is not read: it may be large, and it is no answer anyway.
    readBody: (status) => status === 200,
  });
  switch (response.kind) {
    case 'answer':
      return response.status === 200
        ? { kind: 'answer', status: 200, body: response.body }
        : {
            kind: 'failure',
            outcome: failed('CALLBACK_HTTP_ERROR', `HTTP ${response.status}`),
            status: response.status,
          };
    case 'timeout':
      return {
        kind: 'failure',
        outcome: failed('CALLBACK_TIMEOUT', `no complete answer within ${post.timeoutMs} ms`),
      };
    case 'aborted':
      return { kind: 'failure', outcome: failed('CALLBACK_ABORTED', 'the request was abandoned') };
    case 'too-large':
      return {
        kind: 'failure',
        outcome: failed(
          'CALLBACK_RESPONSE_TOO_LARGE',
          `answer over ${post.maxResponseBytes} bytes`,
        ),
        status: response.status,
      };
    case 'failed':
      return { kind: 'failure', outcome: transportFailure(response.error, response.code) };
  }
}

/** Node's TLS verification codes (`tls.TLSSocket.authorizationError`) that are not ERR_TLS_*. */
const TLS_VERIFY_CODES = /^(ERR_TLS_|ERR_SSL_|.*CERT|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO)/;

function transportFailure(error: unknown, code: string): CallbackOutcome {
  if (error instanceof CallbackError && error.code === 'ERR_CALLBACK_TLS_PIN_MISMATCH') {
    return failed('CALLBACK_TLS_PIN_MISMATCH', 'the server key is not the pinned one');
  }
  if (TLS_VERIFY_CODES.test(code)) return failed('CALLBACK_TLS_ERROR', code);
  return failed('CALLBACK_UNREACHABLE', code);
}
