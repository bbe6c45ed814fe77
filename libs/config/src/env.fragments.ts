import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

// Environment fragments shared by the apps. Each app's env class composes the ones it needs, e.g.
// `class ObjectMetadataEnv extends WithRedis(WithDatabase(AppEnv)) {}`; `validateEnv` checks the result.

type Ctor<T = object> = new (...args: any[]) => T; // eslint-disable-line @typescript-eslint/no-explicit-any

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const url = { require_tld: false, require_protocol: true };

export class AppEnv {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT!: number;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** OTLP/HTTP collector base URL; tracing still propagates context without it, it just exports nothing. */
  @IsOptional()
  @IsUrl(url)
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** Seconds to wait for in-flight work on SIGTERM before exiting. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_SECONDS: number = 20;
}

export function WithDatabase<B extends Ctor>(Base: B) {
  class DatabaseEnv extends Base {
    @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
    DATABASE_URL!: string;

    @Transform(toInt)
    @IsInt()
    @Min(1)
    @Max(200)
    DATABASE_POOL_SIZE: number = 10;
  }
  return DatabaseEnv;
}

export function WithRedis<B extends Ctor>(Base: B) {
  class RedisEnv extends Base {
    @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
    REDIS_URL!: string;

    /** Key prefix of every BullMQ queue, so several environments (or test suites) can share one Redis. */
    @IsString()
    @IsNotEmpty()
    @Matches(/^[A-Za-z0-9_-]+$/, {
      message: 'BULLMQ_PREFIX may hold only letters, digits, _ and -',
    })
    BULLMQ_PREFIX: string = 'platform';
  }
  return RedisEnv;
}

export function WithKafka<B extends Ctor>(Base: B) {
  class KafkaEnv extends Base {
    @Matches(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, {
      message: 'KAFKA_BROKERS must be a comma-separated list of host:port',
    })
    KAFKA_BROKERS!: string;
  }
  return KafkaEnv;
}

export function WithS3<B extends Ctor>(Base: B) {
  class S3Env extends Base {
    @IsOptional()
    @IsUrl(url)
    S3_ENDPOINT?: string;

    /** Base URL put into presigned URLs when clients reach S3 by another address than the services do. */
    @IsOptional()
    @IsUrl(url)
    S3_PUBLIC_ENDPOINT?: string;

    @IsString()
    @IsNotEmpty()
    S3_REGION: string = 'us-east-1';

    @IsString()
    @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      message: 'S3_BUCKET must be a valid bucket name',
    })
    S3_BUCKET!: string;

    @IsString()
    @MinLength(3)
    S3_ACCESS_KEY_ID!: string;

    @IsString()
    @MinLength(8)
    S3_SECRET_ACCESS_KEY!: string;

    @Transform(toBool)
    @IsBoolean()
    S3_FORCE_PATH_STYLE: boolean = true;
  }
  return S3Env;
}

/** The base URL of another service of the platform (internal HTTP), e.g. `http://storage:3002`. */
export function ServiceUrl() {
  return IsUrl(url, { message: ({ property }) => `${property} must be an http(s) URL` });
}

export const envTransforms = { toInt, toBool };
