export interface MicroBatcherOptions<K, V> {
  /** Largest batch; reaching it runs the batch at once. */
  maxSize: number;
  /**
   * How long the first item of a batch waits for others. 0: until the event loop's next turn (setImmediate),
   * which gathers the callers of one turn (e.g. the requests parsed from one read of many sockets) and adds
   * no timer delay; with `maxInFlight`, batches then grow only while others are running.
   */
  lingerMs: number;
  /**
   * Most batches running at once (default: no limit). At the limit, keys keep gathering (up to `maxSize`
   * per batch) and run as soon as a batch finishes: under load batches grow instead of piling up, so the
   * fixed cost of a batch (a transaction, a round trip) is shared by more keys.
   */
  maxInFlight?: number;
  /** Does the work of one batch (distinct keys) and answers every key's result. */
  run: (keys: K[]) => Promise<Map<K, V>>;
}

type Waiter<V> = { resolve: (v: V) => void; reject: (e: unknown) => void };

/**
 * Gathers the keys that concurrent callers submit within `lingerMs` (or until `maxSize`) and runs them as
 * one batch: a worker running many jobs at once does one transaction and one S3 call per batch instead of
 * one per job, while each job still awaits (and fails with) its own key's result, so BullMQ's retries and
 * deduplication per job stay as they are.
 */
export class MicroBatcher<K, V> {
  private pending = new Map<K, Waiter<V>[]>();
  /** Cancels the scheduled flush, if any. */
  private cancelFlush: (() => void) | undefined;
  private inFlight = 0;

  constructor(private readonly opts: MicroBatcherOptions<K, V>) {
    if (opts.maxSize < 1) throw new RangeError('maxSize must be at least 1');
    if (opts.maxInFlight !== undefined && opts.maxInFlight < 1)
      throw new RangeError('maxInFlight must be at least 1');
  }

  submit(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.opts.maxSize) this.flush();
      else this.cancelFlush ??= this.scheduleFlush();
    });
  }

  private scheduleFlush(): () => void {
    if (this.opts.lingerMs === 0) {
      const immediate = setImmediate(() => this.flush());
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(() => this.flush(), this.opts.lingerMs);
    return () => clearTimeout(timer);
  }

  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (this.pending.size === 0) return;
    // At the limit the keys wait for a running batch to finish (which flushes again).
    if (this.inFlight >= (this.opts.maxInFlight ?? Infinity)) return;
    let batch = this.pending;
    this.pending = new Map();
    if (batch.size > this.opts.maxSize) {
      // Gathered while batches were running: the first maxSize keys go, the rest wait their turn.
      const entries = [...batch];
      batch = new Map(entries.slice(0, this.opts.maxSize));
      this.pending = new Map(entries.slice(this.opts.maxSize));
      this.cancelFlush = this.scheduleFlush();
    }
    const settle = (key: K, fn: (w: Waiter<V>) => void) => batch.get(key)?.forEach(fn);
    this.inFlight++;
    // Called inside an async function: a `run` that throws at once fails its batch like one that rejects.
    (async () => this.opts.run([...batch.keys()]))()
      .then(
        (results) => {
          for (const key of batch.keys()) {
            if (results.has(key)) settle(key, (w) => w.resolve(results.get(key)!));
            else
              settle(key, (w) => w.reject(new Error(`batch answered nothing for ${String(key)}`)));
          }
        },
        (err: unknown) => {
          for (const key of batch.keys()) settle(key, (w) => w.reject(err));
        },
      )
      .finally(() => {
        this.inFlight--;
        // The keys that gathered meanwhile have waited long enough (only a limit makes them wait).
        if (this.opts.maxInFlight !== undefined) this.flush();
      });
  }
}
