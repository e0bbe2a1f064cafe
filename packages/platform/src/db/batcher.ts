/**
 * Group commit for hot-path queries: requests that arrive while a batch is in
 * flight are collected and answered by the next single query. Under load one
 * round trip serves many requests; an idle caller waits for no timer, because
 * a batch starts as soon as the previous one has finished.
 */
export type BatchRunner<K, V> = (keys: K[]) => Promise<Map<string, V>>;

interface Waiter<K, V> {
  key: K;
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

export class Batcher<K, V> {
  private pending: Waiter<K, V>[] = [];
  private running = false;

  /**
   * @param keyOf identity of a key: waiters with the same identity in one batch
   *   share its answer unless `exclusive`, when only the first gets it and the
   *   rest get `undefined` (a nonce can be consumed once).
   */
  constructor(
    private readonly run: BatchRunner<K, V>,
    private readonly keyOf: (key: K) => string,
    private readonly options: { exclusive?: boolean; maxBatch?: number } = {},
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (!this.running) this.drain();
    });
  }

  private drain(): void {
    this.running = true;
    // Let the current tick's callers join the batch before it starts.
    setImmediate(() => {
      void this.flush();
    });
  }

  private async runAlone(w: Waiter<K, V>): Promise<void> {
    try {
      w.resolve((await this.run([w.key])).get(this.keyOf(w.key)));
    } catch (error) {
      w.reject(error);
    }
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.options.maxBatch ?? 500);
    const unique = new Map<string, K>();
    for (const w of batch) {
      const id = this.keyOf(w.key);
      if (!unique.has(id)) unique.set(id, w.key);
    }
    try {
      const results = await this.run([...unique.values()]);
      const answered = new Set<string>();
      for (const w of batch) {
        const id = this.keyOf(w.key);
        if (this.options.exclusive && answered.has(id)) {
          w.resolve(undefined);
          continue;
        }
        answered.add(id);
        w.resolve(results.get(id));
      }
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      // One bad key must not fail its neighbours: answer each on its own.
      else await Promise.all(batch.map((w) => this.runAlone(w)));
    }
    if (this.pending.length > 0) this.drain();
    else this.running = false;
  }
}
