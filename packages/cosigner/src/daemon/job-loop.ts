/**
 * The daemon's scheduling loop, apart from what a job is: keeps up to `concurrency` jobs
 * running, leasing each with one poll. A poll is made only while a slot is free (the slot is
 * taken before the poll and given back if it brings no job), so the daemon never holds a lease
 * on a job it cannot start; `pollsInFlight` pollers keep a burst of jobs leasing without a gap.
 * @module
 */
import { Slots } from './slots.js';

export interface JobLoopOptions<J> {
  readonly concurrency: number;
  readonly pollsInFlight: number;
  /**
   * Aborted by the caller to stop, or by the loop when `pollFailed` throws. Polls and jobs are
   * expected to end soon after it aborts.
   */
  readonly stop: AbortController;
  /** One long poll: a leased job, or undefined when it ended without one. */
  poll(signal: AbortSignal): Promise<J | undefined>;
  /** Runs a leased job to its end; never rejects (failures are the job's to report). */
  run(job: J): Promise<void>;
  /** A poll failed (not by `stop`): resolve to poll again, throw to stop the loop with it. */
  pollFailed(error: unknown): Promise<void>;
}

/**
 * Runs until `stop` aborts, then waits for the running jobs to end. Rejects with the error
 * `pollFailed` threw, if any, once they have.
 */
export async function runJobLoop<J>(options: JobLoopOptions<J>): Promise<void> {
  const { stop } = options;
  const slots = new Slots(options.concurrency);
  const running = new Set<Promise<void>>();
  let fatal: { error: unknown } | undefined;

  const poller = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        await slots.acquire(stop.signal);
      } catch {
        return;
      }
      let job: J | undefined;
      try {
        job = await options.poll(stop.signal);
      } catch (error) {
        slots.release();
        if (stop.signal.aborted) return;
        try {
          await options.pollFailed(error);
        } catch (stopWith) {
          fatal ??= { error: stopWith };
          stop.abort();
          return;
        }
        continue;
      }
      if (job === undefined) {
        slots.release();
        continue;
      }
      const done = options.run(job).finally(() => {
        slots.release();
        running.delete(done);
      });
      running.add(done);
    }
  };

  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.pollsInFlight) }, poller),
  );
  while (running.size > 0) await Promise.all([...running]);
  if (fatal !== undefined) throw fatal.error;
}
