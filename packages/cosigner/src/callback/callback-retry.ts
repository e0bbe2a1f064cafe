/**
 * What the co-signer does when a Callback Handler answers RETRY (ARCHITECTURE.md §7): it asks
 * again after an interval — every 3 minutes, up to 20 more times by default — and gives up with
 * CALLBACK_RETRIES_EXHAUSTED. Any other outcome ends the loop at once: a handler is never asked
 * again after a REJECT or a failure. Time comes from an injected `sleep`, so tests run the whole
 * schedule without waiting, and an AbortSignal stops the loop between or during asks.
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';

import { CosignerError } from '../errors.js';
import { failed, type CallbackAttempt, type CallbackOutcome } from './callback-outcome.js';

export interface CallbackRetryPolicy {
  /** Wait between a RETRY and the next ask. */
  readonly intervalMs: number;
  /** Asks after the first one; the handler is asked at most `maxRetries + 1` times. */
  readonly maxRetries: number;
}

export const DEFAULT_CALLBACK_RETRY_POLICY: CallbackRetryPolicy = {
  intervalMs: 3 * 60 * 1000,
  maxRetries: 20,
};

/** Waits `ms`, or less if `signal` fires; never rejects. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = async (ms, signal) => {
  try {
    await delay(ms, undefined, signal === undefined ? {} : { signal });
  } catch {
    // Aborted: the loop sees the signal and stops.
  }
};

export interface RetryLoopOptions {
  readonly policy?: CallbackRetryPolicy;
  readonly sleep?: Sleep;
  readonly signal?: AbortSignal;
  /**
   * Called with every ask as it completes, RETRY ones included — the place to write an audit
   * entry. Awaited; if it throws, the loop stops and the error propagates (an outcome that could
   * not be recorded must not lead to a signature).
   */
  readonly onAttempt?: (attempt: CallbackAttempt) => Promise<void> | void;
}

export interface RetryLoopResult {
  /** Never RETRY: APPROVE, REJECT, IGNORE or FAILED. */
  readonly outcome: CallbackOutcome;
  readonly attempts: readonly CallbackAttempt[];
}

/**
 * Runs `ask(attemptNumber, signal)` until the answer is not RETRY or the budget is spent.
 * `stillCurrent`, if given, is called after every answer and before every re-ask: a FAILED
 * outcome from it ends the loop with that outcome — the settings the asks were made with are
 * no longer the configured ones, so neither their answers nor another ask may count.
 */
export async function askUntilDecided(
  ask: (attempt: number, signal: AbortSignal | undefined) => Promise<CallbackAttempt>,
  options: RetryLoopOptions = {},
  stillCurrent: () => CallbackOutcome | undefined = () => undefined,
): Promise<RetryLoopResult> {
  const policy = checkPolicy(options.policy ?? DEFAULT_CALLBACK_RETRY_POLICY);
  const sleep = options.sleep ?? realSleep;
  const { signal } = options;
  const attempts: CallbackAttempt[] = [];
  const aborted = () => ({
    outcome: failed('CALLBACK_ABORTED', 'the request was abandoned'),
    attempts,
  });
  for (let number = 1; number <= policy.maxRetries + 1; number += 1) {
    if (number > 1) await sleep(policy.intervalMs, signal);
    if (signal?.aborted === true) return aborted();
    const staleBeforeAsk = number > 1 ? stillCurrent() : undefined;
    if (staleBeforeAsk !== undefined) return { outcome: staleBeforeAsk, attempts };
    const attempt = await ask(number, signal);
    attempts.push(attempt);
    await options.onAttempt?.(attempt);
    const staleAnswer = stillCurrent();
    if (staleAnswer !== undefined) return { outcome: staleAnswer, attempts };
    if (attempt.outcome.action !== 'RETRY') return { outcome: attempt.outcome, attempts };
  }
  return {
    outcome: failed(
      'CALLBACK_RETRIES_EXHAUSTED',
      `RETRY answered ${attempts.length} times, ${policy.intervalMs} ms apart`,
    ),
    attempts,
  };
}

function checkPolicy(policy: CallbackRetryPolicy): CallbackRetryPolicy {
  const ok =
    Number.isSafeInteger(policy.intervalMs) &&
    policy.intervalMs >= 0 &&
    Number.isSafeInteger(policy.maxRetries) &&
    policy.maxRetries >= 0 &&
    policy.maxRetries <= 1000;
  if (!ok) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'retry policy: intervalMs ≥ 0 and maxRetries 0..1000, integers',
    });
  }
  return policy;
}
