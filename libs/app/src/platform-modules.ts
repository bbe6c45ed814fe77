import {
  DynamicModule,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { validateEnv, type KafkaOnlyEnv } from '@lib/config';
import { dataSourceOptions, DatabaseSettings, pgPoolOf } from '@lib/database';
import {
  EventsModule,
  EventTransport,
  type EventTransportOptions,
  type IdempotentConsumerCounters,
} from '@lib/events';
import {
  createKafka,
  kafkaConnectionFromEnv,
  KafkaNames,
  type KafkaConnection,
  type KafkaLogger,
} from '@lib/kafka';
import { createLogger, Metrics } from '@lib/observability';
import {
  ObjectStore,
  type PartBuffers,
  s3AccessKeys,
  s3CredentialProvider,
  SigningCredentials,
  type S3ClientOptions,
  type S3Settings,
} from '@lib/s3';

// The modules every app wires the same way; each app's AppModule lists what it uses of them.

/** The global, validated configuration: the app stops at boot naming each bad variable. */
export function configModule(envClass: new () => object): ReturnType<typeof ConfigModule.forRoot> {
  return ConfigModule.forRoot({
    isGlobal: true,
    cache: true,
    ignoreEnvFile: true,
    validate: validateEnv(envClass),
  });
}

interface DatabaseEnvShape {
  DATABASE_URL: string;
  DATABASE_CA_FILE?: string;
  DATABASE_POOL_SIZE: number;
}

/**
 * The app's Postgres pool on `/metrics`: connections open and idle, and queries waiting for one (the pool
 * is saturated while any wait).
 */
@Injectable()
class DatabasePoolMetrics {
  constructor(dataSource: DataSource, metrics: Metrics) {
    const pool = () => pgPoolOf(dataSource) as Pool | undefined;
    metrics.gauge({
      name: 'db_pool_connections',
      help: 'Connections of the Postgres pool: open (total) and idle.',
      labelNames: ['state'],
      collect() {
        this.set({ state: 'total' }, pool()?.totalCount ?? 0);
        this.set({ state: 'idle' }, pool()?.idleCount ?? 0);
      },
    });
    metrics.gauge({
      name: 'db_pool_waiting_queries',
      help: 'Queries waiting for a free connection of the Postgres pool (saturated while above 0).',
      collect() {
        this.set(pool()?.waitingCount ?? 0);
      },
    });
  }
}

@Module({})
class AppDatabaseModule {}

/**
 * TypeORM on the app's own schema, from DATABASE_URL, DATABASE_CA_FILE and DATABASE_POOL_SIZE, and its
 * pool's metrics (needs `MetricsModule`).
 */
export function databaseModule(opts: {
  service: string;
  schema: string;
  entities: DatabaseSettings['entities'];
}): DynamicModule {
  return {
    module: AppDatabaseModule,
    imports: [
      TypeOrmModule.forRootAsync({
        inject: [ConfigService],
        useFactory: (config: ConfigService<DatabaseEnvShape, true>) =>
          dataSourceOptions({
            url: config.get('DATABASE_URL', { infer: true }),
            caFile: config.get('DATABASE_CA_FILE', { infer: true }),
            schema: opts.schema,
            entities: opts.entities,
            poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }),
            applicationName: opts.service,
          }),
      }),
    ],
    providers: [DatabasePoolMetrics],
  };
}

/** kafkajs logs as JSON lines of the app's logger. */
export function kafkaLogger(service: string, level: string): KafkaLogger {
  return createLogger({ service, level }).child({ component: 'kafka' });
}

/**
 * How the app reaches Kafka (brokers, TLS, SASL), from its validated `WithKafka` settings: every Kafka
 * client of an app is built on it. Reads the TLS files, so it is called once per client, at boot.
 */
