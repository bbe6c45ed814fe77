import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Reconciler } from '@lib/queue';
import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { ObjectsService } from '../objects/objects.service';

/** Objects expired per transaction (and per S3 DeleteObjects request). */
const SWEEP_BATCH = 1_000;

/**
 * TTL deadlines, straight from Postgres: every `TTL_SWEEP_INTERVAL_MS` (default 100 ms) this expires the
 * live objects whose `delete_after_time_ms` has passed, most overdue first, a batch per transaction until
 * none is due (`ObjectsService.expireDue`). A deadline is late by at most the interval plus the sweep, and a
 * burst of deadlines costs a transaction per thousand objects, not a job each. Every replica sweeps: a row
 * one holds is skipped by the others, and a row expires once (its state changes in the transaction that
 * writes its `expired` event).
 */
@Injectable()
export class TtlSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly reconciler: Reconciler;
  private stopping = false;

  constructor(
    private readonly objects: ObjectsService,
    { ttl }: ObjectMetadataConfig,
  ) {
    this.reconciler = new Reconciler({
      name: 'ttl-sweep',
      intervalMs: ttl.sweepIntervalMs,
      sweep: () => this.sweep(),
      logger: new Logger(TtlSweeper.name),
      quiet: true,
      fixedRate: true,
    });
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.reconciler.stop();
  }

  /** Expires every object due now, a batch at a time (until shutdown begins); returns how many. */
  async sweep(): Promise<number> {
    let expired = 0;
    for (;;) {
      const count = await this.objects.expireDue(SWEEP_BATCH);
      expired += count;
      if (count < SWEEP_BATCH || this.stopping) return expired;
    }
  }
}
