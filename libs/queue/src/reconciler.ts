export interface ReconcilerLogger {
  log(message: string): void;
  error(message: unknown, stack?: string): void;
}

export interface ReconcilerOptions {
  name: string;
  intervalMs: number;
  /**
   * Finds what is due or lost in Postgres (the source of truth) and re-enqueues it with deterministic job ids,
   * so re-enqueueing what Redis still has is a no-op. Returns how many items it handed over.
   */
  sweep: () => Promise<number>;
  logger: ReconcilerLogger;
  /** The items a sweep finds are routine work (not something Redis lost): not logged. */
  quiet?: boolean;
  /** Sweeps start every `intervalMs` (at once after a longer sweep), not `intervalMs` after the last ended. */
  fixedRate?: boolean;
}

/**
 * The reconciler pattern: BullMQ is a scheduler, not the source of truth. A periodic sweep compares Postgres'
 * deadlines with the queue and re-enqueues what Redis lost (flushed, failed over, evicted). A failed sweep is
 * logged and tried again at the next tick: the loop must outlive a database or Redis outage.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly opts: ReconcilerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs one sweep now (tests and the admin CLI use it); concurrent calls share the running sweep. */
  async runOnce(): Promise<void> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      void this.runOnce().finally(() => {
        const { intervalMs, fixedRate } = this.opts;
        this.schedule(fixedRate ? Math.max(0, intervalMs - (Date.now() - started)) : intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    try {
      const count = await this.opts.sweep();
      if (count > 0 && !this.opts.quiet) {
        this.opts.logger.log(`${this.opts.name}: re-enqueued ${count} item(s)`);
      }
    } catch (err) {
      this.opts.logger.error(
        `${this.opts.name}: sweep failed, retrying in ${this.opts.intervalMs} ms: ${String(err)}`,
        err instanceof Error ? err.stack : undefined,
      );
    }
  }
}
