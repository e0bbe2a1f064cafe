// Long-poll wake-ups (src/mpc/relay-notifier.ts): a poll that sleeps first runs no check until it
// is woken, and the co-signer's polls are woken one at a time, longest first.
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
    expect(notifier.isWaiting('k')).toBe(true);
    expect(notifier.isWaiting('other')).toBe(false);
    notifier.notify('k');
    expect(await sleeping).toBe('found');
    expect(sleeper.runs.n).toBe(1);
    notifier.close();
    expect(await eagerPoll).toBeUndefined();
    expect(notifier.isWaiting('k')).toBe(false);
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
});
