/**
 * One bounded HTTP(S) request, the co-signer's only way out (to its platform, to Callback
 * Handlers): a single deadline covers connecting, the TLS handshake, the answer and its body;
 * the body is read up to a limit and no further (a declared length over it is refused before a
 * byte is read); redirects are never followed (a 3xx is an answer like any other, for the caller
 * to refuse). It resolves, never rejects: with the answer, or with why there is none.
 *
 * Why node:http and not fetch: the daemon makes several requests per signing to its platform,
 * and fetch (undici, with its WHATWG streams and a timer per AbortSignal.timeout) spends about
 * three times the CPU of node:http on each (bench/e2e-raw.ts `cpuMsPerSigning`). Both keep
 * connections alive through Node's default agents, with the same TLS defaults.
 * @module
 */
import { request as httpRequest, type Agent, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface BoundedRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly headers: Readonly<Record<string, string>>;
  /** Sent with its length; none for a request without a body. */
  readonly body?: string;
  /** The default agent of the URL's protocol when absent. */
  readonly agent?: Agent;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Ends the request early (shutdown, an abandoned job). */
  readonly signal?: AbortSignal | undefined;
  /** Whether the body of an answer with this status is wanted; not read otherwise. Default: all. */
  readonly readBody?: (status: number) => boolean;
}

/** A complete answer (any status), or why there is none. */
export type BoundedResponse =
  | {
      readonly kind: 'answer';
      readonly status: number;
      /** Empty when {@link BoundedRequest.readBody} declined it. */
      readonly body: Buffer;
    }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'too-large'; readonly status: number }
  /**
   * The connection, the TLS handshake or the stream failed: Node's error, and its code (at most
   * 64 characters; `network error` without one), the only part fit for a message or a log.
   */
  | { readonly kind: 'failed'; readonly error: unknown; readonly code: string };

function failure(error: unknown): BoundedResponse {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    kind: 'failed',
    error,
    code: typeof code === 'string' ? code.slice(0, 64) : 'network error',
  };
}

export function boundedRequest(options: BoundedRequest): Promise<BoundedResponse> {
  // Abandoned already: no connection is opened at all.
  if (options.signal?.aborted === true) return Promise.resolve({ kind: 'aborted' });
  return new Promise((resolve) => {
    const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    let request: ClientRequest;
    try {
      request = send(options.url, {
        method: options.method,
        headers,
        ...(options.agent === undefined ? {} : { agent: options.agent }),
      });
    } catch (error) {
      // A header Node refuses (a CR or LF in a token), an unsupported URL: nothing was sent.
      resolve(failure(error));
      return;
    }
    // First, before anything can destroy it: an error without a listener ends the process.
    request.on('error', (error) => settle(failure(error)));
    let settled = false;
    const settle = (result: BoundedResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // Whatever is still in flight (a hung body, a slow server) is of no further use; a
      // response read to its end leaves the connection to the agent for the next request.
      if (result.kind !== 'answer') request.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout' }), options.timeoutMs);
    const onAbort = (): void => settle({ kind: 'aborted' });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const answer = (body: Buffer) => settle({ kind: 'answer', status, body });
      if (options.readBody !== undefined && !options.readBody(status)) {
        // Not wanted (it may be large, and it is no answer anyway): the connection goes.
        request.destroy();
        answer(Buffer.alloc(0));
        return;
      }
      if (Number(response.headers['content-length'] ?? 0) > options.maxResponseBytes) {
        settle({ kind: 'too-large', status });
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > options.maxResponseBytes) settle({ kind: 'too-large', status });
        else chunks.push(chunk);
      });
      response.on('end', () => answer(Buffer.concat(chunks)));
      response.on('error', (error) => settle(failure(error)));
    });
    request.end(options.body);
  });
}
