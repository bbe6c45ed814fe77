import type {
  AppEnv,
  KafkaOnlyEnv,
  KafkaSaslMechanism,
  WithDatabase,
  WithRedis,
  WithS3,
} from './env.fragments';
import { InvalidEnvironmentError } from './validate-env';

// The sections every app's config is made of, each mapped once from its validated env fragment: lists,
// durations and flags are parsed here, and the rest of the code reads typed values (`config.kafka.brokers`).

type DatabaseEnv = InstanceType<ReturnType<typeof WithDatabase>>;
type RedisEnv = InstanceType<ReturnType<typeof WithRedis>>;
type S3Env = InstanceType<ReturnType<typeof WithS3>>;

/** The process: NODE_ENV, LOG_LEVEL, SHUTDOWN_GRACE_SECONDS. */
export function appConfig(env: AppEnv) {
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    /** How long SIGTERM waits for in-flight work before the process exits. */
    shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
  };
}
export type AppConfig = ReturnType<typeof appConfig>;

/** The listeners: PORT (public) and MANAGEMENT_PORT (`/metrics`, the detailed `/health/ready`, `/admin`). */
export function httpConfig(env: AppEnv) {
  return { port: env.PORT, managementPort: env.MANAGEMENT_PORT };
}
export type HttpConfig = ReturnType<typeof httpConfig>;

/** The keys of service tokens (`WithServiceTokens` of @lib/internal-http): this app's, and every app's public key. */
export function serviceTokensConfig(env: {
  SERVICE_TOKEN_PRIVATE_KEY: string;
  SERVICE_TOKEN_PUBLIC_KEYS: string;
}) {
  return { privateKey: env.SERVICE_TOKEN_PRIVATE_KEY, publicKeys: env.SERVICE_TOKEN_PUBLIC_KEYS };
}
export type ServiceTokensConfig = ReturnType<typeof serviceTokensConfig>;

/** Postgres: DATABASE_URL, DATABASE_CA_FILE, DATABASE_POOL_SIZE. */
export function databaseConfig(env: DatabaseEnv) {
  return { url: env.DATABASE_URL, caFile: env.DATABASE_CA_FILE, poolSize: env.DATABASE_POOL_SIZE };
}
export type DatabaseConfig = ReturnType<typeof databaseConfig>;

/** Redis: REDIS_URL, and BULLMQ_PREFIX for the app's queues. */
export function redisConfig(env: RedisEnv) {
  return { url: env.REDIS_URL, bullmqPrefix: env.BULLMQ_PREFIX };
}
export type RedisConfig = ReturnType<typeof redisConfig>;

/** SASL of the brokers: a user and password, or the OAUTHBEARER provider module. */
export type KafkaSaslConfig =
  | { mechanism: Exclude<KafkaSaslMechanism, 'oauthbearer'>; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProviderFile: string };

/** The Kafka settings (`WithKafka`); the ones that reach the brokers, without the name prefixes, suffice. */
export type KafkaEnv = Omit<KafkaOnlyEnv, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_GROUP_PREFIX'> &
  Partial<Pick<KafkaOnlyEnv, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_GROUP_PREFIX'>>;

/** Kafka: KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL*, and the prefixes of the platform's topics and groups. */
export function kafkaConfig(env: KafkaEnv) {
  return {
    /** Bootstrap brokers, `host:port`. */
    brokers: env.KAFKA_BROKERS.split(','),
    /** TLS to the brokers (KAFKA_SSL) and its PEM files; undefined: plaintext. */
    tls: env.KAFKA_SSL
      ? {
          caFile: env.KAFKA_SSL_CA_FILE,
          certFile: env.KAFKA_SSL_CERT_FILE,
          keyFile: env.KAFKA_SSL_KEY_FILE,
        }
      : undefined,
    /** SASL authentication; undefined: none. */
    sasl: kafkaSasl(env),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    groupPrefix: env.KAFKA_GROUP_PREFIX ?? '',
  };
}
export type KafkaConfig = ReturnType<typeof kafkaConfig>;

function kafkaSasl(env: KafkaEnv): KafkaSaslConfig | undefined {
  const mechanism = env.KAFKA_SASL_MECHANISM;
  switch (mechanism) {
    case undefined:
      return undefined;
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512':
      return {
        mechanism,
        username: required('KAFKA_SASL_USERNAME', env.KAFKA_SASL_USERNAME),
        password: required('KAFKA_SASL_PASSWORD', env.KAFKA_SASL_PASSWORD),
      };
    case 'oauthbearer':
      return {
        mechanism,
        oauthBearerProviderFile: required(
          'KAFKA_SASL_OAUTHBEARER_PROVIDER',
          env.KAFKA_SASL_OAUTHBEARER_PROVIDER,
        ),
      };
  }
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new InvalidEnvironmentError([`${name} is required`]);
  return value;
}

/** The bucket: S3_ENDPOINT, S3_PUBLIC_ENDPOINT, S3_REGION, S3_BUCKET, the static keys, S3_WRITE_BUFFER_MIB. */
export function s3Config(env: S3Env) {
  const { S3_ACCESS_KEY_ID: accessKeyId, S3_SECRET_ACCESS_KEY: secretAccessKey } = env;
  return {
    endpoint: env.S3_ENDPOINT,
    publicEndpoint: env.S3_PUBLIC_ENDPOINT,
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    /** Static keys; undefined: the AWS SDK's default chain (validation has both set or neither). */
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey }
        : undefined,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    /** The memory streamed writes to S3 may hold at once. */
    writeBufferBytes: env.S3_WRITE_BUFFER_MIB * 1024 * 1024,
  };
}
export type S3Config = ReturnType<typeof s3Config>;
