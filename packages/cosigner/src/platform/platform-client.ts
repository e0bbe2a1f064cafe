/**
 * The co-signer's side of `/cosigner/v1` (ARCHITECTURE.md §5; packages/platform/docs/pairing.md):
 * plain HTTPS calls, outbound only, every response checked against its protocol schema before
 * use. Platform refusals become ERR_COSIGNER_PLATFORM_REFUSED with the platform's code and
 * message (neither carries secrets); network failures and 5xx become
 * ERR_COSIGNER_PLATFORM_UNAVAILABLE. Tokens never appear in errors.
 * @module
 */
import {
  CosignerApiKeysResponseSchema,
  CosignerRenameResponseSchema,
  CosignerUnpairResponseSchema,
  JobReadyResponseSchema,
  JobReleaseResponseSchema,
  JobResultResponseSchema,
  MessagesResponseSchema,
  PairPendingResponseSchema,
  PairResponseSchema,
  PairingPollResponseSchema,
  PostMessagesResponseSchema,
  RecoverResponseSchema,
  OfflineResponseSchema,
  ReleaseLeasesResponseSchema,
  DiscardPoolResponseSchema,
  SessionResponseSchema,
  TokenResponseSchema,
  WorkResponseSchema,
} from '@countersign/protocol';
import type {
  CosignerApiKeysResponse,
  JobResultRequest,
  LeasedJob,
  MessagesResponse,
  PostMessagesRequest,
  SessionResponse,
  PairPendingResponse,
  PairingPollResponse,
  PairRequest,
  PairResponse,
  RecoverRequest,
  RecoverResponse,
  TokenResponse,
} from '@countersign/protocol';
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';

import { CosignerError } from '../errors.js';
import { boundedRequest } from '../http/bounded-request.js';

/** Options of {@link PlatformClient}. */
export interface PlatformClientOptions {
  /** Per-request timeout, default 15 s. */
  readonly timeoutMs?: number;
}

/**
 * Loopback addresses, the only hosts plain HTTP is allowed to (tokens travel in every call). Only
 * literals: the name `localhost` goes through the system resolver and /etc/hosts like any other
 * name (pairing review L5), so it may not be loopback at all.
 */
const LOOPBACK = new Set(['127.0.0.1', '[::1]']);
/** Ids the platform hands out (job ids, API user ids): lower-case UUIDs, safe in a path. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `url` is plain http to a loopback address (the only plain http a co-signer uses). */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK.has(url.hostname);
}

/** Validates a platform base URL: https, or http to a loopback address. */
export function parsePlatformUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'platform URL' });
  }
  if (url.protocol !== 'https:' && !isLoopbackHttp(url)) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'the platform URL must be https (plain http only to 127.0.0.1 or [::1])',
    });
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'the platform URL takes no credentials, query or fragment',
    });
  }
  return url;
}

