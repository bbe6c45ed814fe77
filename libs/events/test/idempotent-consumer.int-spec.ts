import { Topic, type EventMap } from '@lib/contracts';
import { producerConfig } from '@lib/kafka';
import { startTestKafka, waitFor, type KafkaCluster } from '@lib/testing';
import { trace } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import type { Kafka, Message, Producer } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import {
  buildCloudEvent,
  captureTraceHeaders,
  DeadLetter,
  eventHeaders,
  IdempotentConsumer,
  ProcessedEvent,
  type CloudEvent,
  type ConsumedEvent,
} from '@lib/events';
import { runCreated, storageFileUpdated } from './factories';
import {
  CONSUMER_SCHEMA,
  createEventsTestDatabase,
  memoryLogger,
  openDataSource,
  startTracing,
  testKafka,
  type EventsTestDatabase,
  type Tracing,
} from './harness';

type Subscribed = typeof Topic.StorageFileUpdated | typeof Topic.RunCreated;

/** A message exactly as the relay would send it. */
function message<T extends Topic>(
  topic: T,
  key: string,
  data: EventMap[T],
): { event: CloudEvent; message: Message } {
  const event = buildCloudEvent(topic, data, {
    source: '/object-metadata',
    subject: key,
  }) as CloudEvent;
  return {
    event,
    message: {
      key,
      value: JSON.stringify(event),
      headers: eventHeaders(event, captureTraceHeaders()),
    },
  };
}

