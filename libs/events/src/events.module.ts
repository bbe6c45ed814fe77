import {
  ConfigurableModuleBuilder,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { CreateKafkaOptions } from '@lib/kafka';
import { DataSource } from 'typeorm';
import { createRelayKafka, OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
import { OutboxWriter } from './outbox-writer';

export interface EventsPublisherOptions {
  /** CloudEvents `source` of this service's events, e.g. `/object-metadata`. */
  source: string;
  /** The relay's Kafka client (connection, clientId = the app name, logger). */
  kafka: CreateKafkaOptions;
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

/**
 * The publishing side of events in a Nest app: `OutboxWriter` to inject into services, and the
 * `OutboxRelay` of the app's schema, started at bootstrap. Needs the app's TypeORM `DataSource`
 * (`TypeOrmModule.forRoot*`) and the events migrations (`EVENTS_PUBLISHER_MIGRATIONS`).
 *
 * ```ts
 * EventsModule.forPublisherAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService<ObjectMetadataEnv, true>) => ({
 *     source: '/object-metadata',
 *     kafka: { ...kafkaConnection(config), clientId: 'object-metadata' },
 *   }),
 * })
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
        return new OutboxRelay({ ...tuning, dataSource, kafka: createRelayKafka(options.kafka) });
      },
    },
    OutboxRelayLifecycle,
  ],
  exports: [OutboxWriter, OutboxRelay],
})
export class EventsModule extends ConfigurableModuleClass {}
