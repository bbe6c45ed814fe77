import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import {
  AppEnv,
  envTransforms,
  ServiceUrl,
  WithDatabase,
  WithKafka,
  WithRedis,
  WithS3,
} from '@lib/config';
import { OBJECT_LIMITS } from '@lib/contracts';
import { WithServiceTokens } from '@lib/internal-http';

/**
 * S3 settings are used only to sign upload and download URLs (pure CPU, no S3 call): hot paths take one hop
 * after the gateway. Byte operations (HEAD, DELETE) go through the storage service at STORAGE_URL.
 */
export class ObjectMetadataEnv extends WithServiceTokens(
  WithS3(WithRedis(WithKafka(WithDatabase(AppEnv)))),
) {
  @ServiceUrl()
  STORAGE_URL!: string;

  /** How often the TTL sweeper expires the objects whose deadline has passed (their lateness at most). */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  TTL_SWEEP_INTERVAL_MS: number = 100;

  /**
   * How often the TTL reconciler sweeps Postgres for bytes of deleted objects not confirmed gone (purge jobs
   * Redis may have lost) and runs the late purges that are due.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  TTL_RECONCILE_INTERVAL_MS: number = 10_000;

  /**
   * The largest Objects API object: complete refuses bigger uploads (413) and removes their bytes. S3 takes at
   * most 5 GiB in one PUT; a presigned URL cannot carry a bound of its own when the size is not known.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1)
  @Max(5 * 1024 ** 3)
  OBJECT_MAX_BYTES: number = OBJECT_LIMITS.defaultMaxBytes;

  /** How often bytes of overwritten or deleted org files that storage failed to remove are retried. */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  ORG_FILE_PURGE_INTERVAL_MS: number = 30_000;
}
