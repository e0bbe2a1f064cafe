// The RETRY loop as a unit: its schedule (recorded through an injected sleep — no test waits
// minutes), its budget, and how it stops (another answer, an abort, an audit hook that fails).
import { describe, expect, it } from 'vitest';

import type { CallbackAttempt, CallbackOutcome } from '../src/callback/callback-outcome.js';
import {
  askUntilDecided,
  DEFAULT_CALLBACK_RETRY_POLICY,
  realSleep,
  type Sleep,
} from '../src/callback/callback-retry.js';

/** Answers from a script: the n-th ask gets `script[n-1]`, then RETRY forever. */
function scripted(script: CallbackOutcome[]) {
  const asked: number[] = [];
  const ask = (attempt: number): Promise<CallbackAttempt> => {
    asked.push(attempt);
    return Promise.resolve({
      requestId: 'request-1',
      kind: 'tx_sign_request',
      url: 'https://handler.example/',
      mode: 'jwt',
      attempt,
      startedAt: attempt,
      finishedAt: attempt,
      httpStatus: 200,
      outcome: script[attempt - 1] ?? { action: 'RETRY' },
    });
  };
  return { ask, asked };
}

function recordingSleep(): { sleep: Sleep; slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  };
}

describe('askUntilDecided', () => {
  it('by default asks 21 times, 3 minutes apart, then fails with CALLBACK_RETRIES_EXHAUSTED', async () => {
    const { ask, asked } = scripted([]);
    const { sleep, slept } = recordingSleep();
    const result = await askUntilDecided(ask, { sleep });
    expect(DEFAULT_CALLBACK_RETRY_POLICY).toEqual({ intervalMs: 180_000, maxRetries: 20 });
    expect(asked).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(slept).toEqual(Array<number>(20).fill(180_000));
    expect(result.outcome).toMatchObject({
      action: 'FAILED',
      subStatus: 'CALLBACK_RETRIES_EXHAUSTED',
    });
    expect(result.attempts).toHaveLength(21);
  });

  it('stops at the first answer that is not RETRY, whatever it is', async () => {
    const reject: CallbackOutcome = { action: 'REJECT', rejectionReason: 'limit' };
    const { ask, asked } = scripted([{ action: 'RETRY' }, reject, { action: 'APPROVE' }]);
    const { sleep, slept } = recordingSleep();
    const result = await askUntilDecided(ask, {
      sleep,
      policy: { intervalMs: 60_000, maxRetries: 5 },
    });
    expect(result.outcome).toEqual(reject);
    expect(asked).toEqual([1, 2]);
    expect(slept).toEqual([60_000]);
  });

  it('with maxRetries 0 asks once', async () => {
    const { ask, asked } = scripted([]);
    const result = await askUntilDecided(ask, {
      sleep: recordingSleep().sleep,
      policy: { intervalMs: 1, maxRetries: 0 },
    });
    expect(asked).toEqual([1]);
    expect(result.outcome).toMatchObject({ subStatus: 'CALLBACK_RETRIES_EXHAUSTED' });
  });

  it('ends with CALLBACK_ABORTED when aborted during the wait, without asking again', async () => {
    const { ask, asked } = scripted([]);
    const controller = new AbortController();
    const result = await askUntilDecided(ask, {
      signal: controller.signal,
      sleep: (_ms, signal) => {
        controller.abort();
        expect(signal).toBe(controller.signal);
        return Promise.resolve();
      },
    });
    expect(asked).toEqual([1]);
    expect(result.outcome).toMatchObject({ action: 'FAILED', subStatus: 'CALLBACK_ABORTED' });
  });

  it('stops and propagates when the audit hook fails: an unrecorded outcome never signs', async () => {
    const { ask, asked } = scripted([{ action: 'RETRY' }, { action: 'APPROVE' }]);
    await expect(
      askUntilDecided(ask, {
        sleep: recordingSleep().sleep,
        onAttempt: () => Promise.reject(new Error('audit store full')),
      }),
    ).rejects.toThrow('audit store full');
    expect(asked).toEqual([1]);
  });

  it('refuses a nonsensical policy', async () => {
    const { ask } = scripted([]);
    for (const policy of [
      { intervalMs: -1, maxRetries: 1 },
      { intervalMs: 1.5, maxRetries: 1 },
      { intervalMs: 1, maxRetries: 5000 },
    ]) {
      await expect(askUntilDecided(ask, { policy })).rejects.toMatchObject({
        code: 'ERR_COSIGNER_INVALID_ARGUMENT',
      });
    }
  });

  it('the real sleep returns as soon as the signal fires', async () => {
    const controller = new AbortController();
    const sleeping = realSleep(60 * 60 * 1000, controller.signal);
    controller.abort();
    await expect(sleeping).resolves.toBeUndefined();
  });
});
