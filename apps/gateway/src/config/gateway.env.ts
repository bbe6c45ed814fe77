import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { AppEnv, envTransforms, ServiceUrl, WithDatabase, WithRedis } from '@lib/config';
import { WithAuth } from '../identity/auth.env';
import { TRUST_PROXY_PATTERN } from './trust-proxy';

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

  /** Public downloads per client address per window (429 past it), counted in Redis across replicas. */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  DOWNLOAD_RATE_LIMIT: number = 120;

  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  DOWNLOAD_RATE_WINDOW_SECONDS: number = 60;

  /** Redis key prefix of the rate-limit counters. */
  @Matches(/^[A-Za-z0-9:_-]{1,64}$/)
  RATE_LIMIT_PREFIX: string = 'ratelimit';

  /**
   * Proxies trusted to set the client address with `X-Forwarded-For`: a hop count (`1` behind one
   * ingress) or comma-separated addresses/CIDRs. Unset: the TCP peer is the client.
   */
  @IsOptional()
  @Matches(TRUST_PROXY_PATTERN, { message: 'TRUST_PROXY must be a hop count or addresses/CIDRs' })
  TRUST_PROXY?: string;
}
