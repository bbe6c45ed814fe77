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

/**
 * S3 settings are used only to sign upload and download URLs (pure CPU, no S3 call): hot paths take one hop
 * after the gateway. Byte operations (HEAD, DELETE) go through the storage service at STORAGE_URL.
 */
export class ObjectMetadataEnv extends WithS3(WithRedis(WithKafka(WithDatabase(AppEnv)))) {
  @ServiceUrl()
  STORAGE_URL!: string;

  /** How often the TTL reconciler sweeps Postgres for deadlines Redis may have lost. */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  TTL_RECONCILE_INTERVAL_MS: number = 10_000;

  /** How often bytes of overwritten or deleted org files that storage failed to remove are retried. */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  ORG_FILE_PURGE_INTERVAL_MS: number = 30_000;
}
