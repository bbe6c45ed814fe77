export interface MicroBatcherOptions<K, V> {
  /** Largest batch; reaching it runs the batch at once. */
  maxSize: number;
  /** How long the first item of a batch waits for others. */
  lingerMs: number;
  /** Does the work of one batch (distinct keys) and answers every key's result. */
  run: (keys: K[]) => Promise<Map<K, V>>;
}

/**
 * Gathers the keys that concurrent callers submit within `lingerMs` (or until `maxSize`) and runs them as
 * one batch: a worker running many jobs at once does one transaction and one S3 call per batch instead of
 * one per job, while each job still awaits (and fails with) its own key's result, so BullMQ's retries and
 * deduplication per job stay as they are.
 */
export class MicroBatcher<K, V> {
  private pending = new Map<K, { resolve: (v: V) => void; reject: (e: unknown) => void }[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: MicroBatcherOptions<K, V>) {
    if (opts.maxSize < 1) throw new RangeError('maxSize must be at least 1');
  }

  submit(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.opts.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return;
    const settle = (
      key: K,
      fn: (w: { resolve: (v: V) => void; reject: (e: unknown) => void }) => void,
    ) => batch.get(key)?.forEach(fn);
    this.opts.run([...batch.keys()]).then(
      (results) => {
        for (const key of batch.keys()) {
          if (results.has(key)) settle(key, (w) => w.resolve(results.get(key)!));
          else settle(key, (w) => w.reject(new Error(`batch answered nothing for ${String(key)}`)));
        }
      },
      (err: unknown) => {
        for (const key of batch.keys()) settle(key, (w) => w.reject(err));
      },
    );
  }
}
