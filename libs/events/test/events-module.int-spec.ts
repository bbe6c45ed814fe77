import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Topic } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
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

    @Module({
      imports: [
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
    } finally {
      await app.close();
    }
    expect(relay.counters().leader).toBe(false);
  });
});
