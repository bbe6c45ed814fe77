import {
  DynamicModule,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import {
  configSection,
  PlatformConfig,
  type ConfigClass,
  type KafkaConfig,
  type PlatformSections,
  type S3Config,
} from '@lib/config';
import { dataSourceOptions, DatabaseSettings, pgPoolOf } from '@lib/database';
import {
  EventsModule,
  EventTransport,
  type EventTransportOptions,
  type IdempotentConsumerCounters,
} from '@lib/events';
import { createKafka, kafkaConnection, KafkaNames, type KafkaLogger } from '@lib/kafka';
import { createLogger, Metrics } from '@lib/observability';
import {
  ObjectStore,
  type WriteBuffers,
  s3CredentialProvider,
  SigningCredentials,
  type S3ClientOptions,
  type S3Settings,
} from '@lib/s3';

// The modules every app wires the same way; each app's AppModule lists what it uses of them.

@Module({})
class AppConfigModule {}

/**
 * The app's config, global: validated and built from the environment once (`config.load()`), injected as
 * `config` (the app's class) and as `PlatformConfig` (the sections the shared modules read). A bad
 * variable stops the app at boot, named.
 */
export function configModule<C extends PlatformSections>(config: ConfigClass<C>): DynamicModule {
  return {
    module: AppConfigModule,
    global: true,
    providers: [
      { provide: config, useFactory: () => config.load() },
      { provide: PlatformConfig, useExisting: config },
    ],
    exports: [config, PlatformConfig],
  };
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
 * TypeORM on the app's own schema, from the `database` config (DATABASE_URL, DATABASE_CA_FILE,
 * DATABASE_POOL_SIZE), and its
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
        inject: [PlatformConfig],
        useFactory: (config: PlatformConfig) => {
          const database = configSection(config, 'database');
          return dataSourceOptions({
            url: database.url,
            caFile: database.caFile,
            schema: opts.schema,
            entities: opts.entities,
            poolSize: database.poolSize,
            applicationName: opts.service,
          });
        },
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
 * A Kafka client's settings of the app: how it reaches the brokers (reads the TLS files: called once per
 * client, at boot), its client id and its logger.
 */
export function kafkaClientOptions(kafka: KafkaConfig, clientId: string, logLevel: string) {
  return { ...kafkaConnection(kafka), clientId, logger: kafkaLogger(clientId, logLevel) };
}

/** `OutboxWriter` and the outbox relay of the app's schema, publishing as `/<service>`. */
export function eventsPublisherModule(service: string): DynamicModule {
  return EventsModule.forPublisherAsync({
    inject: [PlatformConfig],
    useFactory: (config: PlatformConfig) => {
      const kafka = configSection(config, 'kafka');
      return {
        source: `/${service}`,
        kafka: kafkaClientOptions(kafka, service, config.app.logLevel),
        names: KafkaNames.fromConfig(kafka),
      };
    },
  });
}

/**
 * The app's `EventTransport`: the Kafka consumer group `groupId` (before the environment's prefix) on the
 * app's DataSource, with its `events_consumer_*` metrics. `bootstrapService(…, { eventTransport:
 * EventTransport })` connects it; controllers declare what they consume with `@EventPattern`.
 */
export function eventTransportProvider<C extends PlatformSections = PlatformSections>(
  groupId: string,
  options: (config: C) => Partial<EventTransportOptions> = () => ({}),
): Provider {
  return {
    provide: EventTransport,
    inject: [PlatformConfig, DataSource, Metrics],
    useFactory: (config: PlatformConfig, dataSource: DataSource, metrics: Metrics) => {
      const kafka = configSection(config, 'kafka');
      const transport = new EventTransport({
        kafka: createKafka(kafkaClientOptions(kafka, groupId, config.app.logLevel)),
        groupId,
        names: KafkaNames.fromConfig(kafka),
        dataSource,
        logger: new Logger(`EventTransport(${groupId})`),
        // The app's own config class (its type), which PlatformConfig is a view of.
        ...options(config as unknown as C),
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

/** The bucket's settings of `ObjectStore` from the app's `s3` config. */
export function s3Settings(s3: S3Config): S3Settings {
  return {
    endpoint: s3.endpoint,
    publicEndpoint: s3.publicEndpoint,
    region: s3.region,
    bucket: s3.bucket,
    credentials: s3.credentials,
    forcePathStyle: s3.forcePathStyle,
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

/** The write buffers of streamed S3 writes on `/metrics`: bytes held, and writes waiting for theirs. */
function countWriteBuffers(metrics: Metrics, buffers: WriteBuffers): void {
  metrics.gauge({
    name: 's3_write_buffer_bytes',
    help: `Bytes of streamed S3 writes held in memory, of ${buffers.capacity} (S3_WRITE_BUFFER_MIB).`,
    collect() {
      this.set(buffers.inUse);
    },
  });
  metrics.gauge({
    name: 's3_write_buffer_waiting',
    help: 'Streamed S3 writes waiting for write buffers (their uploads paused).',
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
        inject: [PlatformConfig],
        useFactory: (config: PlatformConfig): S3Settings => s3Settings(configSection(config, 's3')),
      },
      {
        provide: SigningCredentials,
        inject: [S3_SETTINGS],
        useFactory: (settings: S3Settings) =>
          SigningCredentials.load(s3CredentialProvider(settings)),
      },
      {
        provide: ObjectStore,
        inject: [S3_SETTINGS, SigningCredentials, Metrics, PlatformConfig],
        useFactory: (
          settings: S3Settings,
          credentials: SigningCredentials,
          metrics: Metrics,
          config: PlatformConfig,
        ) => {
          const store = new ObjectStore(settings, credentials, {
            onOperation: countS3Operations(metrics),
            writeBufferBytes: configSection(config, 's3').writeBufferBytes,
          });
          countWriteBuffers(metrics, store.writeBuffers);
          return store;
        },
      },
      ObjectStoreShutdown,
    ],
    exports: [S3_SETTINGS, SigningCredentials, ObjectStore],
  };
}
