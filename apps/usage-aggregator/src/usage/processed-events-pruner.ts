import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { UsageAggregatorConfig } from '../config/usage-aggregator.config';
import { UsageRepository } from './usage.repository';

const EVERY_MS = 10 * 60_000;
const BATCH = 10_000;

/**
 * Keeps `processed_events` bounded: ids older than the retention are deleted in batches every ten minutes.
 * Safe on every replica at once (each batch is its own DELETE).
 */
@Injectable()
export class ProcessedEventsPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProcessedEventsPruner.name);
  private timer?: NodeJS.Timeout;
  private readonly retentionMs: number;

  constructor(
    config: UsageAggregatorConfig,
    private readonly usage: UsageRepository,
  ) {
    this.retentionMs = config.usage.processedEventsRetentionMs;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Deletes expired ids until none is left; returns how many. Logs and gives up until next time on errors. */
  async prune(now = Date.now()): Promise<number> {
    let deleted = 0;
    try {
      for (;;) {
        const n = await this.usage.pruneProcessedEvents(new Date(now - this.retentionMs), BATCH);
        deleted += n;
        if (n < BATCH) return deleted;
      }
    } catch (err) {
      this.logger.warn(`pruning processed_events failed: ${(err as Error).message}`);
      return deleted;
    }
  }
}
