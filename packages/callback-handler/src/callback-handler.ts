/**
 * The transport-independent Callback Handler: takes a POST's path and raw body, authenticates it
 * (JWT mode) or trusts the pinned TLS channel (pinned-TLS mode), validates the payload, asks the
 * user's decision function, records the outcome through the audit hook, and returns the answer.
 * The adapters (node:http, Fastify) only move bytes.
 *
 * Failure policy (fail closed): anything that is not a decision — bad token, bad payload, a
 * decision function that throws, returns garbage or takes longer than `decisionTimeoutMs`, an
 * audit hook that fails — is answered with a non-2xx status and a `{code, message}` JSON body.
 * The co-signer treats every such answer as "not approved" (the request fails), never as a
 * signature.
 * @module
 */
import type { KeyObject } from 'node:crypto';

import {
  CALLBACK_CONFIG_CHANGE_SIGN_REQUEST_PATH,
  CALLBACK_JSON_CONTENT_TYPE,
  CALLBACK_JWT_CONTENT_TYPE,
  CALLBACK_RESPONSE_TIMEOUT_SECONDS,
  CALLBACK_TX_SIGN_REQUEST_PATH,
  ConfigChangeSignRequestSchema,
  TxSignRequestSchema,
  type CallbackAction,
  type CallbackResponse,
  type ConfigChangeSignRequest,
  type TxSignRequest,
} from '@countersign/protocol';

import {
  checkTimeClaims,
  DEFAULT_CLOCK_SKEW_SECONDS,
  loadRsaPrivateKey,
  loadRsaPublicKey,
  MAX_CLOCK_SKEW_SECONDS,
  signCallbackResponse,
  verifyRs256Jwt,
  type PrivateKeyInput,
  type PublicKeyInput,
} from '@countersign/protocol/callback-auth';

import { checkDecision, type CallbackDecision } from './decision.js';
import { CallbackHandlerError } from './errors.js';
import { checkSchema } from './schema-check.js';

export type CallbackRequestKind = 'tx_sign_request' | 'config_change_sign_request';

export interface DecisionContext {
  /** Aborted when the decision timed out: stop work, the answer is already a failure. */
  signal: AbortSignal;
  remoteAddress: string | undefined;
}

export type DecisionFunction<T> = (
  request: T,
  context: DecisionContext,
) => CallbackDecision | Promise<CallbackDecision>;

export interface JwtModeOptions {
  type: 'jwt';
  /** The co-signer's callback public key (`cosigner print-public-key`), PEM. */
  cosignerPublicKey: PublicKeyInput;
  /** This handler's RSA private key (≥ 2048 bits), PEM; its public half is configured on the co-signer. */
  handlerPrivateKey: PrivateKeyInput;
  /** Default true. Set false only for a sender that adds no `iat`/`exp` to its tokens. */
  requireTimestamps?: boolean;
  /** Default 30, at most 300. */
  clockSkewSeconds?: number;
}

/** Plain JSON; serve it over HTTPS with the certificate whose SPKI the co-signer pins. */
export interface PinnedTlsModeOptions {
  type: 'pinned-tls';
}

export interface CallbackAuditEvent {
  time: string;
  path: string;
  kind: CallbackRequestKind | 'unknown';
  remoteAddress: string | undefined;
  /** `answered`: a decision was sent; `refused`: a 4xx; `failed`: a 5xx. */
  outcome: 'answered' | 'refused' | 'failed';
  status: number;
  requestId?: string;
  /** The validated payload (never the token). */
  request?: TxSignRequest | ConfigChangeSignRequest;
  action?: CallbackAction;
  rejectionReason?: string;
  error?: { code: string; message: string };
}

export interface CallbackHandlerOptions {
  mode: JwtModeOptions | PinnedTlsModeOptions;
  onTxSignRequest: DecisionFunction<TxSignRequest>;
  /** Absent: every configuration change is rejected. */
  onConfigChangeSignRequest?: DecisionFunction<ConfigChangeSignRequest>;
  /** Default 25 000, below the co-signer's 30 s, so a slow decision fails here first. */
  decisionTimeoutMs?: number;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Called for every request before its answer is sent; awaited. If it throws, a decision is
   * not sent (500 instead): a decision that could not be recorded is not given.
   */
  audit?: (event: CallbackAuditEvent) => void | Promise<void>;
  /** Called with whatever the decision function threw (the library logs nothing itself). */
  onDecisionError?: (error: unknown, kind: CallbackRequestKind) => void;
  /** Milliseconds since the epoch; for tests. */
  now?: () => number;
}

export interface CallbackHttpRequest {
  method: string;
  /** Path below the handler's mount point, e.g. `/v2/tx_sign_request` (a query string is ignored). */
  path: string;
  body: Buffer;
  remoteAddress?: string | undefined;
}

