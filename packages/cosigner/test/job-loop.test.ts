// The daemon's scheduling (raw-signing review H2, L1): up to `concurrency` jobs at once, a lease
// only while a slot is free, a bounded number of polls open, shutdown that waits for running jobs
// to let go, a fatal poll error that stops everything; the slots behind it (FIFO, abortable, per
// key); and the lock that refuses a second daemon on one store.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDaemon } from '../src/daemon/cosigner-daemon.js';
import { DAEMON_LOCK_FILE } from '../src/daemon/daemon-lock.js';
import { runJobLoop } from '../src/daemon/job-loop.js';
import { KeyedSlots, Slots } from '../src/daemon/slots.js';
import { isCosignerError } from '../src/errors.js';
import { tryFileLock } from '../src/platform/file-lock.js';
import { initStore } from '../src/store/cosigner-store.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

afterAll(cleanupTempDirs);

/** A promise with its resolver, to hold a job or a poll open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets pending promise callbacks run (several hops: acquire → poll → run). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

/** A platform queue of `total` jobs, each held until released; records what ran when. */
function workload(total: number) {
  const held = new Map<number, () => void>();
  let next = 0;
  let pollsOpen = 0;
  let maxPollsOpen = 0;
  let jobsRunning = 0;
  let maxJobsRunning = 0;
  let maxLeased = 0;
  const waitingPolls: ((job: number | undefined) => void)[] = [];
  const finished: number[] = [];
  return {
    held,
    finished,
    stats: () => ({ maxPollsOpen, maxJobsRunning, maxLeased }),
    poll(signal: AbortSignal): Promise<number | undefined> {
      pollsOpen += 1;
      maxPollsOpen = Math.max(maxPollsOpen, pollsOpen);
      // Leased but not finished, and polls that may lease: never more than the slots.
      maxLeased = Math.max(maxLeased, jobsRunning + pollsOpen);
      const answer = (job: number | undefined): number | undefined => {
        pollsOpen -= 1;
        return job;
      };
      if (next < total) return Promise.resolve(answer(next++));
      // No work: a long poll that ends when the loop stops.
      return new Promise((resolve) => {
        waitingPolls.push((job) => resolve(answer(job)));
        signal.addEventListener('abort', () => resolve(answer(undefined)), { once: true });
      });
    },
    async run(job: number): Promise<void> {
      jobsRunning += 1;
      maxJobsRunning = Math.max(maxJobsRunning, jobsRunning);
      maxLeased = Math.max(maxLeased, jobsRunning + pollsOpen);
      const g = gate();
      held.set(job, g.open);
      await g.promise;
      held.delete(job);
      jobsRunning -= 1;
      finished.push(job);
    },
  };
}