/** A client of one platform's `/cosigner/v1` API. */
export class PlatformClient {
  readonly baseUrl: string;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, options: PlatformClientOptions = {}) {
    this.baseUrl = parsePlatformUrl(baseUrl).href.replace(/\/$/, '');
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Pairs (200, a new co-signer) or asks to pair another API user (202, waits for approval). */
  async pair(
    request: PairRequest,
    accessToken?: string,
  ): Promise<PairResponse | PairPendingResponse> {
    const { status, body } = await this.#call('POST', '/cosigner/v1/pair', request, accessToken);
    return status === 202
      ? checked(PairPendingResponseSchema, body, 'pair')
      : checked(PairResponseSchema, body, 'pair');
  }

  /** A waiting pairing's state, with its poll token; once decided, answered once. */
  async pairingStatus(requestId: string, pollToken: string): Promise<PairingPollResponse> {
    if (!/^[0-9a-f-]{36}$/.test(requestId))
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'requestId' });
    const { body } = await this.#call(
      'GET',
      `/cosigner/v1/pairings/${requestId}`,
      undefined,
      pollToken,
    );
    return checked(PairingPollResponseSchema, body, 'pairings');
  }

  /** A new token family for this co-signer, by a request signed with its identity key. */
  async recover(request: RecoverRequest): Promise<RecoverResponse> {
    const { body } = await this.#call('POST', '/cosigner/v1/recover', request);
    return checked(RecoverResponseSchema, body, 'recover');
  }

  /** Exchanges a refresh token (spent by this call) for an access token and its successor. */
  async token(refreshToken: string): Promise<TokenResponse> {
    const { body } = await this.#call('POST', '/cosigner/v1/token', { refreshToken });
    return checked(TokenResponseSchema, body, 'token');
  }

  /** The API keys paired, or waiting to be, to the calling co-signer. */
  async apiKeys(accessToken: string): Promise<CosignerApiKeysResponse> {
    const { body } = await this.#call('GET', '/cosigner/v1/api_keys', undefined, accessToken);
    return checked(CosignerApiKeysResponseSchema, body, 'api_keys');
  }

  /** Tells the platform this co-signer stopped serving `apiKeyId` (repeatable). */
  async unpairApiKey(accessToken: string, apiKeyId: string): Promise<void> {
    if (!UUID.test(apiKeyId))
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'apiKeyId' });
    const { body } = await this.#call(
      'POST',
      `/cosigner/v1/api_keys/${apiKeyId}/unpair`,
      undefined,
      accessToken,
    );
    checked(CosignerUnpairResponseSchema, body, 'unpair');
  }

  /** Renames this co-signer in the platform's records; returns the name stored there. */
  async rename(accessToken: string, name: string): Promise<string> {
    const { body } = await this.#call('PUT', '/cosigner/v1/name', { name }, accessToken);
    return checked(CosignerRenameResponseSchema, body, 'name').name;
  }

  /** Hands back this co-signer's leases (its daemon starting); returns how many there were. */
  async releaseLeases(accessToken: string): Promise<number> {
    const { body } = await this.#call(
      'POST',
      '/cosigner/v1/leases/release',
      undefined,
      accessToken,
    );
    return checked(ReleaseLeasesResponseSchema, body, 'leases').released;
  }

  /** Tells the platform this co-signer's pool is gone (a restored store); how many it dropped. */
  async discardPool(accessToken: string): Promise<number> {
    const { body } = await this.#call(
      'POST',
      '/cosigner/v1/presignatures/discard',
      undefined,
      accessToken,
    );
    return checked(DiscardPoolResponseSchema, body, 'pool').discarded;
  }

  /** Tells the platform this co-signer stops: no new work is routed to it until it polls again. */
  async offline(accessToken: string, signal?: AbortSignal): Promise<void> {
    const { body } = await this.#call(
      'POST',
      '/cosigner/v1/offline',
      undefined,
      accessToken,
      0,
      signal,
    );
    checked(OfflineResponseSchema, body, 'offline');
  }

  /**
   * Long poll for work (`wait` seconds at most); the job comes leased to this co-signer. With
   * `held` (a Cloud Co-signer), a job held back for its signer may come too, marked `held`: it is
   * computed only once {@link awaitRelease} says so.
   */
  async work(
    accessToken: string,
    wait: number,
    signal?: AbortSignal,
    held = false,
  ): Promise<LeasedJob | undefined> {
    const { body } = await this.#call(
      'GET',
      `/cosigner/v1/work?wait=${wait}${held ? '&held=true' : ''}`,
      undefined,
      accessToken,
      wait,
      signal,
    );
    return checked(WorkResponseSchema, body, 'work').jobs[0];
  }

  /** A session's signed roster (verify it before any use). */
  async session(accessToken: string, sessionId: string): Promise<SessionResponse> {
    const { body } = await this.#call(
      'GET',
      `/cosigner/v1/sessions/${sessionPath(sessionId)}`,
      undefined,
      accessToken,
    );
    return checked(SessionResponseSchema, body, 'session');
  }

  /** Posts sealed messages of this party. */
  async postMessages(
    accessToken: string,
    sessionId: string,
    request: PostMessagesRequest,
  ): Promise<void> {
    const { body } = await this.#call(
      'POST',
      `/cosigner/v1/sessions/${sessionPath(sessionId)}/messages`,
      request,
      accessToken,
    );
    checked(PostMessagesResponseSchema, body, 'messages');
  }

  /** Long poll for messages addressed to this party or broadcast, after position `after`. */
  async readMessages(
    accessToken: string,
    sessionId: string,
    after: number,
    wait: number,
    signal?: AbortSignal,
  ): Promise<MessagesResponse> {
    const { body } = await this.#call(
      'GET',
      `/cosigner/v1/sessions/${sessionPath(sessionId)}/messages?after=${after}&wait=${wait}`,
      undefined,
      accessToken,
      wait,
      signal,
    );
    return checked(MessagesResponseSchema, body, 'messages');
  }

  /**
   * Tells the platform this leased SIGN job will sign (pooled EdDSA): the parties its session
   * holds back may run now. Returns how many it released.
   */
  async ready(accessToken: string, jobId: string, leaseId: string): Promise<number> {
    if (!UUID.test(jobId))
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'jobId' });
    const { body } = await this.#call(
      'POST',
      `/cosigner/v1/jobs/${jobId}/ready`,
      { leaseId },
      accessToken,
    );
    return checked(JobReadyResponseSchema, body, 'ready').released;
  }

  /**
   * Long poll by the holder of a job leased while held: true once it was released (it may be
   * computed now), false after `wait` seconds.
   */
  async awaitRelease(
    accessToken: string,
    jobId: string,
    leaseId: string,
    wait: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (!UUID.test(jobId) || !UUID.test(leaseId))
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'jobId' });
    const { body } = await this.#call(
      'GET',
      `/cosigner/v1/jobs/${jobId}/release?leaseId=${leaseId}&wait=${wait}`,
      undefined,
      accessToken,
      wait,
      signal,
    );
    return checked(JobReleaseResponseSchema, body, 'release').released;
  }

  /** Reports a leased job's outcome. */
  async reportResult(accessToken: string, jobId: string, request: JobResultRequest): Promise<void> {
    if (!UUID.test(jobId))
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'jobId' });
    const { body } = await this.#call(
      'POST',
      `/cosigner/v1/jobs/${jobId}/result`,
      request,
      accessToken,
    );
    checked(JobResultResponseSchema, body, 'result');
  }

  async #call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    payload?: unknown,
    accessToken?: string,
    /** Seconds the platform may hold a long poll, added to the timeout. */
    waitSeconds = 0,
    /** Ends a long poll early (shutdown). */
    cancel?: AbortSignal,
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (accessToken !== undefined) headers['authorization'] = `Bearer ${accessToken}`;
    const response = await boundedRequest({
      url: new URL(this.baseUrl + path),
      method,
      headers,
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      timeoutMs: this.#timeoutMs + waitSeconds * 1000,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      signal: cancel,
    });
    const call = `${method} ${path}`;
    if (response.kind === 'too-large')
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: `${call}: too large` });
    if (response.kind !== 'answer')
      throw new CosignerError('ERR_COSIGNER_PLATFORM_UNAVAILABLE', {
        // Node's error code only: never a token.
        detail: `${call}: ${response.kind === 'failed' ? response.code : response.kind}`,
      });
    // Never followed: the platform's URL is the one configured, and tokens go nowhere else.
    if (response.status >= 300 && response.status < 400)
      throw new CosignerError('ERR_COSIGNER_PLATFORM_UNAVAILABLE', {
        detail: `${call}: HTTP ${response.status} (redirects are not followed)`,
      });
    const text = response.body.toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status, body };
    const error = body as { message?: unknown; code?: unknown } | undefined;
    const detail =
      `${call}: HTTP ${response.status}` +
      (typeof error?.code === 'number' ? ` code ${error.code}` : '') +
      (typeof error?.message === 'string' ? `: ${error.message.slice(0, 200)}` : '');
    throw new CosignerError(
      response.status >= 500 || response.status === 429
        ? 'ERR_COSIGNER_PLATFORM_UNAVAILABLE'
        : 'ERR_COSIGNER_PLATFORM_REFUSED',
      { detail, platformCode: typeof error?.code === 'number' ? error.code : undefined },
    );
  }
}

/**
 * Most bytes of one response the co-signer reads: a page of relay messages (each payload at most
 * 2 MiB of base64) fits many times over, while a broken or hostile server cannot make the
 * co-signer buffer without bound.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Session ids come from the platform: checked before they go into a URL. */
function sessionPath(sessionId: string): string {
  if (!/^[0-9a-f]{64}$/.test(sessionId))
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'sessionId' });
  return sessionId;
}

function checked<S extends TSchema>(schema: S, body: unknown, call: string): Static<S> {
  if (!Value.Check(schema, body)) {
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: call });
  }
  return body;
}
