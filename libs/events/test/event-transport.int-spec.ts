import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topic, type EventMap } from '@lib/contracts';
import { producerConfig } from '@lib/kafka';
import { startTestKafka, waitFor, type KafkaCluster } from '@lib/testing';
import { randomBytes } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import {
  buildCloudEvent,
  captureTraceHeaders,
  eventHeaders,
  EventTransport,
  type EventBatch,
} from '@lib/events';
import { runCreated, storageFileUpdated } from './factories';
import {
  CONSUMER_SCHEMA,
  createEventsTestDatabase,
  memoryLogger,
  openDataSource,
  testKafka,
  type EventsTestDatabase,
} from './harness';

/** What the handlers did: the events each call got. */
const calls: { topic: string; ids: string[] }[] = [];
/** Throws in the next `storage_file.updated` call once (after writing), when set. */
let failNextFileBatch = false;

/** A consumer as an app declares it: NestJS handlers, one per topic. */
@Controller()
class ConsumingController {
  @EventPattern(Topic.StorageFileUpdated)
  async files(@Payload() batch: EventBatch<typeof Topic.StorageFileUpdated>) {
    await this.record(Topic.StorageFileUpdated, batch);
    if (failNextFileBatch) {
      failNextFileBatch = false;
      throw new Error('the file handler failed');
    }
  }

  @EventPattern(Topic.RunCreated)
  async runs(@Payload() batch: EventBatch<typeof Topic.RunCreated>) {
    await this.record(Topic.RunCreated, batch);
  }

  /** A plain INSERT: an event reaching a handler twice (after a commit) would violate the primary key. */
  private async record(topic: string, batch: EventBatch<Topic>) {
    await batch.manager.query(
      `INSERT INTO ${CONSUMER_SCHEMA}.applied (event_id, topic) SELECT unnest($1::uuid[]), $2`,
      [batch.events.map((e) => e.id), topic],
    );
    calls.push({ topic, ids: batch.events.map((e) => e.id) });
  }
}

@Module({ controllers: [ConsumingController] })
class ConsumingModule {}

// `@EventPattern` handlers on the custom transport: the idempotent consumer's dedupe and retries, one
// call per batch, and Nest's lifecycle starting and stopping it.
describe(EventTransport.name, () => {
  let cluster: KafkaCluster;
  let db: EventsTestDatabase;
  let ds: DataSource;
  let producer: Producer;
  let transport: EventTransport;
  let app: INestMicroservice;

  const send = async <T extends Topic>(topic: T, key: string, data: EventMap[T], copies = 1) => {
    const event = buildCloudEvent(topic, data, { source: '/test', subject: key });
    const message = {
      key,
      value: JSON.stringify(event),
      headers: eventHeaders(event, captureTraceHeaders()),
    };
    await producer.send({ topic, messages: Array.from({ length: copies }, () => message) });
    return event.id;
  };
  const applied = () =>
    ds.query<{ event_id: string; topic: string }[]>(
      `SELECT event_id, topic FROM ${CONSUMER_SCHEMA}.applied`,
    );

  beforeAll(async () => {
    [cluster, db] = await Promise.all([startTestKafka(), createEventsTestDatabase()]);
    ds = await openDataSource(db.url, CONSUMER_SCHEMA);
    await ds.query(
      `CREATE TABLE ${CONSUMER_SCHEMA}.applied (event_id uuid PRIMARY KEY, topic text)`,
    );
    const kafka = testKafka(cluster.brokers);
    producer = kafka.producer(producerConfig());
    await producer.connect();
    transport = new EventTransport({
      kafka,
      groupId: `transport-${randomBytes(3).toString('hex')}`,
      dataSource: ds,
      logger: memoryLogger(),
      partitionsConsumedConcurrently: 6,
    });
    app = await NestFactory.createMicroservice(ConsumingModule, {
      strategy: transport,
      logger: false,
    });
    await app.listen();
  });

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await ds?.destroy();
    await Promise.all([cluster?.stop(), db?.drop()]);
  });

  it('should subscribe to the declared topics and hand each handler its events once', async () => {
    const file = await send(
      Topic.StorageFileUpdated,
      'obj_1',
      storageFileUpdated({ objectId: 'obj_1' }),
      3,
    );
    const run = await send(Topic.RunCreated, 'run_1', runCreated({ runId: 'run_1' }), 2);
    await waitFor('both events applied', async () => (await applied()).length === 2);
    expect(await applied()).toEqual(
      expect.arrayContaining([
        { event_id: file, topic: Topic.StorageFileUpdated },
        { event_id: run, topic: Topic.RunCreated },
      ]),
    );
    await waitFor('the duplicates counted', () => transport.counters().duplicates === 3);
    expect(transport.counters()).toMatchObject({ processed: 2, consuming: true });
  });

  it('should retry the whole round when a handler throws, its writes rolled back', async () => {
    failNextFileBatch = true;
    const before = calls.length;
    const file = await send(
      Topic.StorageFileUpdated,
      'obj_2',
      storageFileUpdated({ objectId: 'obj_2' }),
    );
    await waitFor('the event applied after the retry', async () =>
      (await applied()).some((r) => r.event_id === file),
    );
    const tries = calls.slice(before).filter((c) => c.ids.includes(file));
    expect(tries).toHaveLength(2); // the failed call, then the retry
    expect(transport.counters().failedBatches).toBeGreaterThanOrEqual(1);
  });

  it('should hand a batch to its handler in one call', async () => {
    const before = calls.length;
    // Same key, same partition, one produce request: kafkajs delivers them in one batch.
    await producer.send({
      topic: Topic.StorageFileUpdated,
      messages: [1, 2].map((version) => {
        const event = buildCloudEvent(
          Topic.StorageFileUpdated,
          storageFileUpdated({ objectId: 'obj_3', version }),
          { source: '/test', subject: 'obj_3' },
        );
        return { key: 'obj_3', value: JSON.stringify(event), headers: eventHeaders(event, {}) };
      }),
    });
    await waitFor('both versions applied', () =>
      calls.slice(before).reduce((n, c) => n + c.ids.length, 0) >= 2 ? true : undefined,
    );
    const round = calls.slice(before);
    expect(round).toHaveLength(1);
    expect(round[0].ids).toHaveLength(2);
  });

  it('should stop consuming when the app closes', async () => {
    await app.close();
    expect(transport.counters().consuming).toBe(false);
  });
});
