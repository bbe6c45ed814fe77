import {
  ConfigurableModuleBuilder,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { CreateKafkaOptions, KafkaNames } from '@lib/kafka';
import { Metrics } from '@lib/observability';
import { DataSource } from 'typeorm';
import {
  createRelayKafka,
  OutboxRelay,
  type OutboxBacklog,
  type OutboxRelayOptions,
} from './outbox-relay';
import { OutboxWriter } from './outbox-writer';

export interface EventsPublisherOptions {
  /** CloudEvents `source` of this service's events, e.g. `/object-metadata`. */
  source: string;
  /** The relay's Kafka client (connection, clientId = the app name, logger). */
  kafka: CreateKafkaOptions;
  /** The environment's Kafka topic names (`KafkaNames.fromEnv`). Default: no prefix. */
  names?: KafkaNames;
  /** Relay tuning; `enabled: false` runs no relay in this process (e.g. a one-off CLI). */
  relay?: Omit<OutboxRelayOptions, 'dataSource' | 'kafka'> & { enabled?: boolean };
}

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<EventsPublisherOptions>()
    .setClassMethodName('forPublisher')
    .setExtras({ isGlobal: true }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build();

/** Starts the relay once the app is up and stops it (finishing its round) before the DataSource closes. */
@Injectable()
class OutboxRelayLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: EventsPublisherOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.relay?.enabled !== false) this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}

/** The relay's backlog, leadership and counters on `/metrics`, read at each scrape. */
@Injectable()
class OutboxRelayMetrics {
  constructor(relay: OutboxRelay, metrics: Metrics) {
    // One query per scrape for both backlog gauges: their collects run together and share it.
    let reading: Promise<OutboxBacklog> | undefined;
    const backlog = () =>
      (reading ??= relay
        .backlog()
        .catch(() => ({ count: NaN, oldestAgeMs: NaN }))
        .finally(() => (reading = undefined)));
    metrics.gauge({
      name: 'outbox_backlog_events',
      help: 'Events written to the outbox and not yet acknowledged by Kafka.',
      async collect() {
        this.set((await backlog()).count);
      },
    });
    metrics.gauge({
      name: 'outbox_oldest_event_age_seconds',
      help: 'Age of the oldest event not yet acknowledged by Kafka (0 when none waits).',
      async collect() {
        this.set((await backlog()).oldestAgeMs / 1000);
      },
    });
    metrics.gauge({
      name: 'outbox_relay_leader',
      help: 'This replica holds the relay lock and publishes the outbox (1), or stands by (0).',
      collect() {
        this.set(relay.counters().leader ? 1 : 0);
      },
    });
    const totals = {
      published: ['outbox_published_events_total', 'Events Kafka acknowledged.'],
      failedAttempts: [
        'outbox_failed_rounds_total',
        'Publish rounds that failed and were retried.',
      ],
    } as const;
    for (const [key, [name, help]] of Object.entries(totals) as [
      keyof typeof totals,
      (typeof totals)[keyof typeof totals],
    ][]) {
      metrics.counter({
        name,
        help,
        collect() {
          this.reset();
          this.inc(relay.counters()[key]);
        },
      });
    }
  }
}

/**
 * The publishing side of events in a Nest app: `OutboxWriter` to inject into services, and the
 * `OutboxRelay` of the app's schema, started at bootstrap. Needs the app's TypeORM `DataSource`
 * (`TypeOrmModule.forRoot*`) and the events migrations (`EVENTS_PUBLISHER_MIGRATIONS`).
 *
 * ```ts
 * EventsModule.forPublisherAsync({
 *   inject: [PlatformConfig],
 *   useFactory: (config: PlatformConfig) => ({
 *     source: '/object-metadata',
 *     kafka: { ...kafkaConnection(config.kafka!), clientId: 'object-metadata' },
 *     names: KafkaNames.fromConfig(config.kafka!),
 *   }),
 * })
 * ```
 * (what `eventsPublisherModule` of @lib/app does.)
 * ```
 * ```
 * Global by default (`isGlobal: false` to opt out).
 */
@Module({
  providers: [
    {
      provide: OutboxWriter,
      inject: [MODULE_OPTIONS_TOKEN],
      useFactory: (options: EventsPublisherOptions) => new OutboxWriter({ source: options.source }),
    },
    {
      provide: OutboxRelay,
      inject: [MODULE_OPTIONS_TOKEN, DataSource],
      useFactory: (options: EventsPublisherOptions, dataSource: DataSource) => {
        // `enabled` is the lifecycle's business; the rest is relay tuning.
        const tuning = { ...options.relay };
        delete tuning.enabled;
        return new OutboxRelay({
          ...tuning,
          dataSource,
          kafka: createRelayKafka(options.kafka),
          names: options.names,
        });
      },
    },
    OutboxRelayLifecycle,
    OutboxRelayMetrics,
  ],
  exports: [OutboxWriter, OutboxRelay],
})
export class EventsModule extends ConfigurableModuleClass {}
