/**
 * Long-poll wake-ups (ARCHITECTURE §5, §9). A waiter sleeps until its key is notified in this
 * process, a periodic re-check comes due (work written by another platform instance on the same
 * database), its deadline passes, or the app closes. The database stays the only source of
 * truth: a wake-up just means "query again", so a lost notification costs at most one interval.
 */
export class RelayNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  /**
   * Keys a {@link notifyOne} found no waiter for: its polls were all between a check and a sleep
   * (a check that ran before the job committed, or one that leased another job), busy elsewhere,
   * or none was open on this instance. The next poll of the key about to sleep checks once more
   * instead, so a wake-up is never lost to that gap and the job never waits for a re-check. A
   * check that starts answers it (it sees what was committed before). One flag per key: a check
   * leases one job, and a poll that leases one while more are due passes the wake-up on
   * (CosignerJobService.next).
   */
  private readonly unheard = new Set<string>();
  private closed = false;

  constructor(private readonly recheckMs: number) {}

  /** Wakes every waiter of `key` in this process. */
  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }

  /**
   * Wakes the longest waiter of `key` in this process: for one new job, whose co-signer may be
   * waiting with several polls; waking them all would run a lease query per poll for one job.
   * A waiter whose asker hung up has already left the set, so the one woken can take the job;
   * the others still re-check at their interval.
   */
  notifyOne(key: string): void {
    const set = this.waiters.get(key);
    const first = set?.values().next();
    if (first === undefined || first.done === true) this.unheard.add(key);
    else first.value();
  }

  /** How many waiters of `key` are asleep in this process now. */
  waiting(key: string): number {
    return this.waiters.get(key)?.size ?? 0;
  }

  /** Ends every wait (app closing): long polls answer with what they have. */
  close(): void {
    this.closed = true;
    for (const key of [...this.waiters.keys()]) this.notify(key);
  }

  /**
   * Runs `check` until it returns a value or `waitMs` has passed, sleeping between checks until
   * `key` is notified or `recheckMs` passes. Returns the last `check` result (undefined on timeout).
   * Once `signal` aborts (the asker hung up), `check` runs no more: a check with side effects,
   * such as leasing a job, must not act for someone who can no longer receive its answer.
   * `sleepFirst`: the first check waits for a wake-up or the re-check, as if one had just found
   * nothing (a poll beside another that is asleep on the same key, which a change wakes).
   * A poll about to sleep while its key holds an unheard {@link notifyOne} checks again instead.
   */
  async poll<T>(
    key: string,
    waitMs: number,
    check: () => Promise<T | undefined>,
    signal?: AbortSignal,
    sleepFirst = false,
  ): Promise<T | undefined> {
    const deadline = Date.now() + waitMs;
    for (let first = true; ; first = false) {
      if (signal?.aborted) return undefined;
      const checks = !(first && sleepFirst && waitMs > 0);
      // A check sees every job committed before it starts: wake-ups kept until now are answered.
      if (checks) this.unheard.delete(key);
      const found = checks ? await check() : undefined;
      const left = deadline - Date.now();
      if (found !== undefined || left <= 0 || this.closed) return found;
      // Its asker hung up during the check: it neither sleeps nor takes an unheard wake-up.
      if (signal?.aborted) return undefined;
      if (this.unheard.delete(key)) continue;
      await this.sleep(key, Math.min(left, this.recheckMs), signal);
    }
  }

  private sleep(key: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) {
        set = new Set();
        this.waiters.set(key, set);
      }
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        this.waiters.get(key)?.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

export const workKey = (cosignerId: string): string => `work:${cosignerId}`;
export const sessionKey = (sessionId: string): string => `session:${sessionId}`;
/** A held job leased early: its holder waits here for the release (or its session's end). */
export const releaseKey = (jobId: string): string => `release:${jobId}`;