export interface CallbackHttpResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface CallbackHandler {
  readonly maxBodyBytes: number;
  handle(request: CallbackHttpRequest): Promise<CallbackHttpResponse>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_DECISION_TIMEOUT_MS = 25_000;

const PATHS: Record<string, CallbackRequestKind> = {
  [CALLBACK_TX_SIGN_REQUEST_PATH]: 'tx_sign_request',
  [CALLBACK_CONFIG_CHANGE_SIGN_REQUEST_PATH]: 'config_change_sign_request',
};

/** HTTP status of each error the handler can answer with. */
const STATUS: Partial<Record<CallbackHandlerError['code'], number>> = {
  ERR_CALLBACK_NOT_FOUND: 404,
  ERR_CALLBACK_METHOD: 405,
  ERR_CALLBACK_JWT_INVALID: 401,
  ERR_CALLBACK_JWT_EXPIRED: 401,
  ERR_CALLBACK_JWT_TIME: 401,
  ERR_CALLBACK_INVALID_PAYLOAD: 400,
  ERR_CALLBACK_BODY_TOO_LARGE: 413,
  ERR_CALLBACK_DECISION_FAILED: 500,
  ERR_CALLBACK_DECISION_TIMEOUT: 503,
  ERR_CALLBACK_AUDIT_FAILED: 500,
};

interface ResolvedJwtMode {
  type: 'jwt';
  cosignerPublicKey: KeyObject;
  handlerPrivateKey: KeyObject;
  requireTimestamps: boolean;
  clockSkewSeconds: number;
}

export function createCallbackHandler(options: CallbackHandlerOptions): CallbackHandler {
  const mode = resolveMode(options.mode);
  const maxBodyBytes = positiveInt(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes');
  const decisionTimeoutMs = positiveInt(
    options.decisionTimeoutMs,
    DEFAULT_DECISION_TIMEOUT_MS,
    'decisionTimeoutMs',
  );
  if (decisionTimeoutMs >= CALLBACK_RESPONSE_TIMEOUT_SECONDS * 1000) {
    invalidOption(
      `decisionTimeoutMs must stay below the co-signer's ${CALLBACK_RESPONSE_TIMEOUT_SECONDS} s`,
    );
  }
  if (typeof options.onTxSignRequest !== 'function') invalidOption('onTxSignRequest is required');
  const now = options.now ?? Date.now;
  const rejectConfigChanges: DecisionFunction<ConfigChangeSignRequest> = () => ({
    action: 'REJECT',
    rejectionReason: 'this Callback Handler does not approve configuration changes',
  });
  const deciders = {
    tx_sign_request: options.onTxSignRequest as DecisionFunction<unknown>,
    config_change_sign_request: (options.onConfigChangeSignRequest ??
      rejectConfigChanges) as DecisionFunction<unknown>,
  };

  async function handle(request: CallbackHttpRequest): Promise<CallbackHttpResponse> {
    const path = request.path.split('?')[0] ?? '';
    const kind = PATHS[path];
    const event: CallbackAuditEvent = {
      time: new Date(now()).toISOString(),
      // An unknown path is attacker text: record its length-bounded form only.
      path: kind === undefined ? path.slice(0, 200) : path,
      kind: kind ?? 'unknown',
      remoteAddress: request.remoteAddress,
      outcome: 'failed',
      status: 500,
    };
    let reply: CallbackHttpResponse;
    try {
      if (kind === undefined) {
        throw new CallbackHandlerError('ERR_CALLBACK_NOT_FOUND', 'unknown path');
      }
      if (request.method !== 'POST') {
        throw new CallbackHandlerError('ERR_CALLBACK_METHOD', 'only POST is accepted');
      }
      const payload = parseRequest(kind, request.body);
      event.requestId = payload.requestId;
      event.request = payload;
      const decision = await decide(kind, payload, request.remoteAddress);
      event.action = decision.action;
      if (decision.rejectionReason !== undefined) event.rejectionReason = decision.rejectionReason;
      reply = answer({ ...decision, requestId: payload.requestId });
      event.outcome = 'answered';
      event.status = 200;
    } catch (error) {
      const known =
        error instanceof CallbackHandlerError
          ? error
          : new CallbackHandlerError('ERR_CALLBACK_DECISION_FAILED', 'internal error');
      const status = STATUS[known.code] ?? 500;
      event.outcome = status >= 500 ? 'failed' : 'refused';
      event.status = status;
      event.error = { code: known.code, message: known.message };
      reply = errorReply(status, known.code, known.message);
    }
    if (options.audit !== undefined) {
      try {
        await options.audit(event);
      } catch {
        if (reply.status === 200) {
          return errorReply(500, 'ERR_CALLBACK_AUDIT_FAILED', 'the decision could not be recorded');
        }
      }
    }
    return reply;
  }

  function parseRequest(
    kind: CallbackRequestKind,
    body: Buffer,
  ): TxSignRequest | ConfigChangeSignRequest {
    if (body.length > maxBodyBytes) {
      throw new CallbackHandlerError('ERR_CALLBACK_BODY_TOO_LARGE', 'request body too large');
    }
    let claims: unknown;
    if (mode.type === 'jwt') {
      const token = decodeUtf8(body, 'ERR_CALLBACK_JWT_INVALID', 'invalid token').trim();
      const verified = verifyRs256Jwt(token, mode.cosignerPublicKey);
      claims = checkTimeClaims(verified, {
        nowSeconds: Math.floor(now() / 1000),
        clockSkewSeconds: mode.clockSkewSeconds,
        requireTimestamps: mode.requireTimestamps,
      });
    } else {
      const text = decodeUtf8(body, 'ERR_CALLBACK_INVALID_PAYLOAD', 'body is not UTF-8');
      try {
        claims = JSON.parse(text);
      } catch {
        throw new CallbackHandlerError('ERR_CALLBACK_INVALID_PAYLOAD', 'body is not JSON');
      }
    }
    return kind === 'tx_sign_request'
      ? checkSchema(TxSignRequestSchema, claims, kind, 'ERR_CALLBACK_INVALID_PAYLOAD')
      : checkSchema(ConfigChangeSignRequestSchema, claims, kind, 'ERR_CALLBACK_INVALID_PAYLOAD');
  }

  async function decide(
    kind: CallbackRequestKind,
    payload: unknown,
    remoteAddress: string | undefined,
  ): Promise<CallbackDecision> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rejectTimeout) => {
      timer = setTimeout(() => {
        controller.abort();
        rejectTimeout(
          new CallbackHandlerError('ERR_CALLBACK_DECISION_TIMEOUT', 'decision timed out'),
        );
      }, decisionTimeoutMs);
    });
    try {
      const result = await Promise.race([
        // Wrapped so a synchronous throw becomes a rejection like an async one.
        // The decision function gets its own copy: whatever it does to it, the audit log
        // records the payload as it was received and validated.
        Promise.resolve().then(() =>
          deciders[kind](structuredClone(payload), { signal: controller.signal, remoteAddress }),
        ),
        timeout,
      ]);
      return checkDecision(result);
    } catch (error) {
      if (error instanceof CallbackHandlerError) throw error;
      options.onDecisionError?.(error, kind);
      throw new CallbackHandlerError('ERR_CALLBACK_DECISION_FAILED', 'decision function threw');
    } finally {
      clearTimeout(timer);
    }
  }

  function answer(response: CallbackResponse): CallbackHttpResponse {
    if (mode.type === 'jwt') {
      return {
        status: 200,
        contentType: CALLBACK_JWT_CONTENT_TYPE,
        body: signCallbackResponse(response, mode.handlerPrivateKey, Math.floor(now() / 1000)),
      };
    }
    return { status: 200, contentType: CALLBACK_JSON_CONTENT_TYPE, body: JSON.stringify(response) };
  }

  return { maxBodyBytes, handle };
}

