import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Reconciler } from '@lib/queue';
import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { ObjectsRepository } from '../objects/objects.repository';
import { ObjectsService } from '../objects/objects.service';
import { TtlScheduler } from './ttl-scheduler.service';

/** Most purges handed over per sweep; the rest next time. */
const SWEEP_BATCH = 5_000;
// One S3 DeleteObjects request.
const LATE_PURGE_BATCH = 1_000;

/**
 * BullMQ is a scheduler, not the source of truth. Every `TTL_RECONCILE_INTERVAL_MS` (default 10 s) this
 * sweeps Postgres for deleted objects whose bytes are not confirmed gone and enqueues their purges again
 * under their deterministic job ids (what Redis still holds is a no-op, what it lost is scheduled again), and
 * runs the late purges that are due (see `ObjectEntity.latePurgeAtMs`). Every replica sweeps; the job ids
 * make that harmless. (TTL deadlines need no queue: the TTL sweeper reads them from Postgres.)
 */
@Injectable()
export class TtlReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly reconciler: Reconciler;

  constructor(
    private readonly objects: ObjectsRepository,
    private readonly service: ObjectsService,
    private readonly scheduler: TtlScheduler,
    { ttl }: ObjectMetadataConfig,
  ) {
    this.reconciler = new Reconciler({
      name: 'ttl-expiry',
      intervalMs: ttl.reconcileIntervalMs,
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

  /** One sweep; returns how many objects it handed to the queue or purged. */
  async sweep(): Promise<number> {
    const purges = await this.objects.findPurgePending(SWEEP_BATCH);
    if (purges.length > 0) {
      await this.scheduler.schedulePurges(purges);
      await this.scheduler.retryFailedPurges(purges);
    }
    // Deleted while their upload URL was valid: their bytes go once more now that it has expired.
    const latePurged = await this.service.latePurgeDue(LATE_PURGE_BATCH);
    return purges.length + latePurged;
  }
}
