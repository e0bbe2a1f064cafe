/**
 * Bounds what failed authentication can cost. Each failure is audited, which
 * is a database write under the audit chain's lock; without a bound, anyone
 * could make the platform write without end. An address that fails more than
 * `maxFailures` times within `windowMs` is refused outright (429) for the rest
 * of the window, before any lookup, and its further failures are not audited
 * one by one — one entry records that the limit was reached.
 *
 * In memory, per instance: a distributed attacker gets `maxFailures` per
 * address per instance, which is the bound we want (linear in addresses).
 */
export interface FailureLimiterOptions {
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at most; the oldest windows are dropped first. */
  maxTracked: number;
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;

  constructor(private readonly options: FailureLimiterOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /** True while the address is over its limit in the current window. */
  blocked(ip: string): boolean {
    const w = this.current(ip);
    return w !== undefined && w.failures >= this.options.maxFailures;
  }

  /**
   * Counts a failure. Returns 'audit' while under the limit, 'limit-reached'
   * for the failure that reaches it (audit that once), then 'suppressed'.
   */
  record(ip: string): 'audit' | 'limit-reached' | 'suppressed' {
    let w = this.current(ip);
    if (!w) {
      if (this.windows.size >= this.options.maxTracked) this.evictOldest();
      w = { start: this.now(), failures: 0 };
      this.windows.set(ip, w);
    }
    w.failures += 1;
    if (w.failures < this.options.maxFailures) return 'audit';
    return w.failures === this.options.maxFailures ? 'limit-reached' : 'suppressed';
  }

  private current(ip: string): Window | undefined {
    const w = this.windows.get(ip);
    if (w && this.now() - w.start >= this.options.windowMs) {
      this.windows.delete(ip);
      return undefined;
    }
    return w;
  }

  private evictOldest(): void {
    // Map iteration is insertion order: the first entries are the oldest windows.
    const drop = Math.max(1, Math.floor(this.options.maxTracked / 10));
    let n = 0;
    for (const key of this.windows.keys()) {
      this.windows.delete(key);
      if (++n >= drop) break;
    }
  }
}
