import {
  appConfig,
  databaseConfig,
  httpConfig,
  kafkaConfig,
  redisConfig,
  s3Config,
} from './config-sections';
import { defineConfig } from './define-config';
import { AppEnv, KafkaOnlyEnv, WithDatabase, WithRedis, WithS3 } from './env.fragments';
import { InvalidEnvironmentError, validateEnv } from './validate-env';

class TestEnv extends WithS3(WithRedis(WithDatabase(AppEnv))) {}
const raw = {
  PORT: '3000',
  MANAGEMENT_PORT: '3100',
  DATABASE_URL: 'postgres://db/platform',
  REDIS_URL: 'redis://redis:6379',
  S3_BUCKET: 'platform',
};
const env = (more: Record<string, string> = {}) => validateEnv(TestEnv)({ ...raw, ...more });
const kafka = (more: Record<string, string> = {}) =>
  kafkaConfig(validateEnv(KafkaOnlyEnv)({ KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092', ...more }));

describe('config sections', () => {
  it('should map the process settings, durations in milliseconds', () => {
    expect(appConfig(env({ SHUTDOWN_GRACE_SECONDS: '5', LOG_LEVEL: 'debug' }))).toEqual({
      nodeEnv: 'development',
      logLevel: 'debug',
      shutdownGraceMs: 5_000,
    });
    expect(httpConfig(env())).toEqual({ port: 3000, managementPort: 3100 });
  });

  it('should map Postgres and Redis with their defaults', () => {
    expect(databaseConfig(env())).toEqual({
      url: 'postgres://db/platform',
      caFile: undefined,
      poolSize: 10,
    });
    expect(redisConfig(env())).toEqual({ url: 'redis://redis:6379', bullmqPrefix: 'platform' });
  });

  it('should map the bucket: static keys together, the write buffer in bytes', () => {
    expect(s3Config(env())).toEqual({
      endpoint: undefined,
      publicEndpoint: undefined,
      region: 'us-east-1',
      bucket: 'platform',
      credentials: undefined,
      forcePathStyle: true,
      writeBufferBytes: 64 * 1024 * 1024,
    });
    const keys = { S3_ACCESS_KEY_ID: 'AKID', S3_SECRET_ACCESS_KEY: 'secret-key' };
    expect(s3Config(env(keys)).credentials).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'secret-key',
    });
  });

  it('should split the brokers and keep TLS and SASL apart', () => {
    expect(kafka()).toEqual({
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
      tls: undefined,
      sasl: undefined,
      topicPrefix: '',
      groupPrefix: '',
    });
    const secured = kafka({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'platform',
      KAFKA_SASL_PASSWORD: 'secret',
      KAFKA_TOPIC_PREFIX: 'staging.',
      KAFKA_GROUP_PREFIX: 'staging-',
    });
    expect(secured).toMatchObject({
      tls: { caFile: undefined, certFile: undefined, keyFile: undefined },
      sasl: { mechanism: 'scram-sha-512', username: 'platform', password: 'secret' },
      topicPrefix: 'staging.',
      groupPrefix: 'staging-',
    });
  });
});

describe(defineConfig.name, () => {
  const Config = defineConfig(TestEnv, (e) => ({ app: appConfig(e), http: httpConfig(e) }));

  it('should build the nested config from the validated variables', () => {
    expect(Config.load(raw).http).toEqual({ port: 3000, managementPort: 3100 });
  });

  it('should build anew from each given environment', () => {
    expect(Config.load(raw)).not.toBe(Config.load(raw));
    expect(Config.load({ ...raw, PORT: '4000' }).http.port).toBe(4000);
  });

  it('should stop at an invalid environment, naming the variable', () => {
    expect(() => Config.load({ ...raw, PORT: 'eighty' })).toThrow(InvalidEnvironmentError);
    expect(() => Config.load({ ...raw, PORT: 'eighty' })).toThrow(/PORT/);
  });
});
