import { ALL_TOPICS, Topic } from '@lib/contracts';
import { startTestKafka, waitFor, type KafkaCluster } from '@lib/testing';
import { trace } from '@opentelemetry/api';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { OutboxEvent, OutboxRelay, OutboxWriter, type OutboxItem } from '@lib/events';
import { runCreated, runUpdated, storageFileUpdated } from './factories';
import {
  createEventsTestDatabase,
  memoryLogger,
  openDataSource,
  PUBLISHER_SCHEMA,
  startTracing,
  testKafka,
  testRelayKafka,
  TopicCollector,
  type EventsTestDatabase,
  type Tracing,
} from './harness';

describe(OutboxRelay.name, () => {
  let cluster: KafkaCluster;
  let db: EventsTestDatabase;
  let ds: DataSource;
  let kafka: Kafka;
  let relayKafka: Kafka;
  let collector: TopicCollector;
  let tracing: Tracing;
  const writer = new OutboxWriter({ source: '/object-metadata' });
  const relays: OutboxRelay[] = [];

  const newRelay = (opts: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) => {
    const relay = new OutboxRelay({
      dataSource: ds,
      kafka: relayKafka,
      pollIntervalMs: 1_000,
      standbyRetryMs: 200,
      backoff: { initialMs: 50, maxMs: 500 },
      logger: memoryLogger(),
      ...opts,
    });
    relays.push(relay);
    return relay;
  };

  const stopRelays = async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  };

  beforeAll(async () => {
    tracing = startTracing();
    [cluster, db] = await Promise.all([startTestKafka(), createEventsTestDatabase()]);
    ds = await openDataSource(db.url, PUBLISHER_SCHEMA);
    kafka = testKafka(cluster.brokers);
    relayKafka = testRelayKafka(cluster.brokers);
    collector = new TopicCollector(kafka, [...ALL_TOPICS]);
    await collector.start();
  });

  afterEach(stopRelays);

  afterAll(async () => {
    await stopRelays();
    await collector?.stop();
    await ds?.destroy();
    await Promise.all([cluster?.stop(), db?.drop()]);
    await tracing?.shutdown();
  });

  it('should map the entity exactly onto what the migration created', async () => {
    const sql = await ds.driver.createSchemaBuilder().log();
    expect(sql.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('should publish nothing when the transaction rolls back, and once with key, headers and a CloudEvent when it commits', async () => {
    newRelay().start();
    const key = 'obj_rollback_commit';
    const tracer = trace.getTracer('test');

    const rolledBack = storageFileUpdated({ objectId: key, version: 1 });
    let rolledBackId = '';
    await expect(
      ds.transaction(async (m) => {
        rolledBackId = (await writer.append(m, Topic.StorageFileUpdated, key, rolledBack)).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');

    const committed = storageFileUpdated({ objectId: key, version: 2 });
    const { event, traceparent } = await tracer.startActiveSpan('PUT /files', async (span) => {
      const e = await ds.transaction((m) =>
        writer.append(m, Topic.StorageFileUpdated, key, committed),
      );
      span.end();
      const { traceId, spanId } = span.spanContext();
      return { event: e, traceparent: `00-${traceId}-${spanId}-01` };
    });
    // A later event on the same key (same partition): once it is in, anything before it is too.
    const sentinel = await ds.transaction((m) =>
      writer.append(
        m,
        Topic.StorageFileUpdated,
        key,
        storageFileUpdated({ objectId: key, version: 3 }),
      ),
    );
    await collector.waitForIds([sentinel.id]);

    expect(collector.withIds([rolledBackId])).toHaveLength(0);
    expect(await ds.getRepository(OutboxEvent).countBy({ eventId: rolledBackId })).toBe(0);
    const received = collector.withIds([event.id]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      topic: 'storage_file.updated',
      key,
      headers: {
        'content-type': 'application/cloudevents+json',
        ce_id: event.id,
        ce_type: 'com.platform.storage_file.updated.v1',
        traceparent,
      },
    });
    expect(JSON.parse(received[0].value ?? '')).toEqual({
      specversion: '1.0',
      id: event.id,
      source: '/object-metadata',
      type: 'com.platform.storage_file.updated.v1',
      time: committed.occurredAt,
      subject: key,
      datacontenttype: 'application/json',
      data: committed,
    });
    const row = await ds.getRepository(OutboxEvent).findOneByOrFail({ eventId: event.id });
    expect(row.publishedAt).toBeInstanceOf(Date);
  });

  it('should let exactly one replica publish, and a standby take over when it stops', async () => {
    const a = newRelay();
    const b = newRelay();
    a.start();
    await waitFor('relay a to lead', () => a.counters().leader);
    b.start();
    await waitFor('relay b to try the lock', () => b.counters().lockAttempts >= 2);
    expect(b.counters().leader).toBe(false);

    const first = await ds.transaction((m) =>
      writer.append(m, Topic.RunCreated, 'run_failover', runCreated({ runId: 'run_failover' })),
    );
    await collector.waitForIds([first.id]);
    expect(b.counters().published).toBe(0);

    await a.stop();
    await waitFor('relay b to take over', () => b.counters().leader);
    const second = await ds.transaction((m) =>
      writer.append(m, Topic.RunUpdated, 'run_failover', runUpdated({ runId: 'run_failover' })),
    );
    await collector.waitForIds([second.id]);
    // The relay counts a publish once it marked the row, which may come after a subscriber has the message.
    await waitFor('relay b to count its publish', () => b.counters().published === 1);
  });

  it('should take the lock again and keep publishing when its Postgres connection is killed', async () => {
    const relay = newRelay();
    relay.start();
    await waitFor('the relay to lead', () => relay.counters().leader);
    const [{ pid }] = await ds.query<{ pid: number }[]>(
      // pg_locks is cluster-wide: only this database's relay, not another test run's.
      `SELECT pid FROM pg_locks
       WHERE locktype = 'advisory' AND classid = 7300115 AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    await ds.query('SELECT pg_terminate_backend($1)', [pid]);

    const event = await ds.transaction((m) =>
      writer.append(m, Topic.RunCreated, 'run_pg_kill', runCreated({ runId: 'run_pg_kill' })),
    );
    await collector.waitForIds([event.id]);
    // The killed session may hold the lock a moment longer, so the re-lead can take more than one attempt.
    const counters = relay.counters();
    expect(counters.leader).toBe(true);
    expect(counters.failedAttempts).toBeGreaterThan(0);
    expect(counters.lockAttempts).toBeGreaterThan(1);
  });

  it('should pause after a round that sent rows, so the rows committed meanwhile share the next round', async () => {
    const relay = newRelay({ gatherMs: 1_500 });
    relay.start();
    await waitFor('the relay to lead', () => relay.counters().leader);
    const append = (version: number) =>
      ds.transaction((m) =>
        writer.append(
          m,
          Topic.StorageFileUpdated,
          'obj_gather',
          storageFileUpdated({ objectId: 'obj_gather', version }),
        ),
      );

    const first = await append(1);
    await collector.waitForIds([first.id]);
    await waitFor('the relay to count its publish', () => relay.counters().published === 1);
    const rest = [];
    // Committed one by one while the relay pauses after its first round.
    for (let version = 2; version <= 6; version++) rest.push(await append(version));
    await collector.waitForIds(rest.map((e) => e.id));
    await waitFor('the relay to count the rest', () => relay.counters().published === 6);
    expect(relay.counters().batches).toBe(2);
  });

  it('should drain a large backlog in batches and prune published rows after retention', async () => {
    const relay = newRelay({ retentionMs: 1, pruneIntervalMs: 0 });
    const count = 5_000;
    const items: OutboxItem[] = Array.from({ length: count }, (_, i) => {
      const objectId = `obj_bulk_${i % 100}`;
      return {
        topic: Topic.StorageFileUpdated,
        key: objectId,
        data: storageFileUpdated({ objectId, version: Math.floor(i / 100) + 1, change: 'deleted' }),
      };
    });
    const events = await ds.transaction((m) => writer.appendMany(m, items));
    const started = Date.now();
    relay.start();
    await waitFor('the backlog to drain', async () => (await relay.backlog()).count === 0, {
      timeoutMs: 60_000,
    });
    const elapsedMs = Date.now() - started;
    await collector.waitForIds(
      events.map((e) => e.id),
      60_000,
    );
    // Not a threshold, a figure for the report.
    console.info(
      `relay throughput: ${count} events in ${elapsedMs} ms (${Math.round((count / elapsedMs) * 1000)}/s)`,
    );
    expect(relay.counters().batches).toBeGreaterThanOrEqual(count / 500);

    // Per key, versions arrive in order.
    const byKey = new Map<string, number[]>();
    for (const m of collector.withIds(events.map((e) => e.id))) {
      const versions = byKey.get(m.key ?? '') ?? [];
      versions.push((JSON.parse(m.value ?? '') as { data: { version: number } }).data.version);
      byKey.set(m.key ?? '', versions);
    }
    expect(byKey.size).toBe(100);
    for (const versions of byKey.values()) {
      expect(dedupeInOrder(versions)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    }

    // Pruning runs after each round here: one more round (any insert) deletes what retention allows.
    const last = await ds.transaction((m) =>
      writer.append(m, Topic.RunCreated, 'run_prune', runCreated()),
    );
    await collector.waitForIds([last.id]);
    await waitFor(
      'published rows to be pruned',
      async () => (await ds.getRepository(OutboxEvent).count()) <= 1,
    );
    expect(relay.counters().pruned).toBeGreaterThanOrEqual(count);
  });
});

/** First occurrences, in order (at-least-once may repeat a message). */
function dedupeInOrder<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
