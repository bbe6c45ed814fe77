import { Transform } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import {
  AppEnv,
  corsOriginsProblem,
  EnvCheck,
  envTransforms,
  ServiceUrl,
  WithDatabase,
  WithRedis,
  WithS3,
} from '@lib/config';
import { WithServiceTokens } from '@lib/internal-http';
import { WithAuth } from '../identity/auth.env';
import { TRUST_PROXY_PATTERN } from './trust-proxy';

/** Not below the variable named by `constraints[0]`: the request's deadline includes its headers'. */
@ValidatorConstraint({ name: 'notBelow' })
class NotBelow implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const other = (args.object as Record<string, unknown>)[String(args.constraints[0])];
    return typeof value !== 'number' || typeof other !== 'number' || value >= other;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must not be below ${String(args.constraints[0])}`;
  }
}

export class GatewayEnv extends WithServiceTokens(
  WithAuth(WithS3(WithRedis(WithDatabase(AppEnv)))),
) {
  @ServiceUrl()
  OBJECT_METADATA_URL!: string;

  @ServiceUrl()
  FLOW_ORCHESTRATOR_URL!: string;

  @ServiceUrl()
  USAGE_AGGREGATOR_URL!: string;

  /** A client has this long to send its request line and headers (408 past it). */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1_000)
  @Max(300_000)
  HTTP_HEADERS_TIMEOUT_MS: number = 10_000;

  /**
   * A client has this long to send its whole request, body included (408 past it, the connection closed):
   * the bound on a slow body. Uploads through the gateway must arrive within it.
   */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  @Validate(NotBelow, ['HTTP_HEADERS_TIMEOUT_MS'])
  HTTP_REQUEST_TIMEOUT_MS: number = 120_000;

  /** An idle keep-alive connection is closed after this long (above a load balancer's idle timeout). */
  @Transform(envTransforms.toInt)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number = 72_000;

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

  /**
   * Web origins whose pages may call the public API from a browser (CORS), comma-separated, each exact
   * (`https://app.example.com`). Unset or empty: no CORS headers, preflights unanswered.
   */
  @EnvCheck<GatewayEnv>((value) => corsOriginsProblem(value))
  CORS_ALLOWED_ORIGINS?: string;

  /**
   * The public port's TLS: a PEM certificate chain and its unencrypted key, both or neither (cleartext).
   * The pair is read and checked as the server starts (`gatewayTls`).
   */
  @IsOptional()
  @IsString()
  GATEWAY_TLS_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  GATEWAY_TLS_KEY_FILE?: string;
}
