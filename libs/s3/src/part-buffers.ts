/**
 * How many multipart parts an app's streamed writes may hold in memory at once: a fair (first come, first
 * served) count of part-sized buffers. A write takes one before it gathers more than a small head of its
 * stream and gives it back once that part is stored; while none is free it stops reading its stream, so
 * the client's upload waits on TCP backpressure instead of the process growing by a part per upload.
 *
 * A holder never waits for a second buffer: it asks only for one free at once (`tryTake`), and else
 * stores what it holds as a part before it asks again; so every holder can finish: no deadlock. A client
 * that stops sending holds its buffers until its request times out.
 */
export class PartBuffers {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.free = capacity;
  }

  /** Part buffers held right now. */
  get inUse(): number {
    return this.capacity - this.free;
  }

  /** Writes waiting for a part buffer. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with the function that gives the buffer back (once; later calls do nothing). */
  async take(): Promise<() => void> {
    if (this.free > 0 && this.waiting.length === 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.giveBack();
  }

  /**
   * A buffer if one is free now and no write waits for one (those come first), else undefined: how a
   * holder asks for more without waiting while it holds.
   */
  tryTake(): (() => void) | undefined {
    if (this.free === 0 || this.waiting.length > 0) return undefined;
    this.free--;
    return this.giveBack();
  }

  private giveBack(): () => void {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      if (next)
        next(); // handed over: `free` stays as it is
      else this.free++;
    };
  }
}
