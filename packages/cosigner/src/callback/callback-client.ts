/**
 * The co-signer's side of the Callback Handler protocol (ARCHITECTURE.md §7): one ask of a
 * configured handler — `POST {url}/v2/tx_sign_request` or `{url}/v2/config_change_sign_request`
 * — and a strict reading of the answer. JWT mode: the request is an RS256 JWT signed with the
 * co-signer's callback key; the answer must be an RS256 JWT by the configured handler key, fresh
 * (`iat`/`exp`), a valid response, echoing this request's `requestId`. Pinned-TLS mode: JSON both
 * ways over TLS to the pinned key only. Anything else is a FAILED outcome with its sub-status,
 * never an exception: the caller always gets something to record.
 *
 * The token and key checks are the shared ones of `@countersign/protocol/callback-auth`.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';

import {
  CALLBACK_CONFIG_CHANGE_SIGN_REQUEST_PATH,
  CALLBACK_JSON_CONTENT_TYPE,
  CALLBACK_JWT_CONTENT_TYPE,
  CALLBACK_RESPONSE_TIMEOUT_SECONDS,
  CALLBACK_TX_SIGN_REQUEST_PATH,
  ConfigChangeSignRequestSchema,
  TxSignRequestSchema,
  type CallbackResponse,
  type ConfigChangeSignRequest,
  type TxSignRequest,
} from '@countersign/protocol';
import {
  CallbackError,
  checkCallbackResponse,
  checkClockSkewSeconds,
  createPinnedAgent,
  DEFAULT_CLOCK_SKEW_SECONDS,
  hasDuplicateMemberNames,
  signCallbackRequest,
  verifyCallbackResponse,
  type VerifyResponseOptions,
} from '@countersign/protocol/callback-auth';
import { Value } from 'typebox/value';

import { CosignerError } from '../errors.js';
import { callbackRequestUrl, type CallbackHandlerConfig } from './callback-handler-config.js';
import { postToCallbackHandler } from './callback-http.js';
import {
  failed,
  outcomeOfAction,
  type CallbackAttempt,
  type CallbackOutcome,
  type CallbackRequestKind,
} from './callback-outcome.js';

/** Far above any real answer (a JWT of action, requestId and a 1 KiB reason is under 3 KiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface CallbackClientOptions {
  readonly handler: CallbackHandlerConfig;
  /** The co-signer's callback private key (callback-key.ts); used in JWT mode only. */
  readonly cosignerKey: KeyObject;
  /** Default 30 s (`CALLBACK_RESPONSE_TIMEOUT_SECONDS`). */
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** Tolerance for the handler's `iat`/`exp`; default 30 s. */
  readonly clockSkewSeconds?: number;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
  /**
   * JWT mode over https: the CA certificates (PEM) to trust instead of the system's — a
   * private CA, or a test's. Host-name and expiry checks stay on. Default: the system CAs.
   */
  readonly trustedCertificates?: readonly string[];
}

/** The payload of each kind of request. */
export type CallbackPayload<K extends CallbackRequestKind> = K extends 'tx_sign_request'
  ? TxSignRequest
  : ConfigChangeSignRequest;

const PATHS: Record<CallbackRequestKind, string> = {
  tx_sign_request: CALLBACK_TX_SIGN_REQUEST_PATH,
  config_change_sign_request: CALLBACK_CONFIG_CHANGE_SIGN_REQUEST_PATH,
};

const SCHEMAS = {
  tx_sign_request: TxSignRequestSchema,
  config_change_sign_request: ConfigChangeSignRequestSchema,
} as const;

/** Three base64url segments: what a compact JWS looks like before anything is decoded. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Asks one configured Callback Handler; safe to reuse for many requests. */
export class CallbackClient {
  readonly #handler: CallbackHandlerConfig;
  readonly #cosignerKey: KeyObject;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #clockSkewSeconds: number;
  readonly #now: () => number;
  readonly #trustedCertificates: readonly string[] | undefined;

