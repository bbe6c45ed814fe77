export interface KeyedBatcherOptions<T, V> {
  /** Largest batch. */
  maxSize: number;
  /** Items with the same key run one batch at a time, in arrival order (e.g. the folder whose row they lock). */
  keyOf: (item: T) => string;
  /**
   * Items that must not share a batch (e.g. two writes of one file name): the later one waits for the next
   * batch of its key. Optional.
   */
  conflictKeyOf?: (item: T) => string;
  /** Does one batch (items of one key) and answers every item's result. */
  run: (items: T[]) => Promise<Map<T, V>>;
}

/**
 * Runs the items of one key one batch at a time, and gathers those that arrive meanwhile into the next batch:
 * where concurrent writers queue for one lock (a row every write of the key updates), they take it once
 * per batch instead of once each, while items of other keys run at once, in parallel. A failed batch fails
 * each of its items; the next batch of the key still runs.
 */
export class KeyedBatcher<T, V> {
  private readonly queues = new Map<
    string,
    { item: T; resolve: (v: V) => void; reject: (e: unknown) => void }[]
  >();

  constructor(private readonly opts: KeyedBatcherOptions<T, V>) {
    if (opts.maxSize < 1) throw new RangeError('maxSize must be at least 1');
  }

  submit(item: T): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const key = this.opts.keyOf(item);
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      this.queues.set(key, [{ item, resolve, reject }]);
      // The next turn: the callers of this one join the first batch.
      setImmediate(() => void this.drain(key));
    });
  }

  /** Runs the key's batches until its queue is empty, then forgets the key. */
  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length > 0) {
      const batch: typeof queue = [];
      const conflicts = new Set<string>();
      for (let i = 0; i < queue.length && batch.length < this.opts.maxSize;) {
        const conflict = this.opts.conflictKeyOf?.(queue[i].item);
        if (conflict !== undefined && conflicts.has(conflict)) {
          i++;
          continue;
        }
        if (conflict !== undefined) conflicts.add(conflict);
        batch.push(...queue.splice(i, 1));
      }
      try {
        const results = await this.opts.run(batch.map((w) => w.item));
        for (const w of batch) {
          if (results.has(w.item)) w.resolve(results.get(w.item)!);
          else w.reject(new Error('batch answered nothing for an item'));
        }
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.queues.delete(key);
  }
}
