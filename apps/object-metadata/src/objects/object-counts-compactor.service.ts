import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Reconciler } from '@lib/queue';
import { ObjectsRepository } from './objects.repository';

/** How often `object_counts` is compacted: a count sums the rows written since, one or two per write. */
const COMPACT_INTERVAL_MS = 5_000;
/** Groups folded per statement (one transaction each), and statements per tick at most. */
const COMPACT_GROUPS = 1_000;
const COMPACT_ROUNDS = 10;

/**
 * Keeps `object_counts` about one row per (org, publication, state, content type): the triggers on
 * `objects` append a row per group each write statement changes, and a count sums a group's rows, so they
 * are folded every `COMPACT_INTERVAL_MS` (`ObjectsRepository.compactCounts`). Every replica runs it; one
 * at a time compacts (an advisory lock), the others skip that tick. A failed tick is logged and the next one
 * tries again: until then counts stay exact, only a little slower.
 */
@Injectable()
export class ObjectCountsCompactor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly reconciler = new Reconciler({
    name: 'object-counts',
    intervalMs: COMPACT_INTERVAL_MS,
    // Routine work, not lost work: nothing to report.
    sweep: () => this.compact().then(() => 0),
    logger: new Logger(ObjectCountsCompactor.name),
  });

  constructor(private readonly objects: ObjectsRepository) {}

  onApplicationBootstrap(): void {
    this.reconciler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.reconciler.stop();
  }

  /** Compacts until no group has more than one row (or `COMPACT_ROUNDS` statements); the rows removed. */
  async compact(): Promise<number> {
    let removed = 0;
    for (let round = 0; round < COMPACT_ROUNDS; round++) {
      const done = await this.objects.compactCounts(COMPACT_GROUPS);
      if (done === null) break; // another replica is compacting
      removed += done.removed;
      if (done.groups < COMPACT_GROUPS) break;
    }
    return removed;
  }
}