  constructor(options: CallbackClientOptions) {
    this.#trustedCertificates = options.trustedCertificates;
    this.#handler = options.handler;
    this.#cosignerKey = options.cosignerKey;
    this.#timeoutMs = positive(
      options.timeoutMs ?? CALLBACK_RESPONSE_TIMEOUT_SECONDS * 1000,
      'timeoutMs',
    );
    this.#maxResponseBytes = positive(
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      'maxResponseBytes',
    );
    this.#clockSkewSeconds = clockSkew(options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Sends `payload` and returns what happened. Throws only for a programming error: a payload
   * that breaks the protocol schema (the handler would refuse it, and it must not be guessed at).
   */
  async ask<K extends CallbackRequestKind>(
    kind: K,
    payload: CallbackPayload<K>,
    options: { attempt?: number; signal?: AbortSignal } = {},
  ): Promise<CallbackAttempt> {
    if (!Value.Check(SCHEMAS[kind], payload)) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: `the ${kind} payload does not match the protocol schema`,
      });
    }
    const handler = this.#handler;
    const startedAt = this.#now();
    const target = callbackRequestUrl(handler.url, PATHS[kind]);
    const attempt = {
      requestId: payload.requestId,
      kind,
      url: (target ?? handler.url).href,
      mode: handler.mode,
      attempt: options.attempt ?? 1,
      startedAt,
    };
    if (target === undefined) {
      // Only a configuration that bypassed parseCallbackHandler gets here: send nothing.
      const outcome = failed('CALLBACK_CONFIG_INVALID', 'the callback URL path is unusable');
      return { ...attempt, finishedAt: this.#now(), outcome };
    }
    const agent =
      handler.mode === 'pinned-tls'
        ? createPinnedAgent(handler.pin, { handshakeTimeoutMs: this.#timeoutMs })
        : this.#trustedCertificates !== undefined && target.protocol === 'https:'
          ? new HttpsAgent({ ca: [...this.#trustedCertificates], maxCachedSessions: 0 })
          : undefined;
    try {
      const result = await postToCallbackHandler({
        url: target,
        body:
          handler.mode === 'jwt'
            ? signCallbackRequest(payload, this.#cosignerKey, Math.floor(startedAt / 1000))
            : JSON.stringify(payload),
        contentType:
          handler.mode === 'jwt' ? CALLBACK_JWT_CONTENT_TYPE : CALLBACK_JSON_CONTENT_TYPE,
        ...(agent === undefined ? {} : { agent }),
        timeoutMs: this.#timeoutMs,
        maxResponseBytes: this.#maxResponseBytes,
        signal: options.signal,
      });
      const outcome =
        result.kind === 'failure' ? result.outcome : this.#read(result.body, payload.requestId);
      return {
        ...attempt,
        finishedAt: this.#now(),
        ...(result.status === undefined ? {} : { httpStatus: result.status }),
        outcome,
      };
    } finally {
      // With it go the sockets still in a TLS handshake the deadline cut short.
      agent?.destroy();
    }
  }

  /** The answer's body → an outcome; every refusal names what was wrong with it. */
  #read(body: Buffer, requestId: string): CallbackOutcome {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body).trim();
    } catch {
      return failed('CALLBACK_MALFORMED_RESPONSE', 'the answer is not UTF-8 text');
    }
    const handler = this.#handler;
    let response: CallbackResponse;
    try {
      response =
        handler.mode === 'jwt'
          ? verifyJwt(text, handler.handlerPublicKey, {
              expectedRequestId: requestId,
              nowSeconds: Math.floor(this.#now() / 1000),
              clockSkewSeconds: this.#clockSkewSeconds,
              requireTimestamps: true,
            })
          : parseJson(text, requestId);
    } catch (error) {
      if (error instanceof CallbackError) return refusal(error as CallbackError<string>);
      throw error;
    }
    return outcomeOfAction(response.action, response.rejectionReason);
  }
}

function verifyJwt(
  text: string,
  handlerPublicKey: KeyObject,
  options: VerifyResponseOptions,
): CallbackResponse {
  if (!COMPACT_JWS.test(text)) {
    // An HTML error page, a JSON body, empty text: not a token at all, so not a bad signature.
    throw new CallbackError('ERR_CALLBACK_INVALID_PAYLOAD', 'the answer is not a JWT');
  }
  return verifyCallbackResponse(text, handlerPublicKey, options);
}

function parseJson(text: string, requestId: string): CallbackResponse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CallbackError('ERR_CALLBACK_INVALID_PAYLOAD', 'the answer is not JSON');
  }
  if (hasDuplicateMemberNames(text)) {
    // As for JWT claims: no answer that a first-wins reader would read otherwise.
    throw new CallbackError('ERR_CALLBACK_INVALID_PAYLOAD', 'the answer repeats a member name');
  }
  return checkCallbackResponse(value, requestId);
}

function refusal(error: CallbackError<string>): CallbackOutcome {
  switch (error.code) {
    case 'ERR_CALLBACK_JWT_INVALID':
      return failed('CALLBACK_BAD_SIGNATURE', 'not an RS256 JWT by the configured handler key');
    case 'ERR_CALLBACK_JWT_TIME':
    case 'ERR_CALLBACK_JWT_EXPIRED':
      return failed('CALLBACK_STALE_RESPONSE', error.message);
    case 'ERR_CALLBACK_RESPONSE_MISMATCH':
      return failed('CALLBACK_REQUEST_ID_MISMATCH', 'the answer is for another requestId');
    default:
      return failed('CALLBACK_MALFORMED_RESPONSE', error.message);
  }
}

/** The handler's rule, with the co-signer's error: 0..MAX_CLOCK_SKEW_SECONDS, an integer. */
function clockSkew(value: number): number {
  try {
    return checkClockSkewSeconds(value);
  } catch (error) {
    if (!(error instanceof CallbackError)) throw error;
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: error.message });
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `${name} must be a positive integer`,
    });
  }
  return value;
}
