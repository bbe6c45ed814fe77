import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { AppEnv, envTransforms, WithDatabase, WithKafka } from '@lib/config';

export class UsageAggregatorEnv extends WithKafka(WithDatabase(AppEnv)) {
  /**
   * How long consumed event ids are kept for dedupe. Replays older than this are still harmless (per-file
   * versions reject them); the ids only save re-checking recent redeliveries.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  PROCESSED_EVENTS_RETENTION_HOURS: number = 168;

  /**
   * Partitions applied in parallel, each batch in its own transaction. Batches of different partitions touch
   * different files (keyed by file id) and lock the shared total rows in one fixed order: no deadlock.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  USAGE_CONSUMER_CONCURRENCY: number = 1;
}
