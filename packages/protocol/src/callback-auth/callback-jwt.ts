/**
 * The callback protocol's JWTs (ARCHITECTURE.md §7, `@countersign/protocol` callback.ts): claims
 * are the payload plus `iat` and `exp`. Both sides are here: the handler's (verify a request,
 * sign a response) and the co-signer's (sign a request, verify a response), so a handler can be
 * tested exactly as the co-signer will call it.
 * @module
 */
import type { KeyObject } from 'node:crypto';

import {
  CALLBACK_JWT_MAX_LIFETIME_SECONDS,
  CallbackResponseSchema,
  type CallbackResponse,
} from '../callback.js';
import { Value } from 'typebox/value';

import { signRs256Jwt, verifyRs256Jwt, type JwtClaims } from './compact-jws.js';
import { CallbackError } from './callback-auth-error.js';

/** Default tolerance between the co-signer's clock and ours. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/** Upper bound on the configurable skew: beyond this the time checks mean nothing. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

export interface TimeCheckOptions {
  /** Seconds since the epoch. */
  nowSeconds: number;
  clockSkewSeconds: number;
  /**
   * Countersign co-signers always send `iat` and `exp`. When false, a token without them is
   * accepted (the `requestId` echo still binds the answer); present ones are still checked.
   */
  requireTimestamps: boolean;
}

/**
 * Checks `iat`/`exp` of an already verified token and returns the claims without them. Runs
 * after the signature check, so the distinct errors tell only the real co-signer what was wrong.
 */
export function checkTimeClaims(claims: JwtClaims, options: TimeCheckOptions): JwtClaims {
  // NaN would make every comparison below false and Infinity would widen both windows without
  // end: either switches the freshness checks off (review 2026-11-27 F5).
  if (!isSeconds(options.nowSeconds)) {
    throw new CallbackError('ERR_CALLBACK_INVALID_OPTIONS', 'nowSeconds must be an integer ≥ 0');
  }
  checkClockSkewSeconds(options.clockSkewSeconds);
  const { iat, exp, ...rest } = claims;
  const hasIat = iat !== undefined;
  const hasExp = exp !== undefined;
  if (!hasIat && !hasExp && !options.requireTimestamps) return rest;
  const timeError = (message: string) => new CallbackError('ERR_CALLBACK_JWT_TIME', message);
  if (!isSeconds(iat) || !isSeconds(exp)) {
    throw timeError('token must carry integer iat and exp claims');
  }
  if (exp < iat || exp - iat > CALLBACK_JWT_MAX_LIFETIME_SECONDS) {
    throw timeError(`token lifetime must be 0..${CALLBACK_JWT_MAX_LIFETIME_SECONDS} s`);
  }
  if (iat > options.nowSeconds + options.clockSkewSeconds) {
    throw timeError('token issued in the future (check the clocks)');
  }
  if (exp < options.nowSeconds - options.clockSkewSeconds) {
    throw new CallbackError('ERR_CALLBACK_JWT_EXPIRED', 'token expired');
  }
  return rest;
}

/** Throws ERR_CALLBACK_INVALID_OPTIONS unless `value` is an integer 0..MAX_CLOCK_SKEW_SECONDS. */
export function checkClockSkewSeconds(value: unknown): number {
  if (!isSeconds(value) || value > MAX_CLOCK_SKEW_SECONDS) {
    throw new CallbackError(
      'ERR_CALLBACK_INVALID_OPTIONS',
      `clockSkewSeconds must be an integer 0..${MAX_CLOCK_SKEW_SECONDS}`,
    );
  }
  return value;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The handler's answer as a JWT: the response plus `iat` and `exp`. */
export function signCallbackResponse(
  response: CallbackResponse,
  handlerPrivateKey: KeyObject,
  nowSeconds: number,
): string {
  return signRs256Jwt(
    { ...response, iat: nowSeconds, exp: nowSeconds + CALLBACK_JWT_MAX_LIFETIME_SECONDS },
    handlerPrivateKey,
  );
}

/** Co-signer side: the request body for `payload`, signed with the co-signer's callback key. */
export function signCallbackRequest(
  payload: Record<string, unknown>,
  cosignerPrivateKey: KeyObject,
  nowSeconds: number,
): string {
  return signRs256Jwt(
    { ...payload, iat: nowSeconds, exp: nowSeconds + CALLBACK_JWT_MAX_LIFETIME_SECONDS },
    cosignerPrivateKey,
  );
}

export interface VerifyResponseOptions extends TimeCheckOptions {
  /** The `requestId` this co-signer sent: an answer for any other request is refused. */
  expectedRequestId: string;
}

/**
 * Co-signer side: verifies the handler's answer — RS256 by the handler's key, valid times, the
 * response schema, and the echo of this request's `requestId` (a replayed approval of an
 * earlier request carries another id and is refused).
 */
export function verifyCallbackResponse(
  token: string,
  handlerPublicKey: KeyObject,
  options: VerifyResponseOptions,
): CallbackResponse {
  const claims = checkTimeClaims(verifyRs256Jwt(token.trim(), handlerPublicKey), options);
  return checkCallbackResponse(claims, options.expectedRequestId);
}

/** A plain response (JWT claims or pinned-TLS JSON) checked against the schema and the echo. */
export function checkCallbackResponse(value: unknown, expectedRequestId: string): CallbackResponse {
  if (!Value.Check(CallbackResponseSchema, value)) {
    throw new CallbackError('ERR_CALLBACK_INVALID_PAYLOAD', 'not a callback response');
  }
  if (value.requestId !== expectedRequestId) {
    throw new CallbackError(
      'ERR_CALLBACK_RESPONSE_MISMATCH',
      'the response is for another request (requestId not echoed)',
    );
  }
  return value;
}
