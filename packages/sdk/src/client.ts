/**
 * `CountersignClient`: calls the platform REST API (ARCHITECTURE §6) with
 * every request signed exactly as the Fireblocks API expects, so the same
 * API user works with this client and with the official Fireblocks SDKs.
 *
 * Wire invariant: the URL is parsed once, the JWT's `uri` claim is that
 * parsed URL's `pathname + search`, and the same parsed URL is what fetch
 * sends; the body is serialised once, hashed, and those same bytes are sent.
 * Nothing is re-encoded between signing and sending.
 */
import type {
  AuditLogEntry,
  AuditLogsPage,
  CreateApiUserInput,
  CreateApiUserResponse,
  CreateTransactionInput,
  CreateTransactionResponse,
  ListApiUsersResponse,
  ListAuditLogsInput,
  TransactionResponse,
} from './api-types.js';
import {
  CountersignApiError,
  CountersignNetworkError,
  CountersignResponseError,
  CountersignTimeoutError,
  CountersignUsageError,
  fallbackApiErrorCode,
} from './errors.js';
import {
  dataCursorPages,
  iterateItems,
  iteratePages,
  type Page,
  type PageShape,
} from './pagination.js';
import { requestJwtClaims, signRequestJwt } from './request-jwt.js';
import type { RequestSigner } from './request-signer.js';
import {
  backoffDelayMs,
  isReplaySafe,
  isRetryableStatus,
  parseRetryAfterMs,
  resolveRetryOptions,
  type RetryOptions,
} from './retry-policy.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  /** Query parameters; `undefined` values are left out. Encoded with encodeURIComponent. */
  query?: Record<string, QueryValue>;
  /** Sent as JSON. Not allowed on GET. */
  body?: unknown;
  /** Extra headers, e.g. `Idempotency-Key`. Authentication and content headers are the client's. */
  headers?: Record<string, string>;
  /** Cancels the request and any wait between retries. */
  signal?: AbortSignal;
}

export interface CountersignResponse<T> {
  status: number;
  headers: Headers;
  /** Parsed JSON body; undefined when the body is empty. */
  data: T;
}

export interface RetryEvent {
  method: HttpMethod;
  uri: string;
  /** The attempt that just failed (1-based). */
  attempt: number;
  delayMs: number;
  error: CountersignApiError | CountersignNetworkError;
}

export interface CountersignClientOptions {
  /** Origin of the platform (`https://countersign.example.com`), optionally with a path prefix. */
  baseUrl: string | URL;
  /** The API user's API key (a UUID): `X-API-Key` and the JWT `sub`. */
  apiKey: string;
  signer: RequestSigner;
  /** Per attempt, response body included. Default 30 000. */
  timeoutMs?: number;
  /**
   * Added to the local clock when stamping `iat`/`exp` (and reading an
   * HTTP-date `Retry-After`): set it to server time minus local time when
   * this machine's clock is known to be off.
   */
  clockSkewMs?: number;
  /** `exp - iat`; the platform refuses more than 60. Default 55. */
  tokenLifetimeSeconds?: number;
  retry?: Partial<RetryOptions>;
  /** Called before each wait between attempts (logging, metrics). */
  onRetry?: (event: RetryEvent) => void;
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_TOKEN_LIFETIME_SECONDS = 55;
const MAX_TOKEN_LIFETIME_SECONDS = 60;
const RESERVED_HEADERS = new Set([
  'authorization',
  'x-api-key',
  'content-type',
  'content-length',
  'host',
]);
const METHODS = new Set<string>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export class CountersignClient {
  readonly #baseUrl: URL;
  readonly #apiKey: string;
  readonly #signer: RequestSigner;
  readonly #timeoutMs: number;
  readonly #clockSkewMs: number;
  readonly #tokenLifetimeSeconds: number;
  readonly #retry: RetryOptions;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;
  readonly #userAgent: string;

  constructor(options: CountersignClientOptions) {
    this.#baseUrl = parseBaseUrl(options.baseUrl);
    if (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(options.apiKey)) {
      throw new CountersignUsageError('apiKey must be a non-empty printable ASCII string');
    }
    this.#apiKey = options.apiKey;
    if (typeof options.signer?.sign !== 'function') {
      throw new CountersignUsageError('signer must implement sign(signingInput)');
    }
    this.#signer = options.signer;
    this.#timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.#clockSkewMs = options.clockSkewMs ?? 0;
    if (!Number.isFinite(this.#clockSkewMs)) {
      throw new CountersignUsageError('clockSkewMs must be a finite number');
    }
    this.#tokenLifetimeSeconds = positiveInteger(
      options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
      'tokenLifetimeSeconds',
    );
    if (this.#tokenLifetimeSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new CountersignUsageError(
        `tokenLifetimeSeconds must be ≤ ${MAX_TOKEN_LIFETIME_SECONDS}: the platform refuses longer tokens`,
      );
    }
    this.#retry = resolveRetryOptions(options.retry);
    this.#onRetry = options.onRetry;
    this.#userAgent = options.userAgent ?? 'countersign-sdk';
  }

