import { kafkaConfig, KafkaOnlyEnv, validateEnv } from '@lib/config';
import { ALL_TOPICS, Topic } from '@lib/contracts';
import { KafkaNames, producerConfig, provisionTopics } from '@lib/kafka';
import { startTestKafka, waitFor, type KafkaCluster } from '@lib/testing';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import {
  DeadLetter,
  IdempotentConsumer,
  OutboxRelay,
  OutboxWriter,
  type ConsumedEvent,
} from '@lib/events';
import { runCreated, storageFileUpdated } from './factories';
import {
  CONSUMER_SCHEMA,
  createEventsTestDatabase,
  memoryLogger,
  openDataSource,
  PUBLISHER_SCHEMA,
  testKafka,
  testRelayKafka,
  TopicCollector,
  type EventsTestDatabase,
} from './harness';

type Subscribed = typeof Topic.StorageFileUpdated | typeof Topic.RunCreated;

// Two environments on one Kafka cluster: the broker holds the platform's topics unprefixed (another
// environment's), and this one's, provisioned with KAFKA_TOPIC_PREFIX as the kafka-topics command does.
describe('Kafka names with an environment prefix', () => {
  const names = KafkaNames.fromConfig(
    kafkaConfig(
      validateEnv(KafkaOnlyEnv)({
        KAFKA_BROKERS: '127.0.0.1:9092',
        KAFKA_TOPIC_PREFIX: 'staging.',
        KAFKA_GROUP_PREFIX: 'staging-',
      }),
    ),
  );
  let cluster: KafkaCluster;
  let db: EventsTestDatabase;
  let publisherDs: DataSource;
  let consumerDs: DataSource;
  let kafka: Kafka;
  let collector: TopicCollector;
  let relay: OutboxRelay;
  let sut: IdempotentConsumer<Subscribed>;
  const consumed: { topic: string; id: string }[] = [];

  beforeAll(async () => {
    [cluster, db] = await Promise.all([startTestKafka(), createEventsTestDatabase()]);
    [publisherDs, consumerDs] = await Promise.all([
      openDataSource(db.url, PUBLISHER_SCHEMA),
      openDataSource(db.url, CONSUMER_SCHEMA),
    ]);
    kafka = testKafka(cluster.brokers);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const provisioned = await provisionTopics(
        admin,
        { partitions: 3, replicationFactor: 1, minInsyncReplicas: 1 },
        names.allTopics(),
      );
      expect(provisioned.map((t) => `${t.topic}: ${t.outcome}`).sort()).toEqual(
        ALL_TOPICS.map((t) => `staging.${t}: created`).sort(),
      );
    } finally {
      await admin.disconnect();
    }
    collector = new TopicCollector(kafka, [...ALL_TOPICS, ...names.allTopics()]);
    await collector.start();
    relay = new OutboxRelay({
      dataSource: publisherDs,
      kafka: testRelayKafka(cluster.brokers),
      names,
      pollIntervalMs: 200,
      logger: memoryLogger(),
    });
    relay.start();
    sut = new IdempotentConsumer({
      kafka,
      groupId: 'usage-aggregator',
      names,
      dataSource: consumerDs,
      topics: [Topic.StorageFileUpdated, Topic.RunCreated],
      handler: (_manager, events: ConsumedEvent<Subscribed>[]) => {
        consumed.push(...events.map((e) => ({ topic: e.topic, id: e.id })));
        return Promise.resolve();
      },
      logger: memoryLogger(),
    });
    await sut.start();
  });

  afterAll(async () => {
    await sut?.stop();
    await relay?.stop();
    await collector?.stop();
    await publisherDs?.destroy();
    await consumerDs?.destroy();
    await Promise.all([cluster?.stop(), db?.drop()]);
  });

  it('should publish the outbox to the prefixed topics and consume them in the prefixed group', async () => {
    const writer = new OutboxWriter({ source: '/object-metadata' });
    const [file, run] = await publisherDs.transaction(async (m) => [
      await writer.append(m, Topic.StorageFileUpdated, 'obj_1', storageFileUpdated()),
      await writer.append(m, Topic.RunCreated, 'run_1', runCreated()),
    ]);

    await collector.waitForIds([file.id, run.id]);
    expect(collector.withIds([file.id]).map((m) => m.topic)).toEqual([
      'staging.storage_file.updated',
    ]);
    expect(collector.withIds([run.id]).map((m) => m.topic)).toEqual(['staging.run.created']);
    // The handler sees platform topics, whatever the environment calls them.
    await waitFor('the consumer to apply both events', () => consumed.length === 2);
    expect(consumed).toEqual(
      expect.arrayContaining([
        { topic: 'storage_file.updated', id: file.id },
        { topic: 'run.created', id: run.id },
      ]),
    );

    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      expect(groups.map((g) => g.groupId)).toContain('staging-usage-aggregator');
      expect(groups.map((g) => g.groupId)).not.toContain('usage-aggregator');
    } finally {
      await admin.disconnect();
    }
  });

  it("should leave another environment's topics alone and dead-letter poison under the Kafka topic's name", async () => {
    const producer = kafka.producer(producerConfig());
    await producer.connect();
    try {
      // First in the unprefixed environment's topic, which this consumer never reads.
      await producer.send({
        topic: Topic.StorageFileUpdated,
        messages: [{ key: 'obj_other', value: 'not even JSON' }],
      });
      await producer.send({
        topic: names.topic(Topic.StorageFileUpdated),
        messages: [{ key: 'obj_poison', value: 'not JSON either' }],
      });
    } finally {
      await producer.disconnect();
    }

    const deadLetters = consumerDs.getRepository(DeadLetter);
    await waitFor(
      'the poison message to be dead-lettered',
      async () => (await deadLetters.count()) > 0,
    );
    const rows = await deadLetters.find();
    expect(rows.map((r) => ({ topic: r.topic, key: r.messageKey }))).toEqual([
      { topic: 'staging.storage_file.updated', key: 'obj_poison' },
    ]);
  });
});
