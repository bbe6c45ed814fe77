import { Logger } from '@nestjs/common';
import { PgErrorCode, pgErrorOf } from '@lib/database';

const POLL_INTERVAL_MS = 1_000;

/** Postgres error codes a batch meets when it must simply be tried again later. */
const RETRY_LATER: Record<string, string> = {
  // A request holds some of the batch's rows (its locks are NOWAIT).
  [PgErrorCode.LockNotAvailable]: 'waits for a request',
  // A folder still referenced by one an earlier delete has not removed yet.
  [PgErrorCode.ForeignKeyViolation]: 'waits for an earlier folder delete',
};

/**
 * The loop of a background job worked a batch per transaction (folder moves' and folder deletes' events):
 * `step` does one batch and answers whether more may be pending. Woken at once by `kick()` (right after the
 * request that queued a job committed) and by a poll; one drain at a time per process, and a kick during a
 * drain makes it look again once it ends. A failed batch ends the drain; the poll retries it.
 */
export class BatchLoop {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly what: string,
    private readonly step: () => Promise<boolean>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), POLL_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Works pending jobs now (in the background). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => (this.running = false));
  }

  /** Runs batches until none is pending. */
  async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.step())) {
          await new Promise((resolve) => setImmediate(resolve)); // let waiting requests run
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      const code = pgErrorOf(err)?.code;
      const later = code === undefined ? undefined : RETRY_LATER[code];
      if (later) this.logger.debug(`${this.what} ${later}`);
      else this.logger.warn(`${this.what} failed (retried): ${(err as Error).message}`);
    }
  }
}
