// Internal module, tested directly: its rules decide whether money moves twice.
import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  DEFAULT_RETRY_OPTIONS,
  isReplaySafe,
  isRetryableStatus,
  parseRetryAfterMs,
  resolveRetryOptions,
} from '../src/retry-policy.js';

describe('retry policy', () => {
  it('parses Retry-After seconds and IMF-fixdate, ignores anything else', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
    expect(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:40 GMT', now)).toBe(3000);
    expect(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs('-5', now)).toBeUndefined();
    expect(parseRetryAfterMs('1.5', now)).toBeUndefined();
    expect(parseRetryAfterMs('1994-11-06T08:49:40Z', now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
  });

  it('retries only what cannot make the server act twice', () => {
    expect(isReplaySafe('GET', false)).toBe(true);
    expect(isReplaySafe('DELETE', false)).toBe(true);
    expect(isReplaySafe('POST', false)).toBe(false);
    expect(isReplaySafe('PATCH', false)).toBe(false);
    expect(isReplaySafe('POST', true)).toBe(true);
    expect(isRetryableStatus(429, false)).toBe(true);
    expect(isRetryableStatus(503, false)).toBe(true);
    expect(isRetryableStatus(500, false)).toBe(false);
    expect(isRetryableStatus(502, true)).toBe(true);
    expect(isRetryableStatus(501, true)).toBe(false);
    expect(isRetryableStatus(404, true)).toBe(false);
  });

  it('backs off exponentially within [d/2, d], capped', () => {
    const options = { ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 50; i++) {
      const d1 = backoffDelayMs(1, options);
      const d3 = backoffDelayMs(3, options);
      const d10 = backoffDelayMs(10, options);
      expect(d1).toBeGreaterThanOrEqual(50);
      expect(d1).toBeLessThanOrEqual(100);
      expect(d3).toBeGreaterThanOrEqual(200);
      expect(d3).toBeLessThanOrEqual(400);
      expect(d10).toBeGreaterThanOrEqual(500);
      expect(d10).toBeLessThanOrEqual(1000);
    }
  });

  it('validates options', () => {
    expect(() => resolveRetryOptions({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => resolveRetryOptions({ baseDelayMs: -1 })).toThrow(/baseDelayMs/);
    expect(resolveRetryOptions(undefined)).toEqual(DEFAULT_RETRY_OPTIONS);
  });
});
