/**
 * When and how long to wait before sending a request again.
 *
 * Safe-to-retry rules, chosen so that a retry can never create a second
 * transaction:
 * - 429 and 503: the server says it did not do the work; any method.
 * - other 5xx (except 501) and network errors: only for idempotent methods
 *   (RFC 9110 §9.2.2), or any method carrying an `Idempotency-Key`, which
 *   makes the server deduplicate.
 * Delays are exponential with jitter (AWS "equal jitter": half fixed, half
 * random) so a fleet of clients does not retry in lockstep; `Retry-After`
 * (RFC 9110 §10.2.3) wins when the server sends it.
 */
import { CountersignUsageError } from './errors.js';

export interface RetryOptions {
  /** Total attempts including the first; 1 disables retries. */
  maxAttempts: number;
  /** Backoff before attempt n+1 is drawn from [d/2, d] with d = min(maxDelayMs, baseDelayMs·2^(n-1)). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited out: the error is thrown instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
});

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export function resolveRetryOptions(partial: Partial<RetryOptions> | undefined): RetryOptions {
  const options = { ...DEFAULT_RETRY_OPTIONS, ...partial };
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new CountersignUsageError('retry.maxAttempts must be an integer ≥ 1');
  }
  for (const name of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!Number.isFinite(options[name]) || options[name] < 0) {
      throw new CountersignUsageError(`retry.${name} must be a finite number ≥ 0`);
    }
  }
  return options;
}

/** True when repeating the request cannot make the server do the work twice. */
export function isReplaySafe(method: string, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method);
}

export function isRetryableStatus(status: number, replaySafe: boolean): boolean {
  if (status === 429 || status === 503) return true;
  return replaySafe && status >= 500 && status !== 501;
}

/** Backoff before the attempt following `attempt` (1-based). */
export function backoffDelayMs(attempt: number, options: RetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/**
 * `Retry-After` as milliseconds from now: delay-seconds or an HTTP-date
 * (compared with `nowMs`, the skew-corrected clock, since the date is the
 * server's). Undefined when absent or unparseable.
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Date.parse also takes ISO and other forms; require the IMF-fixdate shape servers send.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) {
    return undefined;
  }
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
