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
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { emptyAsUnset, EnvCheck, unreadableFile } from './env-checks';

// Environment fragments shared by the apps. Each app's env class composes the ones it needs, e.g.
// `class ObjectMetadataEnv extends WithRedis(WithDatabase(AppEnv)) {}`; `validateEnv` checks the result.

type Ctor<T = object> = new (...args: any[]) => T; // eslint-disable-line @typescript-eslint/no-explicit-any

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const url = { require_tld: false, require_protocol: true };

@ValidatorConstraint({ name: 'differentPorts' })
class DifferentPorts implements ValidatorConstraintInterface {
  validate(port: unknown, { object }: ValidationArguments): boolean {
    return port === 0 || port !== (object as AppEnv).PORT;
  }

  defaultMessage(): string {
    return 'MANAGEMENT_PORT must differ from PORT';
  }
}

export class AppEnv {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT!: number;

  /** The management listener: `/metrics`, the detailed `/health/ready`, the gateway's `/admin`. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  @Validate(DifferentPorts)
  MANAGEMENT_PORT!: number;

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

    /**
     * PEM bundle of the private CA that signed the server's certificate: connections then require TLS and
     * verify the certificate and host name (`pgConnectionConfig` of @lib/database).
     */
    @Transform(emptyAsUnset)
    @EnvCheck((path) => (path === undefined ? undefined : unreadableFile('DATABASE_CA_FILE', path)))
    DATABASE_CA_FILE?: string;

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

/** The SASL mechanisms of `KAFKA_SASL_MECHANISM` (as kafkajs names them). */
export const KAFKA_SASL_MECHANISMS = [
  'plain',
  'scram-sha-256',
  'scram-sha-512',
  'oauthbearer',
] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** What the cross-field rules of the Kafka settings read. */
interface KafkaSettings {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string;
  KAFKA_SSL_CERT_FILE?: string;
  KAFKA_SSL_KEY_FILE?: string;
  KAFKA_SASL_MECHANISM?: string;
}
type KafkaTlsFile = 'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_CERT_FILE' | 'KAFKA_SSL_KEY_FILE';

/** A TLS file: only with KAFKA_SSL=true, readable; with `pair`, both are set or neither. */
const tlsFile =
  (name: KafkaTlsFile, pair?: KafkaTlsFile) => (path: string | undefined, env: KafkaSettings) => {
    if (path === undefined) {
      return pair && env[pair] !== undefined
        ? `${name} must be set with ${pair} (a client certificate needs both)`
        : undefined;
    }
    if (env.KAFKA_SSL !== true) return `${name} is set but KAFKA_SSL is not true`;
    return unreadableFile(name, path);
  };

/** A SASL setting: required by the `mechanisms` that use it, refused with any other or none. */
const saslSetting =
  (name: string, mechanisms: readonly KafkaSaslMechanism[]) =>
  (value: string | undefined, env: KafkaSettings): string | undefined => {
    const mechanism = env.KAFKA_SASL_MECHANISM;
    const used = mechanisms.some((m) => m === mechanism);
    if (value === undefined) {
      return used ? `${name} is required with KAFKA_SASL_MECHANISM=${mechanism}` : undefined;
    }
    return used
      ? undefined
      : `${name} is only read with KAFKA_SASL_MECHANISM ${mechanisms.join(' or ')}`;
  };
const PASSWORD_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** With (and only with) oauthbearer, a readable file. */
const oauthBearerProviderFile = (path: string | undefined, env: KafkaSettings) =>
  saslSetting('KAFKA_SASL_OAUTHBEARER_PROVIDER', ['oauthbearer'])(path, env) ??
  (path === undefined ? undefined : unreadableFile('KAFKA_SASL_OAUTHBEARER_PROVIDER', path));

/** Characters Kafka allows in topic and group names; short enough to leave room for the name itself. */
const KAFKA_NAME_PREFIX = /^[A-Za-z0-9._-]{0,100}$/;

export function WithKafka<B extends Ctor>(Base: B) {
  class KafkaEnv extends Base {
    @Matches(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, {
      message: 'KAFKA_BROKERS must be a comma-separated list of host:port',
    })
    KAFKA_BROKERS!: string;

    /** TLS to the brokers (their SSL or SASL_SSL listener). */
    @Transform(toBool)
    @IsBoolean({ message: 'KAFKA_SSL must be true or false' })
    KAFKA_SSL: boolean = false;

    /** PEM bundle of the CAs the brokers' certificates are checked against; unset: the system CAs. */
    @Transform(emptyAsUnset)
    @EnvCheck(tlsFile('KAFKA_SSL_CA_FILE'))
    KAFKA_SSL_CA_FILE?: string;

    /** PEM client certificate (chain), for brokers that authenticate clients by certificate. */
    @Transform(emptyAsUnset)
    @EnvCheck(tlsFile('KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'))
    KAFKA_SSL_CERT_FILE?: string;

    /** PEM private key (unencrypted) of the client certificate. */
    @Transform(emptyAsUnset)
    @EnvCheck(tlsFile('KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_CERT_FILE'))
    KAFKA_SSL_KEY_FILE?: string;

    /** SASL authentication; unset: none. */
    @Transform(emptyAsUnset)
    @IsOptional()
    @IsIn(KAFKA_SASL_MECHANISMS, {
      message: `KAFKA_SASL_MECHANISM must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
    })
    KAFKA_SASL_MECHANISM?: KafkaSaslMechanism;

    @Transform(emptyAsUnset)
    @EnvCheck(saslSetting('KAFKA_SASL_USERNAME', PASSWORD_MECHANISMS))
    KAFKA_SASL_USERNAME?: string;

    @Transform(emptyAsUnset)
    @EnvCheck(saslSetting('KAFKA_SASL_PASSWORD', PASSWORD_MECHANISMS))
    KAFKA_SASL_PASSWORD?: string;

    /**
     * The OAUTHBEARER hook (AWS MSK IAM included): path of a CommonJS module, loaded at boot, whose
     * `oauthBearerProvider` export is the kafkajs token provider, `() => Promise<{ value: token }>`.
     */
    @Transform(emptyAsUnset)
    @EnvCheck(oauthBearerProviderFile)
    KAFKA_SASL_OAUTHBEARER_PROVIDER?: string;

    /**
     * Put before the name of every platform topic (`staging.` → `staging.storage_file.updated`), so that
     * several environments can share one Kafka cluster, each with prefixed ACLs of its own.
     */
    @Matches(KAFKA_NAME_PREFIX, {
      message: 'KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-" (at most 100)',
    })
    KAFKA_TOPIC_PREFIX: string = '';

    /** Put before the name of every consumer group of the platform (`staging.` → `staging.usage-aggregator`). */
    @Matches(KAFKA_NAME_PREFIX, {
      message: 'KAFKA_GROUP_PREFIX may hold only letters, digits, ".", "_" and "-" (at most 100)',
    })
    KAFKA_GROUP_PREFIX: string = '';
  }
  return KafkaEnv;
}

/** The Kafka settings alone, for what reads nothing else (the CLI's `kafka-topics`, test helpers). */
export class KafkaOnlyEnv extends WithKafka(class {}) {}

type S3Key = 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY';

/** A static S3 key: set with the other one or neither (the AWS SDK's default chain), `minLength` long. */
const s3Key =
  (name: S3Key, other: S3Key, minLength: number) =>
  (value: string | undefined, env: Partial<Record<S3Key, string>>) => {
    if (value === undefined) {
      return env[other] === undefined
        ? undefined
        : `${name} must be set with ${other} (both, or neither for the AWS SDK's default credential chain)`;
    }
    return value.length < minLength
      ? `${name} must be at least ${minLength} characters`
      : undefined;
  };

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

    /** Static keys, both or neither: without them the AWS SDK's default chain (the pod's role) signs. */
    @Transform(emptyAsUnset)
    @EnvCheck(s3Key('S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 3))
    S3_ACCESS_KEY_ID?: string;

    @Transform(emptyAsUnset)
    @EnvCheck(s3Key('S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID', 8))
    S3_SECRET_ACCESS_KEY?: string;

    @Transform(toBool)
    @IsBoolean()
    S3_FORCE_PATH_STYLE: boolean = true;

    /**
     * The memory streamed writes to S3 may hold at once (at least one 5 MiB part): past it, uploads wait
     * for earlier ones to be stored, on TCP backpressure.
     */
    @Transform(toInt)
    @IsInt()
    @Min(5)
    S3_WRITE_BUFFER_MIB: number = 64;
  }
  return S3Env;
}

/** The base URL of another service of the platform (internal HTTP), e.g. `http://storage:3002`. */
export function ServiceUrl() {
  return IsUrl(url, { message: ({ property }) => `${property} must be an http(s) URL` });
}

export const envTransforms = { toInt, toBool };