function resolveMode(mode: CallbackHandlerOptions['mode']): ResolvedJwtMode | PinnedTlsModeOptions {
  if (mode?.type === 'pinned-tls') return { type: 'pinned-tls' };
  if (mode?.type !== 'jwt') invalidOption('mode.type must be "jwt" or "pinned-tls"');
  const skew = mode.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!Number.isSafeInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS) {
    invalidOption(`mode.clockSkewSeconds must be an integer 0..${MAX_CLOCK_SKEW_SECONDS}`);
  }
  return {
    type: 'jwt',
    cosignerPublicKey: loadRsaPublicKey(mode.cosignerPublicKey, 'co-signer public key'),
    handlerPrivateKey: loadRsaPrivateKey(mode.handlerPrivateKey, 'handler private key'),
    requireTimestamps: mode.requireTimestamps ?? true,
    clockSkewSeconds: skew,
  };
}

function decodeUtf8(body: Buffer, code: CallbackHandlerError['code'], message: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new CallbackHandlerError(code, message);
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) invalidOption(`${name} must be a positive integer`);
  return v;
}

function invalidOption(message: string): never {
  throw new CallbackHandlerError('ERR_CALLBACK_INVALID_OPTIONS', message);
}

function errorReply(status: number, code: string, message: string): CallbackHttpResponse {
  return {
    status,
    contentType: CALLBACK_JSON_CONTENT_TYPE,
    body: JSON.stringify({ code, message }),
  };
}