export function kafkaConnection(config: ConfigService<KafkaOnlyEnv, true>): KafkaConnection {
  const get = <K extends keyof KafkaOnlyEnv>(key: K) => config.get(key, { infer: true });
  return kafkaConnectionFromEnv({
    KAFKA_BROKERS: get('KAFKA_BROKERS'),
    KAFKA_SSL: get('KAFKA_SSL'),
    KAFKA_SSL_CA_FILE: get('KAFKA_SSL_CA_FILE'),
    KAFKA_SSL_CERT_FILE: get('KAFKA_SSL_CERT_FILE'),
    KAFKA_SSL_KEY_FILE: get('KAFKA_SSL_KEY_FILE'),
    KAFKA_SASL_MECHANISM: get('KAFKA_SASL_MECHANISM'),
    KAFKA_SASL_USERNAME: get('KAFKA_SASL_USERNAME'),
    KAFKA_SASL_PASSWORD: get('KAFKA_SASL_PASSWORD'),
    KAFKA_SASL_OAUTHBEARER_PROVIDER: get('KAFKA_SASL_OAUTHBEARER_PROVIDER'),
  });
}

/** The environment's names of the platform's topics and consumer groups (their prefixes). */
export function kafkaNames(config: ConfigService<KafkaOnlyEnv, true>): KafkaNames {
  return KafkaNames.fromEnv({
    KAFKA_TOPIC_PREFIX: config.get('KAFKA_TOPIC_PREFIX', { infer: true }),
    KAFKA_GROUP_PREFIX: config.get('KAFKA_GROUP_PREFIX', { infer: true }),
  });
}

type KafkaEnvShape = KafkaOnlyEnv & { LOG_LEVEL: string };

/** `OutboxWriter` and the outbox relay of the app's schema, publishing as `/<service>`. */
export function eventsPublisherModule(service: string): DynamicModule {
  return EventsModule.forPublisherAsync({
    inject: [ConfigService],
    useFactory: (config: ConfigService<KafkaEnvShape, true>) => ({
      source: `/${service}`,
      kafka: {
        ...kafkaConnection(config),
        clientId: service,
        logger: kafkaLogger(service, config.get('LOG_LEVEL', { infer: true })),
      },
      names: kafkaNames(config),
    }),
  });
}

/**
 * The app's `EventTransport`: the Kafka consumer group `groupId` (before the environment's prefix) on the
 * app's DataSource, with its `events_consumer_*` metrics. `bootstrapService(…, { eventTransport:
 * EventTransport })` connects it; controllers declare what they consume with `@EventPattern`.
 */
export function eventTransportProvider<Env extends KafkaEnvShape>(
  groupId: string,
  options: (config: ConfigService<Env, true>) => Partial<EventTransportOptions> = () => ({}),
): Provider {
  return {
    provide: EventTransport,
    inject: [ConfigService, DataSource, Metrics],
    useFactory: (appConfig: ConfigService<Env, true>, dataSource: DataSource, metrics: Metrics) => {
      const config = appConfig as unknown as ConfigService<KafkaEnvShape, true>;
      const transport = new EventTransport({
        kafka: createKafka({
          ...kafkaConnection(config),
          clientId: groupId,
          logger: kafkaLogger(groupId, config.get('LOG_LEVEL', { infer: true })),
        }),
        groupId,
        names: kafkaNames(config),
        dataSource,
        logger: new Logger(`EventTransport(${groupId})`),
        ...options(appConfig),
      });
      exportConsumerMetrics(metrics, () => transport.counters());
      return transport;
    },
  };
}