describe(IdempotentConsumer.name, () => {
  let tracing: Tracing;
  let cluster: KafkaCluster;
  let db: EventsTestDatabase;
  let ds: DataSource;
  let kafka: Kafka;
  let producer: Producer;
  let sut: IdempotentConsumer<Subscribed>;
  const groupId = `usage-aggregator-${randomBytes(3).toString('hex')}`;
  const logger = memoryLogger();
  /** Every event the handler was given, in order, with the trace it ran in. */
  const seen: { id: string; topic: string; traceId?: string }[] = [];
  /** The partitions of the events of each handler call (one call per transaction). */
  const calls: { ids: string[]; partitions: Set<number> }[] = [];
  /** Per-test extra behaviour of the handler (e.g. failing, or holding its transaction). */
  let beforeApply: (events: ConsumedEvent<Subscribed>[]) => void | Promise<void> = () => undefined;

  async function handler(manager: EntityManager, events: ConsumedEvent<Subscribed>[]) {
    await beforeApply(events);
    calls.push({
      ids: events.map((e) => e.id),
      partitions: new Set(events.map((e) => e.partition)),
    });
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    // A plain INSERT: a duplicate reaching the handler would violate the primary key and fail the test.
    await manager.query(
      `INSERT INTO ${CONSUMER_SCHEMA}.applied (event_id, topic, message_key, version)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[])`,
      [
        events.map((e) => e.id),
        events.map((e) => e.topic),
        events.map((e) => e.key),
        events.map((e) => {
          switch (e.topic) {
            case Topic.StorageFileUpdated:
              return e.data.version;
            case Topic.RunCreated:
              return 0;
          }
        }),
      ],
    );
    seen.push(...events.map((e) => ({ id: e.id, topic: e.topic, traceId })));
  }

  const appliedCount = async () =>
    Number((await ds.query(`SELECT count(*) AS n FROM ${CONSUMER_SCHEMA}.applied`))[0].n);

  beforeAll(async () => {
    tracing = startTracing();
    [cluster, db] = await Promise.all([startTestKafka(), createEventsTestDatabase()]);
    ds = await openDataSource(db.url, CONSUMER_SCHEMA);
    await ds.query(
      `CREATE TABLE ${CONSUMER_SCHEMA}.applied (event_id uuid PRIMARY KEY, topic text, message_key text, version int)`,
    );
    kafka = testKafka(cluster.brokers);
    producer = kafka.producer(producerConfig());
    await producer.connect();
    sut = new IdempotentConsumer({
      kafka,
      groupId,
      dataSource: ds,
      topics: [Topic.StorageFileUpdated, Topic.RunCreated],
      handler,
      logger,
      partitionsConsumedConcurrently: 6, // as the usage-aggregator: batches of partitions can arrive together
    });
    await sut.start();
  });

  afterAll(async () => {
    await sut?.stop();
    await producer?.disconnect();
    await ds?.destroy();
    await Promise.all([cluster?.stop(), db?.drop()]);
    await tracing?.shutdown();
  });

  afterEach(() => {
    beforeApply = () => undefined;
  });

  it('should apply each event once when duplicates are delivered, dead-letter poison messages and keep consuming', async () => {
    const key = 'obj_dup';
    const first = [1, 2, 3, 4, 5].map((version) =>
      message(Topic.StorageFileUpdated, key, storageFileUpdated({ objectId: key, version })),
    );
    const run = message(Topic.RunCreated, 'run_dup', runCreated({ runId: 'run_dup' }));
    const badData = message(Topic.StorageFileUpdated, key, storageFileUpdated({ objectId: key }));
    (badData.event.data as { sizeBytes: number }).sizeBytes = -1;
    const wrongType = message(Topic.RunCreated, key, runCreated());
    const poison: Message[] = [
      { key, value: 'not json {' },
      { key, value: '{"hello":"world"}' },
      { key, value: JSON.stringify(badData.event), headers: badData.message.headers },
      { key, value: wrongType.message.value },
      { key, value: null },
    ];
    const later = [6, 7, 8].map((version) =>
      message(Topic.StorageFileUpdated, key, storageFileUpdated({ objectId: key, version })),
    );

    const before = sut.counters();
    await producer.sendBatch({
      topicMessages: [
        { topic: Topic.RunCreated, messages: [run.message, run.message] },
        {
          topic: Topic.StorageFileUpdated,
          messages: [
            ...first.map((m) => m.message),
            ...first.map((m) => m.message), // the same events again, as after a relay re-send
            ...poison,
            ...later.map((m) => m.message),
          ],
        },
      ],
    });
    const good = [...first, run, ...later].map((m) => m.event.id);
    await waitFor(
      'the good events to be applied',
      async () => (await appliedCount()) === good.length,
    );
    await waitFor(
      'the poison messages to be dead-lettered',
      () => sut.counters().deadLettered - before.deadLettered === 5,
    );

    expect(seen.map((s) => s.id).sort()).toEqual([...good].sort());
    const versions = (
      await ds.query<{ version: number }[]>(
        `SELECT version FROM ${CONSUMER_SCHEMA}.applied WHERE message_key = $1`,
        [key],
      )
    ).map((r) => r.version);
    expect(versions.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await ds.getRepository(ProcessedEvent).count()).toBe(good.length);
    expect(sut.counters().duplicates - before.duplicates).toBe(6);

    const deadLetters = await ds.getRepository(DeadLetter).find({ order: { id: 'ASC' } });
    expect(deadLetters.map((d) => [d.topic, d.messageKey, d.reason])).toEqual([
      ['storage_file.updated', key, expect.stringMatching(/^value is not valid JSON/)],
      ['storage_file.updated', key, expect.stringMatching(/not a CloudEvent.*specversion/)],
      ['storage_file.updated', key, expect.stringMatching(/^invalid data: sizeBytes/)],
      ['storage_file.updated', key, expect.stringMatching(/not a CloudEvent.*type must be/)],
      ['storage_file.updated', key, 'empty value (tombstone)'],
    ]);
    expect(deadLetters[0].rawValue?.toString()).toBe('not json {');
    expect(deadLetters[2].headers.ce_id).toBe(badData.event.id);
    expect(deadLetters[4].rawValue).toBeNull();
  });

  it('should retry a failed batch without losing or repeating an event when the handler throws', async () => {
    const key = 'obj_retry';
    const msgs = [1, 2, 3].map((version) =>
      message(Topic.StorageFileUpdated, key, storageFileUpdated({ objectId: key, version })),
    );
    let failures = 0;
    // A TypeError on purpose: kafkajs alone would give up on it and stop the consumer.
    beforeApply = (events) => {
      if (events.some((e) => e.id === msgs[1].event.id) && failures < 2) {
        failures += 1;
        throw new TypeError('database unavailable');
      }
    };
    const before = sut.counters();
    const appliedBefore = await appliedCount();
    await producer.send({ topic: Topic.StorageFileUpdated, messages: msgs.map((m) => m.message) });

    await waitFor(
      'the three events to be applied',
      async () => (await appliedCount()) === appliedBefore + 3,
      {
        timeoutMs: 30_000,
      },
    );
    expect(failures).toBe(2);
    expect(sut.counters().failedBatches - before.failedBatches).toBe(2);
    const ids = msgs.map((m) => m.event.id);
    expect(seen.filter((s) => ids.includes(s.id)).map((s) => s.id)).toEqual(ids);
  });

  it('should apply the batches of several partitions that arrive during a transaction in the next one', async () => {
    const first = message(
      Topic.StorageFileUpdated,
      'obj_hold',
      storageFileUpdated({ objectId: 'obj_hold' }),
    );
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    beforeApply = async (events) => {
      if (!events.some((e) => e.id === first.event.id)) return;
      holding = true;
      await held;
    };
    const appliedBefore = await appliedCount();
    await producer.send({ topic: Topic.StorageFileUpdated, messages: [first.message] });
    await waitFor('the first transaction to be held', () => holding);
    const spread = Array.from({ length: 24 }, (_, i) =>
      message(
        Topic.StorageFileUpdated,
        `obj_spread_${i}`,
        storageFileUpdated({ objectId: `obj_spread_${i}` }),
      ),
    );
    await producer.send({
      topic: Topic.StorageFileUpdated,
      messages: spread.map((m) => m.message),
    });
    // Fetched meanwhile (fetches wait at most 100 ms): their batches wait for the held transaction.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    release();
    await waitFor(
      'every event to be applied',
      async () => (await appliedCount()) === appliedBefore + 1 + spread.length,
    );
    const ids = new Set(spread.map((m) => m.event.id));
    const together = calls.filter((c) => c.ids.some((id) => ids.has(id)));
    const partitions = Math.max(...together.map((c) => c.partitions.size));
    expect(partitions).toBeGreaterThan(1);
  });

  it('should run the handler in the trace of the transaction that wrote the event', async () => {
    const tracer = trace.getTracer('test');
    const { msg, traceId } = tracer.startActiveSpan('DELETE /files/x', (span) => {
      const m = message(
        Topic.StorageFileUpdated,
        'obj_traced',
        storageFileUpdated({ objectId: 'obj_traced' }),
      );
      span.end();
      return { msg: m, traceId: span.spanContext().traceId };
    });
    await producer.send({ topic: Topic.StorageFileUpdated, messages: [msg.message] });
    await waitFor('the traced event', () => seen.find((s) => s.id === msg.event.id));

    expect(seen.find((s) => s.id === msg.event.id)?.traceId).toBe(traceId);
    // The handler ran inside the batch's transaction; its span ends after the commit.
    const consumerSpan = await waitFor('the batch span to end', () =>
      tracing.exporter
        .getFinishedSpans()
        .find(
          (s) => s.name === 'process storage_file.updated' && s.spanContext().traceId === traceId,
        ),
    );
    expect(consumerSpan.parentSpanContext?.spanId).toBe(
      msg.message.headers?.traceparent?.toString().split('-')[2],
    );
  });

  it('should have committed the offsets of everything processed when stopped', async () => {
    await sut.stop();
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of [Topic.StorageFileUpdated, Topic.RunCreated]) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const ends = await admin.fetchTopicOffsets(topic);
        const byPartition = new Map(committed.partitions.map((p) => [p.partition, p.offset]));
        for (const end of ends) {
          const expected = end.high === '0' ? '-1' : end.high;
          expect([topic, end.partition, byPartition.get(end.partition)]).toEqual([
            topic,
            end.partition,
            expected,
          ]);
        }
      }
    } finally {
      await admin.disconnect();
    }
  });
});
