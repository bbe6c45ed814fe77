import { ALL_TOPICS, Topic } from '@lib/contracts';
import { startTestKafka, type KafkaCluster } from '@lib/testing';
import { trace } from '@opentelemetry/api';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { OutboxRelay, OutboxWriter, type OutboxItem } from '@lib/events';
import {
  messageContracts,
  parseAsyncApi,
  violations,
  type MessageContract,
  type ParsedAsyncApi,
} from './asyncapi';
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
  type CollectedMessage,
  type EventsTestDatabase,
  type Tracing,
} from './harness';

type Json = Record<string, unknown>;

describe('AsyncAPI contract (docs/asyncapi.yaml)', () => {
  let parsed: ParsedAsyncApi;
  let contracts: Map<string, MessageContract>;
  let tracing: Tracing;
  let cluster: KafkaCluster;
  let db: EventsTestDatabase;
  let ds: DataSource;
  let kafka: Kafka;
  let relay: OutboxRelay;
  let collector: TopicCollector;
  /** One real message per topic, as consumed from the cluster after the relay published it. */
  const real = new Map<string, CollectedMessage>();

  beforeAll(async () => {
    parsed = await parseAsyncApi();
    contracts = parsed.document ? messageContracts(parsed.document) : new Map();
    tracing = startTracing();
    [cluster, db] = await Promise.all([startTestKafka(), createEventsTestDatabase()]);
    ds = await openDataSource(db.url, PUBLISHER_SCHEMA);
    kafka = testKafka(cluster.brokers);
    relay = new OutboxRelay({
      dataSource: ds,
      kafka: testRelayKafka(cluster.brokers),
      logger: memoryLogger(),
    });
    relay.start();
    collector = new TopicCollector(kafka, [...ALL_TOPICS]);
    await collector.start();

    const writer = new OutboxWriter({ source: '/object-metadata' });
    const items: OutboxItem[] = [
      {
        topic: Topic.StorageFileUpdated,
        key: 'obj_contract',
        data: storageFileUpdated({ objectId: 'obj_contract' }),
      },
      { topic: Topic.RunCreated, key: 'run_contract', data: runCreated({ runId: 'run_contract' }) },
      {
        topic: Topic.RunUpdated,
        key: 'run_contract',
        data: runUpdated({ runId: 'run_contract', reason: 'done' }),
      },
    ];
    const events = await trace
      .getTracer('test')
      .startActiveSpan('POST /api/v1/flows/run', async (span) => {
        const written = await ds.transaction((m) => writer.appendMany(m, items));
        span.end();
        return written;
      });
    await collector.waitForIds(events.map((e) => e.id));
    for (const m of collector.withIds(events.map((e) => e.id))) real.set(m.topic, m);
  });

  afterAll(async () => {
    await relay?.stop();
    await collector?.stop();
    await ds?.destroy();
    await Promise.all([cluster?.stop(), db?.drop()]);
    await tracing?.shutdown();
  });

  it('should parse as AsyncAPI 3.0.0 without errors and describe every platform topic', () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.document?.version()).toBe('3.0.0');
    expect([...contracts.keys()].sort()).toEqual([...ALL_TOPICS].sort());
  });

  it('should have examples that satisfy their own schemas', () => {
    for (const contract of contracts.values()) {
      expect(contract.examples.length).toBeGreaterThan(0);
      for (const example of contract.examples) {
        const value = example.payload as Json;
        const m = { key: String(value.subject), headers: example.headers as Json, value };
        expect([contract.topic, example.name, violations(contract, m)]).toEqual([
          contract.topic,
          example.name,
          [],
        ]);
      }
    }
  });

  it.each([...ALL_TOPICS])('should accept the real %s message the relay published', (topic) => {
    const m = real.get(topic)!;
    expect(m).toBeDefined();
    expect(m.headers.traceparent).toMatch(/^00-/);
    const message = { key: m.key, headers: m.headers, value: JSON.parse(m.value ?? '') as unknown };
    expect(violations(contracts.get(topic)!, message)).toEqual([]);
  });

  const tamperings: [
    string,
    (m: { key: string | null; headers: Json; value: Json }) => void,
    RegExp,
  ][] = [
    [
      'a required data field removed',
      (m) => delete (m.value.data as Json).orgId,
      /payload \/data must have required property 'orgId'/,
    ],
    [
      'an unknown enum value',
      (m) => ((m.value.data as Json).change = 'renamed'),
      /payload \/data\/change must be equal to one of/,
    ],
    [
      'an undeclared data field',
      (m) => ((m.value.data as Json).bucket = 'internal'),
      /payload \/data must NOT have additional properties/,
    ],
    [
      'a fractional size',
      (m) => ((m.value.data as Json).sizeBytes = 1.5),
      /payload \/data\/sizeBytes must be integer/,
    ],
    [
      'an actor without id',
      (m) => delete ((m.value.data as Json).actor as Json).id,
      /payload \/data\/actor must have required property 'id'/,
    ],
    [
      'another specversion',
      (m) => (m.value.specversion = '0.3'),
      /payload \/specversion must be equal to constant/,
    ],
    [
      'the type of another topic',
      (m) => (m.value.type = 'com.platform.run.created.v1'),
      /payload \/type must be equal to constant/,
    ],
    ['a non-UUID id', (m) => (m.value.id = 'evt-1'), /payload \/id must match format "uuid"/],
    ['no time', (m) => delete m.value.time, /payload \/ must have required property 'time'/],
    [
      'a malformed traceparent',
      (m) => (m.headers.traceparent = '01-abc'),
      /headers \/traceparent must match pattern/,
    ],
    [
      'no content-type header',
      (m) => delete m.headers['content-type'],
      /headers \/ must have required property 'content-type'/,
    ],
    ['an empty key', (m) => (m.key = ''), /key \/ must NOT have fewer than 1 characters/],
  ];

  it.each(tamperings)('should reject a real message with %s', (_what, tamper, expected) => {
    const m = real.get(Topic.StorageFileUpdated)!;
    const message = {
      key: m.key,
      headers: { ...m.headers } as Json,
      value: JSON.parse(m.value ?? '') as Json,
    };
    tamper(message);
    const problems = violations(contracts.get(Topic.StorageFileUpdated)!, message);
    expect(problems.join('\n')).toMatch(expected);
  });
});