  // --- API users -----------------------------------------------------------

  listApiUsers(options: { signal?: AbortSignal } = {}): Promise<ListApiUsersResponse> {
    return this.request<ListApiUsersResponse>('GET', '/v1/management/api_users', options);
  }

  createApiUser(
    input: CreateApiUserInput,
    options: { signal?: AbortSignal } = {},
  ): Promise<CreateApiUserResponse> {
    return this.#idempotentPost<CreateApiUserResponse>('/v1/management/api_users', input, options);
  }

  // --- Transactions --------------------------------------------------------

  /**
   * Creates a transaction (RAW signing): answered once stored, `{id, status}`; read it with
   * {@link getTransaction} until COMPLETED or FAILED. With an `idempotencyKey` a retried
   * request answers the same transaction.
   */
  createTransaction(
    input: CreateTransactionInput,
    options: { signal?: AbortSignal } = {},
  ): Promise<CreateTransactionResponse> {
    return this.#idempotentPost<CreateTransactionResponse>('/v1/transactions', input, options);
  }

  getTransaction(
    txId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<TransactionResponse> {
    return this.request<TransactionResponse>(
      'GET',
      `/v1/transactions/${encodeURIComponent(txId)}`,
      options,
    );
  }

  getTransactionByExternalId(
    externalTxId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<TransactionResponse> {
    return this.request<TransactionResponse>(
      'GET',
      `/v1/transactions/external_tx_id/${encodeURIComponent(externalTxId)}`,
      options,
    );
  }

  /** A POST whose body may carry `idempotencyKey`, sent as the `Idempotency-Key` header. */
  #idempotentPost<T>(
    path: string,
    input: { idempotencyKey?: string },
    options: { signal?: AbortSignal },
  ): Promise<T> {
    const { idempotencyKey, ...body } = input;
    return this.request<T>('POST', path, {
      ...options,
      body,
      ...(idempotencyKey === undefined ? {} : { headers: { 'Idempotency-Key': idempotencyKey } }),
    });
  }

  // --- Audit logs ----------------------------------------------------------

  /** One page of the audit log (Fireblocks shape: `{ data, cursor, total }`). */
  listAuditLogs(
    input: ListAuditLogsInput = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<AuditLogsPage> {
    return this.request<AuditLogsPage>('GET', '/v1/management/audit_logs', {
      ...options,
      query: { timePeriod: input.timePeriod, cursor: input.cursor, limit: input.limit },
    });
  }

  /** Every audit log entry of the period, fetching pages as the loop goes. */
  iterateAuditLogs(
    input: Omit<ListAuditLogsInput, 'cursor'> = {},
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<AuditLogEntry, void, undefined> {
    const query: Record<string, string> = {};
    if (input.timePeriod !== undefined) query['timePeriod'] = input.timePeriod;
    return this.paginateItems('/v1/management/audit_logs', dataCursorPages<AuditLogEntry>(), {
      ...options,
      query,
      ...(input.limit === undefined ? {} : { pageSize: input.limit }),
    });
  }

  // --- Generic -------------------------------------------------------------

  /** Any API call, signed; resolves with the parsed JSON body. */
  async request<T = unknown>(
    method: HttpMethod,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    return (await this.requestWithResponse<T>(method, path, options)).data;
  }

  /** As `request`, keeping the status and headers (202 + `Location`, …). */
  async requestWithResponse<T = unknown>(
    method: HttpMethod,
    path: string,
    options: RequestOptions = {},
  ): Promise<CountersignResponse<T>> {
    if (!METHODS.has(method)) throw new CountersignUsageError(`Unsupported method ${method}`);
    const url = this.#url(path, options.query);
    const uri = url.pathname + url.search;
    const body = serialiseBody(method, options.body);
    const extraHeaders = checkHeaders(options.headers ?? {});
    const hasIdempotencyKey = Object.keys(extraHeaders).some(
      (name) => name.toLowerCase() === 'idempotency-key',
    );
    const replaySafe = isReplaySafe(method, hasIdempotencyKey);
    const signal = options.signal;

    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted === true) throw abortedError(signal);
      const nowMs = Date.now() + this.#clockSkewMs;
      const claims = requestJwtClaims({
        uri,
        apiKey: this.#apiKey,
        body,
        nowSeconds: Math.floor(nowMs / 1000),
        lifetimeSeconds: this.#tokenLifetimeSeconds,
      });
      const jwt = await signRequestJwt(claims, this.#signer);
      const headers: Record<string, string> = {
        ...extraHeaders,
        Accept: 'application/json',
        'User-Agent': this.#userAgent,
        'X-API-Key': this.#apiKey,
        Authorization: `Bearer ${jwt}`,
      };
      if (body.length > 0) headers['Content-Type'] = 'application/json';

      let outcome: CountersignResponse<T> | CountersignApiError | CountersignNetworkError;
      try {
        outcome = await this.#send<T>(url, method, headers, body, signal);
      } catch (error) {
        if (error instanceof CountersignNetworkError && error.code !== 'ERR_SDK_ABORTED') {
          outcome = error;
        } else {
          throw error;
        }
      }
      if (!(outcome instanceof Error)) return outcome;

      const retryable =
        outcome instanceof CountersignApiError
          ? isRetryableStatus(outcome.status, replaySafe)
          : replaySafe;
      if (!retryable || attempt >= this.#retry.maxAttempts) throw outcome;
      const retryAfterMs =
        outcome instanceof CountersignApiError ? outcome.retryAfterMs : undefined;
      if (retryAfterMs !== undefined && retryAfterMs > this.#retry.maxRetryAfterMs) throw outcome;
      const delayMs = retryAfterMs ?? backoffDelayMs(attempt, this.#retry);
      this.#onRetry?.({ method, uri, attempt, delayMs, error: outcome });
      await abortableDelay(delayMs, signal);
    }
  }

  /** Pages of any cursor-paginated endpoint; see `pagination.ts` for the shapes. */
  paginate<T>(
    path: string,
    shape: PageShape<T>,
    options: { query?: Record<string, string>; pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<Page<T>, void, undefined> {
    if (options.pageSize !== undefined) positiveInteger(options.pageSize, 'pageSize');
    const signal = options.signal;
    return iteratePages<T>(
      (query) => this.request('GET', path, signal === undefined ? { query } : { query, signal }),
      shape,
      options.query ?? {},
      options.pageSize,
    );
  }

  /** Items of every page, in order. */
  paginateItems<T>(
    path: string,
    shape: PageShape<T>,
    options: { query?: Record<string, string>; pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<T, void, undefined> {
    return iterateItems(this.paginate(path, shape, options));
  }

  // --- Internals -----------------------------------------------------------

  #url(path: string, query: Record<string, QueryValue> | undefined): URL {
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
      throw new CountersignUsageError(`Path must start with a single "/": ${String(path)}`);
    }
    if (/[?#]/.test(path)) {
      throw new CountersignUsageError('Put query parameters in options.query, not in the path');
    }
    const parts: string[] = [];
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
    }
    const search = parts.length > 0 ? `?${parts.join('&')}` : '';
    const url = new URL(this.#baseUrl.href.replace(/\/$/, '') + path + search);
    if (url.origin !== this.#baseUrl.origin) {
      throw new CountersignUsageError('Path must stay on the configured base URL');
    }
    return url;
  }

  async #send<T>(
    url: URL,
    method: HttpMethod,
    headers: Record<string, string>,
    body: Uint8Array,
    callerSignal: AbortSignal | undefined,
  ): Promise<CountersignResponse<T> | CountersignApiError> {
    const timeoutSignal = AbortSignal.timeout(this.#timeoutMs);
    const signal =
      callerSignal === undefined ? timeoutSignal : AbortSignal.any([callerSignal, timeoutSignal]);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        signal,
        // A redirect would re-send a token signed for another URI; surface it instead.
        redirect: 'manual',
        ...(body.length > 0 ? { body } : {}),
      });
      text = await response.text();
    } catch (cause) {
      if (callerSignal?.aborted === true) {
        throw new CountersignNetworkError('ERR_SDK_ABORTED', 'Request aborted by the caller', {
          cause,
        });
      }
      if (timeoutSignal.aborted) throw new CountersignTimeoutError(this.#timeoutMs, { cause });
      throw new CountersignNetworkError(
        'ERR_SDK_NETWORK',
        `Network error calling ${method} ${url.pathname}: ${describe(cause)}`,
        { cause },
      );
    }

    const parsed = parseJson(text);
    if (response.status >= 200 && response.status < 300) {
      if (!parsed.ok) {
        throw new CountersignResponseError(
          `Response to ${method} ${url.pathname} is not JSON (HTTP ${response.status})`,
        );
      }
      return { status: response.status, headers: response.headers, data: parsed.value as T };
    }
    return apiError(
      response,
      parsed.ok ? parsed.value : text,
      parseRetryAfterMs(response.headers.get('retry-after'), Date.now() + this.#clockSkewMs),
    );
  }
}

function apiError(
  response: Response,
  body: unknown,
  retryAfterMs: number | undefined,
): CountersignApiError {
  let code = fallbackApiErrorCode(response.status);
  let message = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (typeof body === 'object' && body !== null) {
    const fields = body as Record<string, unknown>;
    if (typeof fields['code'] === 'number' && Number.isInteger(fields['code'])) {
      code = fields['code'];
    }
    if (typeof fields['message'] === 'string' && fields['message'] !== '') {
      message = fields['message'];
    }
  }
  return new CountersignApiError(response.status, code, message, body, retryAfterMs);
}

function parseBaseUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CountersignUsageError(`baseUrl is not a URL: ${String(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CountersignUsageError('baseUrl must be http: or https:');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new CountersignUsageError('baseUrl must not carry a query, fragment or credentials');
  }
  return url;
}

function serialiseBody(method: HttpMethod, body: unknown): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  if (method === 'GET') throw new CountersignUsageError('GET requests cannot have a body');
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) throw new CountersignUsageError('Body is not JSON-serialisable');
  return new TextEncoder().encode(json);
}

function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new CountersignUsageError(`Header ${name} is set by the client`);
    }
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new CountersignUsageError(`Header ${name} has an invalid value`);
    }
    checked[name] = value;
  }
  return checked;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new CountersignUsageError(`${name} must be a positive integer`);
  }
  return value;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortedError(signal: AbortSignal | undefined): CountersignNetworkError {
  return new CountersignNetworkError('ERR_SDK_ABORTED', 'Request aborted by the caller', {
    cause: signal?.reason,
  });
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
    return `${cause.message}${inner}`;
  }
  return String(cause);
}
