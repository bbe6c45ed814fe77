import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Topic } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { Metrics } from '@lib/observability';
import { startTestKafka, waitFor, type KafkaCluster } from '@lib/testing';
import { logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import {
  EVENTS_PUBLISHER_ENTITIES,
  EventsModule,
  OutboxRelay,
  OutboxWriter,
  type EventsPublisherOptions,
} from '@lib/events';
import { runCreated } from './factories';
import {
  createEventsTestDatabase,
  memoryLogger,
  PUBLISHER_SCHEMA,
  type EventsTestDatabase,
} from './harness';

describe(EventsModule.name, () => {
  let cluster: KafkaCluster;
  let db: EventsTestDatabase;

  beforeAll(async () => {
    [cluster, db] = await Promise.all([startTestKafka(), createEventsTestDatabase()]);
  });

  afterAll(async () => {
    await Promise.all([cluster?.stop(), db?.drop()]);
  });

  it('should wire the writer and a running relay into a Nest app, and stop the relay on close', async () => {
    const options: EventsPublisherOptions = {
      source: '/flow-orchestrator',
      kafka: {
        brokers: cluster.brokers,
        clientId: 'flow-orchestrator',
        logLevel: logLevel.NOTHING,
      },
      relay: { logger: memoryLogger() },
    };

    // The app's metrics registry (MetricsModule without its HTTP route: this app context serves none).
    const metrics = new Metrics({ service: 'flow-orchestrator', defaultMetrics: false });
    @Global()
    @Module({ providers: [{ provide: Metrics, useValue: metrics }], exports: [Metrics] })
    class MetricsRegistryModule {}

    @Module({
      imports: [
        MetricsRegistryModule,
        TypeOrmModule.forRoot(
          dataSourceOptions({
            url: db.url,
            schema: PUBLISHER_SCHEMA,
            entities: EVENTS_PUBLISHER_ENTITIES,
          }),
        ),
        EventsModule.forPublisherAsync({ useFactory: () => options }),
      ],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    const relay = app.get(OutboxRelay);
    try {
      const writer = app.get(OutboxWriter);
      const event = await app
        .get(DataSource)
        .transaction((m) =>
          writer.append(m, Topic.RunCreated, 'run_nest', runCreated({ runId: 'run_nest' })),
        );
      expect(event.source).toBe('/flow-orchestrator');
      await waitFor('the relay to publish', () => relay.counters().published === 1);
      expect(relay.counters().leader).toBe(true);
      // The same, as /metrics shows it.
      const scraped = await metrics.registry.metrics();
      for (const line of [
        'outbox_published_events_total{service="flow-orchestrator"} 1',
        'outbox_relay_leader{service="flow-orchestrator"} 1',
        'outbox_backlog_events{service="flow-orchestrator"} 0',
        'outbox_oldest_event_age_seconds{service="flow-orchestrator"} 0',
      ]) {
        expect(scraped).toContain(line);
      }
    } finally {
      await app.close();
    }
    expect(relay.counters().leader).toBe(false);
  });
});
