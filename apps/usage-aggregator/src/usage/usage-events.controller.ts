import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topic } from '@lib/contracts';
import type { EventBatch } from '@lib/events';
import { UsageService } from './usage.service';

/** The consumer group of the usage aggregates (before the environment's prefix). */
export const CONSUMER_GROUP = 'usage-aggregator';

/**
 * Feeds the usage aggregates from `storage_file.updated` (and workflow names from `run.created`), exactly
 * once in effect: event ids dedupe redeliveries, per-file versions make late and replayed events no-ops.
 * A Kafka round (the batches of the partitions that arrived together) is one transaction, with one write per
 * table per handler.
 */
@Controller()
export class UsageEventsController {
  constructor(private readonly usage: UsageService) {}

  @EventPattern(Topic.StorageFileUpdated)
  async onFilesUpdated(@Payload() batch: EventBatch<typeof Topic.StorageFileUpdated>) {
    await this.usage.apply(batch.manager, batch.data);
  }

  @EventPattern(Topic.RunCreated)
  async onRunsCreated(@Payload() batch: EventBatch<typeof Topic.RunCreated>) {
    await this.usage.applyRuns(batch.manager, batch.data);
  }
}
