/**
 * How many bytes an app's streamed writes may hold in memory at once: a fair (first come, first served)
 * budget. A write reserves bytes before it gathers more than a small head of its stream (a whole part, or
 * the whole object when its size is known to fit one PUT) and gives them back once they are stored; while
 * its reservation does not fit, it stops reading its stream, so the client's upload waits on TCP
 * backpressure instead of the process growing by a part per upload.
 *
 * A holder never waits for more: it asks only for bytes free at once (`tryTake`), and else stores what it
 * holds as a part before it asks again; so every holder can finish: no deadlock. A client that stops
 * sending holds its reservation until its request times out.
 */
export class WriteBuffers {
  private free: number;
  private readonly waiting: { bytes: number; resolve: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.free = capacity;
  }

  /** Bytes reserved right now. */
  get inUse(): number {
    return this.capacity - this.free;
  }

  /** Writes waiting for their reservation. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Reserves `bytes` (at most `capacity`), waiting behind earlier takers while they do not fit; resolves
   * with the function that gives them back (once; later calls do nothing).
   */
  async take(bytes: number): Promise<() => void> {
    this.check(bytes);
    if (this.waiting.length === 0 && bytes <= this.free) this.free -= bytes;
    else await new Promise<void>((resolve) => this.waiting.push({ bytes, resolve }));
    return this.giveBack(bytes);
  }

  /**
   * `bytes` if they are free now and no write waits (those come first), else undefined: how a holder asks
   * for more without waiting while it holds.
   */
  tryTake(bytes: number): (() => void) | undefined {
    this.check(bytes);
    if (this.waiting.length > 0 || bytes > this.free) return undefined;
    this.free -= bytes;
    return this.giveBack(bytes);
  }

  private check(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > this.capacity) {
      throw new RangeError(`a reservation must be 1 to ${this.capacity} bytes, got ${bytes}`);
    }
  }

  private giveBack(bytes: number): () => void {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.free += bytes;
      // First come, first served: the head of the queue goes first, and no later taker passes it.
      while (this.waiting.length > 0 && this.waiting[0].bytes <= this.free) {
        const next = this.waiting.shift()!;
        this.free -= next.bytes;
        next.resolve();
      }
    };
  }
}
