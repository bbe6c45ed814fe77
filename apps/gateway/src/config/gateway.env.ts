import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { AppEnv, envTransforms, ServiceUrl, WithDatabase, WithRedis } from '@lib/config';
import { WithAuth } from '../identity/auth.env';

export class GatewayEnv extends WithAuth(WithRedis(WithDatabase(AppEnv))) {
  @ServiceUrl()
  OBJECT_METADATA_URL!: string;

  @ServiceUrl()
  STORAGE_URL!: string;

  @ServiceUrl()
  FLOW_ORCHESTRATOR_URL!: string;

  @ServiceUrl()
  USAGE_AGGREGATOR_URL!: string;

  /** Largest JSON request body; larger ones get 413. Multipart uploads have their own limit. */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES: number = 1024 * 1024;
}
