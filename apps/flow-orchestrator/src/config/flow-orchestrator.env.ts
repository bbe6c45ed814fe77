import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import {
  AppEnv,
  envTransforms,
  ServiceUrl,
  WithDatabase,
  WithKafka,
  WithRedis,
  WithS3,
} from '@lib/config';
import { FLOW_LIMITS } from '@lib/contracts';
import { WithServiceTokens } from '@lib/internal-http';

export class FlowOrchestratorEnv extends WithServiceTokens(
  WithS3(WithKafka(WithRedis(WithDatabase(AppEnv)))),
) {
  /** object-metadata: the owner of every stored file's record (run inputs and artifacts). */
  @ServiceUrl()
  OBJECT_METADATA_URL!: string;

  /** Runs executed at once per process (the `runs` worker's concurrency). */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  RUN_CONCURRENCY: number = 16;

  /**
   * How long a worker's lock on a run job lasts without renewal: a worker killed mid-step frees its run
   * for another worker (the step retries) after at most this long.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  RUN_LOCK_DURATION_MS: number = 30_000;

  /**
   * The largest upload to a waiting edge, whichever way it arrives (a PutURL cannot bound what it takes):
   * a larger one is removed and its run ends in ERROR.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1)
  @Max(5 * 1024 ** 3)
  RUN_INPUT_MAX_BYTES: number = FLOW_LIMITS.uploadBytes;

  /** Longest pause between two checks of a waiting PutURL (the watcher backs off up to this). */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  UPLOAD_WATCH_MAX_DELAY_MS: number = 5_000;

  /** How often the reconciler re-enqueues runs and upload watches Redis lost. */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  RUN_RECONCILE_INTERVAL_MS: number = 10_000;

  /**
   * How long one attempt of a step may take, from its start to its output stored (for `http`: connecting,
   * the answer's headers and its whole body, however steadily bytes arrive). Past it the run is ERROR.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  STEP_DEADLINE_MS: number = 300_000;

  /**
   * How long a run's steps may take together, from its first step's start (retries and their backoff
   * included; waiting for uploads is not). Past it the run is ERROR.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(100)
  @Max(86_400_000)
  RUN_DEADLINE_MS: number = 1_800_000;

  /**
   * Let `http` steps call any address, not only public ones (loopback, private and every other
   * special-purpose range). Off by default: a tenant's definition must not reach the platform's internal
   * services (SSRF). On for local runs and tests.
   */
  @Transform(envTransforms.toBool)
  @IsBoolean()
  HTTP_STEP_ALLOW_PRIVATE_NETWORKS: boolean = false;

  /** Shared secret of the S3 notification webhook (`Authorization: Bearer …`); unset: webhook off. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  S3_NOTIFICATION_SECRET?: string;
}
