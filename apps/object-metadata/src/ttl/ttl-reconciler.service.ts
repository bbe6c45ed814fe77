import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { JobName } from '@lib/contracts';
import { Reconciler } from '@lib/queue';
import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { ObjectsRepository } from '../objects/objects.repository';
import { ObjectsService } from '../objects/objects.service';
import { TtlScheduler } from './ttl-scheduler.service';

/** Most deadlines (and purges) handed over per sweep; the most urgent go first, the rest next time. */
const SWEEP_BATCH = 5_000;
// One S3 DeleteObjects request.
const LATE_PURGE_BATCH = 1_000;

/**
 * BullMQ is a scheduler, not the source of truth. Every `TTL_RECONCILE_INTERVAL_MS` (default 10 s) this
 * sweeps Postgres for live objects whose deadline is due or falls within the next interval, and for deleted
 * objects whose bytes are not confirmed gone, and re-enqueues them under their deterministic job ids
 * (it also runs the late purges that are due, see `ObjectEntity.latePurgeAtMs`):
 * what Redis still holds is a no-op, what it lost (flush, failover, eviction) is scheduled again. A flushed
 * Redis costs at most one interval of lateness. Every replica sweeps; the job ids make that harmless.
 */
@Injectable()
export class TtlReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly reconciler: Reconciler;
  private readonly intervalMs: number;

  constructor(
    private readonly objects: ObjectsRepository,
    private readonly service: ObjectsService,
    private readonly scheduler: TtlScheduler,
    { ttl }: ObjectMetadataConfig,
  ) {
    this.intervalMs = ttl.reconcileIntervalMs;
    this.reconciler = new Reconciler({
      name: 'ttl-expiry',
      intervalMs: this.intervalMs,
      sweep: () => this.sweep(),
      logger: new Logger(TtlReconciler.name),
    });
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.reconciler.stop();
  }

  /** One sweep; returns how many objects it handed to the queue. */
  async sweep(): Promise<number> {
    const now = Date.now();
    const due = await this.objects.findDue(now + this.intervalMs, SWEEP_BATCH);
    if (due.length > 0) await this.scheduler.scheduleExpiries(due);
    // Still live a whole interval past the deadline: the job may have used up its attempts.
    const overdue = due.filter((o) => o.deleteAfterTimeMs < now - this.intervalMs).map((o) => o.id);
    await this.scheduler.retryFailed(JobName.ObjectExpire, overdue);

    const purges = await this.objects.findPurgePending(SWEEP_BATCH);
    if (purges.length > 0) {
      await this.scheduler.schedulePurges(purges);
      await this.scheduler.retryFailed(JobName.ObjectPurge, purges);
    }
    // Deleted while their upload URL was valid: their bytes go once more now that it has expired.
    const latePurged = await this.service.latePurgeDue(LATE_PURGE_BATCH);
    return due.length + purges.length + latePurged;
  }
}
