import { Topic } from '@lib/contracts';
import { startTestKafka, waitFor, type KafkaCluster } from '@lib/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { OutboxRelay, OutboxWriter } from '@lib/events';
import { storageFileUpdated } from './factories';
import {
  createEventsTestDatabase,
  memoryLogger,
  openDataSource,
  PUBLISHER_SCHEMA,
  testKafka,
  testRelayKafka,
  TopicCollector,
  type EventsTestDatabase,
} from './harness';

const OUTAGE_MS = 10_000;

describe(`${OutboxRelay.name} during a broker outage`, () => {
  let cluster: KafkaCluster;
  let db: EventsTestDatabase;
  let ds: DataSource;
  let kafka: Kafka;
  let relayKafka: Kafka;
  let relay: OutboxRelay | undefined;
  let collector: TopicCollector | undefined;

  beforeAll(async () => {
    [cluster, db] = await Promise.all([startTestKafka(), createEventsTestDatabase()]);
    ds = await openDataSource(db.url, PUBLISHER_SCHEMA);
    kafka = testKafka(cluster.brokers);
    relayKafka = testRelayKafka(cluster.brokers);
  });

  afterAll(async () => {
    await relay?.stop();
    await collector?.stop();
    await ds?.destroy();
    await Promise.all([cluster?.stop(), db?.drop()]);
  });

  it('should deliver every event, in per-key order, when all brokers come back after an outage', async () => {
    const writer = new OutboxWriter({ source: '/object-metadata' });
    const logger = memoryLogger();
    relay = new OutboxRelay({
      dataSource: ds,
      kafka: relayKafka,
      backoff: { initialMs: 100, maxMs: 2_000 },
      logger,
    });
    relay.start();
    // Connect the producer first, so the outage hits a running relay, not a cold start.
    const warmup = await ds.transaction((m) =>
      writer.append(
        m,
        Topic.StorageFileUpdated,
        'obj_warmup',
        storageFileUpdated({ objectId: 'obj_warmup' }),
      ),
    );
    await waitFor(
      'the warm-up event to be published',
      async () => (await relay!.backlog()).count === 0,
    );

    for (const node of cluster.nodes) await node.stop();
    const downAt = Date.now();

    // 200 events: 20 files x 10 versions, in 20 transactions of 10 (one version of every other file each).
    const keys = Array.from({ length: 20 }, (_, i) => `obj_outage_${i}`);
    const ids: string[] = [];
    for (let version = 1; version <= 10; version++) {
      for (const half of [keys.slice(0, 10), keys.slice(10)]) {
        const events = await ds.transaction((m) =>
          writer.appendMany(
            m,
            half.map((objectId) => ({
              topic: Topic.StorageFileUpdated,
              key: objectId,
              data: storageFileUpdated({ objectId, version }),
            })),
          ),
        );
        ids.push(...events.map((e) => e.id));
      }
    }
    expect(ids).toHaveLength(200);

    await waitFor('the relay to fail an attempt', () => relay!.counters().failedAttempts > 0, {
      timeoutMs: OUTAGE_MS + 20_000,
    });
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    const backlog = await relay.backlog();
    expect(backlog.count).toBe(200);
    expect(relay.counters().published).toBe(1);

    for (const node of cluster.nodes) await node.start();
    const upAt = Date.now();
    await waitFor('the backlog to drain', async () => (await relay!.backlog()).count === 0, {
      timeoutMs: 45_000,
      intervalMs: 50,
    });
    const drainedAt = Date.now();

    collector = new TopicCollector(kafka, [Topic.StorageFileUpdated]);
    await collector.start();
    await collector.waitForIds([warmup.id, ...ids]);

    const received = collector.withIds(ids);
    expect(new Set(received.map((m) => m.headers.ce_id)).size).toBe(200);
    for (const key of keys) {
      const versions = received
        .filter((m) => m.key === key)
        .map((m) => (JSON.parse(m.value ?? '') as { data: { version: number } }).data.version);
      expect([...new Set(versions)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
    console.info(
      `outage: ${upAt - downAt} ms down, backlog of 200 drained ${drainedAt - upAt} ms after the brokers came back; ` +
        `oldest event waited ${backlog.oldestAgeMs} ms before the broker came back; ` +
        `${relay.counters().failedAttempts} failed attempts; ${received.length} deliveries for 200 events`,
    );
  });
});
