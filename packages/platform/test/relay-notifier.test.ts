// Long-poll wake-ups (src/mpc/relay-notifier.ts): a poll that sleeps first runs no check until it
// is woken, the co-signer's polls are woken one at a time, longest first, and a wake-up that
// found no poll asleep is kept for the next one about to sleep.
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RelayNotifier } from '../src/mpc/relay-notifier.js';

/** A check that counts its runs and answers `answer()`. */
function counted<T>(answer: () => T | undefined) {
  const runs = { n: 0 };
  return { runs, check: () => Promise.resolve().then(() => (runs.n++, answer())) };
}

describe('RelayNotifier', () => {
  it('a poll that sleeps first checks only once woken; one that does not checks at once', async () => {
    const notifier = new RelayNotifier(60_000);
    const eager = counted(() => undefined);
    const sleeper = counted(() => 'found');
    const eagerPoll = notifier.poll('k', 60_000, eager.check);
    const sleeping = notifier.poll('k', 60_000, sleeper.check, undefined, true);
    await tick();
    expect([eager.runs.n, sleeper.runs.n]).toEqual([1, 0]);
    expect(notifier.waiting('k')).toBe(2);
    expect(notifier.waiting('other')).toBe(0);
    notifier.notify('k');
    expect(await sleeping).toBe('found');
    expect(sleeper.runs.n).toBe(1);
    notifier.close();
    expect(await eagerPoll).toBeUndefined();
    expect(notifier.waiting('k')).toBe(0);
  });

  it('with no time to wait, a poll that would sleep first checks at once', async () => {
    const notifier = new RelayNotifier(60_000);
    const { runs, check } = counted(() => 'now');
    expect(await notifier.poll('k', 0, check, undefined, true)).toBe('now');
    expect(runs.n).toBe(1);
  });

  it('notifyOne wakes the longest waiter only', async () => {
    const notifier = new RelayNotifier(60_000);
    let ready = false;
    const first = counted(() => (ready ? 'first' : undefined));
    const second = counted(() => (ready ? 'second' : undefined));
    const a = notifier.poll('k', 60_000, first.check);
    await tick(); // a checked, found nothing, and sleeps: the longest waiter
    const b = notifier.poll('k', 60_000, second.check, undefined, true);
    await tick();
    ready = true;
    notifier.notifyOne('k');
    expect(await a).toBe('first');
    await tick();
    expect(second.runs.n).toBe(0);
    notifier.notifyOne('k');
    expect(await b).toBe('second');
  });

  it('a notifyOne that finds no poll asleep makes the next one about to sleep check again', async () => {
    const notifier = new RelayNotifier(60_000);
    // The wake-up comes while the poll checks (its query ran before the job committed).
    let committed = false;
    const { runs, check } = counted(() => {
      if (committed) return 'job';
      committed = true;
      notifier.notifyOne('k');
      return undefined;
    });
    expect(await notifier.poll('k', 60_000, check)).toBe('job');
    expect(runs.n).toBe(2);
  });

  it('a kept wake-up lets one poll that would sleep first check at once, and only one', async () => {
    const notifier = new RelayNotifier(60_000);
    notifier.notifyOne('k'); // no one asleep: kept
    notifier.notifyOne('k'); // still one flag: a check leases one job and passes on the rest
    const first = counted(() => 'first');
    expect(await notifier.poll('k', 60_000, first.check, undefined, true)).toBe('first');
    const second = counted(() => 'second');
    const sleeping = notifier.poll('k', 60_000, second.check, undefined, true);
    await tick();
    expect(second.runs.n).toBe(0);
    expect(notifier.waiting('k')).toBe(1);
    notifier.notifyOne('k');
    expect(await sleeping).toBe('second');
  });

  it('a poll whose asker hung up during its check leaves a kept wake-up to the next', async () => {
    const notifier = new RelayNotifier(60_000);
    const hangUp = new AbortController();
    const gone = counted(() => {
      notifier.notifyOne('k');
      hangUp.abort();
      return undefined;
    });
    expect(await notifier.poll('k', 60_000, gone.check, hangUp.signal)).toBeUndefined();
    expect(notifier.waiting('k')).toBe(0);
    const next = counted(() => 'job');
    expect(await notifier.poll('k', 60_000, next.check, undefined, true)).toBe('job');
  });
});
