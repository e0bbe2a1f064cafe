/**
 * Bounded concurrency for the daemon: {@link Slots} caps how many jobs run at once
 * (`cosigner start --concurrency`), {@link KeyedSlots} caps work per key (DKLs23 presigning
 * sessions per share set, mpc dkls23-notes.md "Requirements on the caller").
 *
 * Waiters are served first come, first served. The daemon leases jobs in the platform's global
 * order and every party of a session does the same, so FIFO keeps the parties' choices of which
 * sessions go ahead the same; an unordered wake-up could let two parties each run a different
 * subset of sessions and wait for each other until the sessions expire.
 * @module
 */
import { CosignerError } from '../errors.js';

/** A counting semaphore with `limit` slots. */
export class Slots {
  readonly limit: number;
  #used = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: `a slot limit must be a positive integer, not ${String(limit)}`,
      });
    this.limit = limit;
  }

  /** Slots in use. */
  get used(): number {
    return this.#used;
  }

  /**
   * Waits for a free slot and takes it; release it with {@link release}. Rejects, taking
   * nothing, if `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(aborted());
    if (this.#used < this.limit && this.#waiting.length === 0) {
      this.#used += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const take = (): void => {
        signal?.removeEventListener('abort', cancel);
        this.#used += 1;
        resolve();
      };
      const cancel = (): void => {
        const i = this.#waiting.indexOf(take);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(aborted());
      };
      this.#waiting.push(take);
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  release(): void {
    if (this.#used === 0)
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'no slot is held' });
    this.#used -= 1;
    if (this.#used < this.limit) this.#waiting.shift()?.();
  }

  /** Runs `work` in a slot. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}

/** One {@link Slots} of `limit` per key, created on first use and dropped when idle. */
export class KeyedSlots {
  readonly limit: number;
  readonly #slots = new Map<string, { slots: Slots; holders: number }>();

  constructor(limit: number) {
    this.limit = new Slots(limit).limit;
  }

  /** Slots of `key` in use. */
  used(key: string): number {
    return this.#slots.get(key)?.slots.used ?? 0;
  }

  /** Runs `work` in one of `key`'s slots. */
  async run<T>(key: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let entry = this.#slots.get(key);
    if (entry === undefined) {
      entry = { slots: new Slots(this.limit), holders: 0 };
      this.#slots.set(key, entry);
    }
    // Counts waiters too, so the entry outlives everyone still queued on it.
    entry.holders += 1;
    try {
      return await entry.slots.run(work, signal);
    } finally {
      entry.holders -= 1;
      if (entry.holders === 0) this.#slots.delete(key);
    }
  }
}

function aborted(): CosignerError {
  return new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'shutting down' });
}