describe('runJobLoop', () => {
  it('runs up to `concurrency` jobs at once, leases only into a free slot, and drains at stop', async () => {
    const work = workload(10);
    const stop = new AbortController();
    const loop = runJobLoop({
      concurrency: 4,
      pollsInFlight: 2,
      stop,
      poll: (signal) => work.poll(signal),
      run: (job) => work.run(job),
      pollFailed: () => Promise.reject(new Error('no poll fails here')),
    });
    await settle();
    expect([...work.held.keys()].sort()).toEqual([0, 1, 2, 3]);
    // Finishing two jobs lets exactly two more in, in the platform's order.
    work.held.get(1)!();
    work.held.get(3)!();
    await settle();
    expect([...work.held.keys()].sort()).toEqual([0, 2, 4, 5]);
    for (;;) {
      const open = [...work.held.values()];
      if (open.length === 0) break;
      for (const release of open) release();
      await settle();
    }
    expect(work.finished.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(work.stats()).toEqual({ maxPollsOpen: 2, maxJobsRunning: 4, maxLeased: 4 });

    // Stop while a job runs: the loop waits for it to let go before it returns.
    stop.abort();
    let returned = false;
    void loop.then(() => (returned = true));
    await settle();
    expect(returned).toBe(true);
  });

  it('waits for running jobs at stop, and stops everything on a fatal poll error', async () => {
    const work = workload(2);
    const stop = new AbortController();
    let returned = false;
    const loop = runJobLoop({
      concurrency: 3,
      pollsInFlight: 2,
      stop,
      poll: (signal) => work.poll(signal),
      run: (job) => work.run(job),
      pollFailed: () => Promise.reject(new Error('unused')),
    }).then(() => (returned = true));
    await settle();
    expect(work.held.size).toBe(2);
    stop.abort();
    await settle();
    expect(returned).toBe(false);
    for (const release of [...work.held.values()]) release();
    await loop;
    expect(returned).toBe(true);

    // A poll error the caller deems fatal: the other poller and the running job are stopped
    // through `stop`, and the loop rejects with that error once the job has ended.
    const fatal = new Error('credentials refused');
    const stopped = new AbortController();
    let polls = 0;
    const jobEnded = gate();
    const failing = runJobLoop<number>({
      concurrency: 2,
      pollsInFlight: 2,
      stop: stopped,
      poll: (signal) => {
        polls += 1;
        if (polls === 1) return Promise.resolve(7);
        if (polls === 2) return Promise.reject(new Error('platform down'));
        if (polls === 3) return Promise.reject(fatal);
        return new Promise((resolve) =>
          signal.addEventListener('abort', () => resolve(undefined), { once: true }),
        );
      },
      run: async () => {
        await new Promise((resolve) =>
          stopped.signal.addEventListener('abort', resolve, { once: true }),
        );
        jobEnded.open();
      },
      pollFailed: (error) => (error === fatal ? Promise.reject(fatal) : Promise.resolve()),
    });
    await expect(failing).rejects.toBe(fatal);
    expect(stopped.signal.aborted).toBe(true);
    await jobEnded.promise;
  });
});

describe('Slots', () => {
  it('serves waiters first come, first served; an aborted waiter takes nothing', async () => {
    const slots = new Slots(1);
    await slots.acquire();
    const order: string[] = [];
    const a = slots.acquire().then(() => order.push('a'));
    const gone = new AbortController();
    const b = slots.acquire(gone.signal).then(
      () => order.push('b'),
      () => order.push('b aborted'),
    );
    const c = slots.acquire().then(() => order.push('c'));
    gone.abort();
    await b;
    slots.release();
    await a;
    expect(slots.used).toBe(1);
    slots.release();
    await c;
    expect(order).toEqual(['b aborted', 'a', 'c']);
    slots.release();
    expect(slots.used).toBe(0);
    expect(() => slots.release()).toThrow(/no slot is held/);
    expect(() => new Slots(0)).toThrow(/positive integer/);
    await expect(slots.acquire(AbortSignal.abort())).rejects.toThrow(/shutting down/);
  });

  it('KeyedSlots caps each key on its own and forgets idle keys', async () => {
    const keyed = new KeyedSlots(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: string[] = [];
    const runs = [
      keyed.run('share-set-a', async () => (started.push('a0'), gates[0]!.promise)),
      keyed.run('share-set-a', async () => (started.push('a1'), gates[1]!.promise)),
      keyed.run('share-set-a', async () => (started.push('a2'), gates[2]!.promise)),
      keyed.run('share-set-b', async () => (started.push('b0'), gates[3]!.promise)),
    ];
    await settle();
    expect(started).toEqual(['a0', 'a1', 'b0']);
    expect(keyed.used('share-set-a')).toBe(2);
    gates[0]!.open();
    await settle();
    expect(started).toEqual(['a0', 'a1', 'b0', 'a2']);
    for (const g of gates) g.open();
    await Promise.all(runs);
    expect(keyed.used('share-set-a')).toBe(0);
    expect(keyed.used('share-set-b')).toBe(0);
  });
});

describe('runDaemon', () => {
  it('refuses to run on a store another daemon holds, before any platform call', async () => {
    const dir = await tempDir();
    const store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
    const lock = tryFileLock(join(store.dir, DAEMON_LOCK_FILE));
    try {
      expect(lock).toBeDefined();
      let refused: unknown;
      try {
        // Not paired: anything past the lock would fail with ERR_COSIGNER_NOT_PAIRED instead.
        await runDaemon({
          store,
          signal: new AbortController().signal,
          log: { info: () => undefined, warn: () => undefined },
        });
      } catch (e) {
        refused = e;
      }
      expect(isCosignerError(refused, 'ERR_COSIGNER_STORE_IN_USE')).toBe(true);
      lock!.release();
      // Free again: the same store now gets past the lock.
      await expect(
        runDaemon({
          store,
          signal: new AbortController().signal,
          log: { info: () => undefined, warn: () => undefined },
        }),
      ).rejects.toMatchObject({ code: 'ERR_COSIGNER_NOT_PAIRED' });
      await expect(
        runDaemon({
          store,
          concurrency: 0,
          signal: new AbortController().signal,
          log: { info: () => undefined, warn: () => undefined },
        }),
      ).rejects.toMatchObject({ code: 'ERR_COSIGNER_INVALID_ARGUMENT' });
    } finally {
      lock?.release();
      store.close();
    }
  });
});