/** A consumer's state and counters on `/metrics`, read at each scrape. */
function exportConsumerMetrics(metrics: Metrics, counters: () => IdempotentConsumerCounters): void {
  metrics.gauge({
    name: 'events_consumer_consuming',
    help: 'The consumer is in its group and fetching (1), or not: Kafka unreachable, restarting (0).',
    collect() {
      this.set(counters().consuming ? 1 : 0);
    },
  });
  const totals = {
    processed: 'Events applied (first seen) and committed.',
    duplicates: 'Redelivered events skipped because their id was already applied.',
    deadLettered: 'Poison messages recorded in dead_letters.',
    failedBatches: 'Batches whose transaction failed and were retried.',
    crashes: 'Crashes of the Kafka consumer.',
  } as const;
  for (const [key, help] of Object.entries(totals) as [keyof typeof totals, string][]) {
    const name = `events_consumer_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
    metrics.counter({
      name,
      help,
      collect() {
        this.reset();
        this.inc(counters()[key]);
      },
    });
  }
}

interface S3EnvShape {
  S3_ENDPOINT?: string;
  S3_PUBLIC_ENDPOINT?: string;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_FORCE_PATH_STYLE: boolean;
  S3_WRITE_BUFFER_MIB: number;
}

/** The bucket's settings from the validated `WithS3` environment. */
export function s3Settings(config: ConfigService<S3EnvShape, true>): S3Settings {
  return {
    endpoint: config.get('S3_ENDPOINT', { infer: true }),
    publicEndpoint: config.get('S3_PUBLIC_ENDPOINT', { infer: true }),
    region: config.get('S3_REGION', { infer: true }),
    bucket: config.get('S3_BUCKET', { infer: true }),
    credentials: s3AccessKeys(
      config.get('S3_ACCESS_KEY_ID', { infer: true }),
      config.get('S3_SECRET_ACCESS_KEY', { infer: true }),
    ),
    forcePathStyle: config.get('S3_FORCE_PATH_STYLE', { infer: true }),
  };
}

/** The bucket's settings (`S3Settings`) in an app that imports `objectStoreModule`. */
export const S3_SETTINGS = Symbol('S3_SETTINGS');

/** Counts each S3 operation on `/metrics` by command and status (`S3ClientOptions.onOperation`). */
export function countS3Operations(metrics: Metrics): S3ClientOptions['onOperation'] {
  const requests = metrics.counter({
    name: 's3_operations_total',
    help: 'S3 operations by command and HTTP status (none: no answer, e.g. a network error).',
    labelNames: ['operation', 'status'],
  });
  return (operation, status) => requests.inc({ operation, status });
}

/** The part buffers of streamed S3 writes on `/metrics`: held, and writes waiting for one. */
function countPartBuffers(metrics: Metrics, buffers: PartBuffers): void {
  metrics.gauge({
    name: 's3_write_part_buffers',
    help: `Part buffers (5 MiB) of streamed S3 writes held, of ${buffers.capacity} (S3_WRITE_BUFFER_MIB).`,
    collect() {
      this.set(buffers.inUse);
    },
  });
  metrics.gauge({
    name: 's3_write_part_buffers_waiting',
    help: 'Streamed S3 writes waiting for a part buffer (their uploads paused).',
    collect() {
      this.set(buffers.queued);
    },
  });
}

@Injectable()
class ObjectStoreShutdown implements OnApplicationShutdown {
  constructor(private readonly store: ObjectStore) {}

  onApplicationShutdown(): void {
    this.store.close();
  }
}

@Module({})
class AppObjectStoreModule {}

/**
 * The bucket, global: its settings (`S3_SETTINGS`), the credentials presigned requests are signed with
 * (`SigningCredentials`, loaded once, renewed before they expire) and the `ObjectStore` the app moves bytes
 * with, its operations counted on `/metrics` (needs `MetricsModule`).
 */
export function objectStoreModule(): DynamicModule {
  return {
    module: AppObjectStoreModule,
    global: true,
    providers: [
      {
        provide: S3_SETTINGS,
        inject: [ConfigService],
        useFactory: (config: ConfigService<S3EnvShape, true>): S3Settings => s3Settings(config),
      },
      {
        provide: SigningCredentials,
        inject: [S3_SETTINGS],
        useFactory: (settings: S3Settings) =>
          SigningCredentials.load(s3CredentialProvider(settings)),
      },
      {
        provide: ObjectStore,
        inject: [S3_SETTINGS, SigningCredentials, Metrics, ConfigService],
        useFactory: (
          settings: S3Settings,
          credentials: SigningCredentials,
          metrics: Metrics,
          config: ConfigService<S3EnvShape, true>,
        ) => {
          const store = new ObjectStore(settings, credentials, {
            onOperation: countS3Operations(metrics),
            writeBufferBytes: config.get('S3_WRITE_BUFFER_MIB', { infer: true }) * 1024 * 1024,
          });
          countPartBuffers(metrics, store.partBuffers);
          return store;
        },
      },
      ObjectStoreShutdown,
    ],
    exports: [S3_SETTINGS, SigningCredentials, ObjectStore],
  };
}
