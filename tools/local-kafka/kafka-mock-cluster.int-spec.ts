import { randomUUID } from 'node:crypto';
import type { Consumer, EachMessagePayload, Kafka, Producer } from 'kafkajs';
import { Topic, TOPIC_PARTITIONS } from '@lib/contracts';
import { consumerConfig, createKafka, producerConfig, type KafkaLogger } from '@lib/kafka';
import {
  KafkaApiKey,
  KafkaErrorCode,
  platformTopics,
  startKafkaMockCluster,
  type KafkaMockCluster,
} from '@lib/testing';

/** Proves that kafkajs, configured by @lib/kafka, works against the local librdkafka mock cluster. */

interface LogLine {
  level: keyof KafkaLogger;
  message: string;
  fields: Record<string, unknown>;
}

/** Polls `probe` until it holds; fails after `timeoutMs`. Tests wait for conditions, not times. */
async function waitFor(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('local Kafka (librdkafka mock cluster) with kafkajs', () => {
  let cluster: KafkaMockCluster;
  let kafka: Kafka;
  const logs: LogLine[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  const record =
    (level: keyof KafkaLogger) =>
    (fields: object, message = '') =>
      logs.push({ level, message, fields: fields as Record<string, unknown> });
  const logger: KafkaLogger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
  };

  const uniqueTopic = async (prefix: string): Promise<string> => {
    const name = `it.${prefix}.${randomUUID().slice(0, 8)}`;
    await cluster.createTopic(name, TOPIC_PARTITIONS);
    return name;
  };

  const connectedProducer = async (): Promise<Producer> => {
    const producer = kafka.producer(producerConfig());
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    return producer;
  };

  const leaders = async (topic: string): Promise<Map<number, number>> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return new Map(topics[0].partitions.map((p) => [p.partitionId, p.leader]));
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    cluster = await startKafkaMockCluster({ brokers: 3 });
    kafka = createKafka({ brokers: cluster.brokers, clientId: 'mock-cluster-int-spec', logger });
  });

  afterEach(async () => {
    await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
    logs.length = 0;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts 3 brokers with the platform topics, 6 partitions each, led by all brokers', async () => {
    expect(cluster.brokers).toHaveLength(3);
    for (const broker of cluster.brokers) expect(broker).toMatch(/^127\.0\.0\.1:\d+$/);

    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const names = Object.values(Topic);
    expect(platformTopics().map((t) => t.name)).toEqual(names);
    const { topics } = await admin.fetchTopicMetadata({ topics: names });

    expect(topics.map((t) => t.name).sort()).toEqual([...names].sort());
    for (const topic of topics) {
      expect(topic.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      for (const p of topic.partitions) expect([1, 2, 3]).toContain(p.leader);
    }
    const allLeaders = new Set(topics.flatMap((t) => t.partitions.map((p) => p.leader)));
    expect([...allLeaders].sort()).toEqual([1, 2, 3]);
  });

  it('answers launcher commands with ok, and rejects bad ones', async () => {
    await expect(cluster.command('ping')).resolves.toBeUndefined();
    await expect(cluster.command('no-such-command')).rejects.toThrow(/unknown command/);
    await expect(cluster.brokerDown(99)).rejects.toThrow(/down 99/);
    await expect(cluster.command('ping\nping')).rejects.toThrow(/single line/);
    // Serialized: concurrent commands each get their own answer.
    const results = await Promise.allSettled([
      cluster.command('ping'),
      cluster.command('rtt 1 x'),
      cluster.setRtt(-1, 0),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('round-trips a message (key, value, headers) with consumerConfig', async () => {
    const topic = await uniqueTopic('roundtrip');
    const producer = await connectedProducer();
    const consumer = kafka.consumer(consumerConfig(`it-roundtrip-${randomUUID()}`));
    cleanups.unshift(() => consumer.disconnect());
    const received: EachMessagePayload[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async (payload) => {
        received.push(payload);
        return Promise.resolve();
      },
    });

    const [meta] = await producer.send({
      topic,
      messages: [{ key: 'run-1', value: '{"hello":"kafka"}', headers: { 'ce-id': 'evt-1' } }],
    });
    expect(meta.errorCode).toBe(0);

    await waitFor('the message to be consumed', () => received.length > 0);
    const [{ message, partition }] = received;
    expect(partition).toBe(meta.partition);
    expect(message.key?.toString()).toBe('run-1');
    expect(message.value?.toString()).toBe('{"hello":"kafka"}');
    expect(message.headers?.['ce-id']?.toString()).toBe('evt-1');
  });

  it('keeps producing while a leader is down, and completes its sends once it is back up', async () => {
    const topic = await uniqueTopic('broker-down');
    const producer = await connectedProducer();
    const leaderOf = await leaders(topic);
    const down = leaderOf.get(0)!;
    const otherPartition = [...leaderOf].find(([, leader]) => leader !== down)![0];
    await producer.send({ topic, messages: [{ partition: 0, value: 'warm-up' }] });

    await cluster.brokerDown(down);
    let upAgain = false;
    try {
      const blocked = producer.send({
        topic,
        messages: [{ partition: 0, value: 'during-outage' }],
      });
      blocked.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile

      // Partitions led by the other brokers are unaffected.
      const [other] = await producer.send({
        topic,
        messages: [{ partition: otherPartition, value: 'other-leader' }],
      });
      expect(other.errorCode).toBe(0);

      // The send to the downed leader is failing and being retried...
      const address = cluster.brokers[down - 1];
      await waitFor('a refused connection to the downed broker', () =>
        logs.some((l) => l.level === 'error' && l.message.includes(address)),
      );
      // ...and completes once the broker is back.
      await cluster.brokerUp(down);
      upAgain = true;
      const [sent] = await blocked;
      expect(sent).toMatchObject({ partition: 0, errorCode: 0 });
    } finally {
      if (!upAgain) await cluster.brokerUp(down);
    }
  });

  it('retries Produce through injected NOT_LEADER and REQUEST_TIMED_OUT errors', async () => {
    const topic = await uniqueTopic('produce-errors');
    const producer = await connectedProducer();
    await producer.send({ topic, messages: [{ partition: 1, value: 'warm-up' }] });

    await cluster.pushRequestErrors(
      KafkaApiKey.Produce,
      KafkaErrorCode.NotLeaderForPartition,
      KafkaErrorCode.RequestTimedOut,
      KafkaErrorCode.NotLeaderForPartition,
    );
    const [sent] = await producer.send({ topic, messages: [{ partition: 1, value: 'retried' }] });
    expect(sent).toMatchObject({ partition: 1, errorCode: 0 });

    // The errors really were served (and retried), and no failed attempt appended the message.
    const produceErrors = logs.filter((l) => l.message.startsWith('Response Produce'));
    expect(produceErrors.map((l) => l.fields.error)).toEqual([
      'This server is not the leader for that topic-partition',
      'The request timed out',
      'This server is not the leader for that topic-partition',
    ]);
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.find((o) => o.partition === 1)?.high).toBe('2');
  });

  it('rebalances a group onto a second consumer without crashing either (quirk 1)', async () => {
    const topic = await uniqueTopic('group');
    const groupId = `it-group-${randomUUID()}`;
    const assignments = new Map<string, number[]>();
    const crashes: unknown[] = [];
    const receivedBy = new Map<number, string>(); // partition → consumer

    const start = async (name: string): Promise<Consumer> => {
      const consumer = kafka.consumer(consumerConfig(groupId));
      cleanups.unshift(() => consumer.disconnect());
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
        assignments.set(name, payload.memberAssignment[topic] ?? []),
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => crashes.push(payload.error));
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ partition }) => {
          receivedBy.set(partition, name);
          return Promise.resolve();
        },
      });
      return consumer;
    };
    const noCrash = () => {
      if (crashes.length > 0) throw new Error(`consumer crashed: ${String(crashes[0])}`);
    };

    // The second member joining a stable group makes the first rejoin: a rebalance whose
    // SyncGroup ordering the mock mishandles (quirk 1; the stock assigner crashed b in ~1 of 6
    // runs). The mock holds the first join 3 s and the rebalance sessionTimeout - 1 s.
    await start('a');
    await waitFor('a to hold the whole topic', () => {
      noCrash();
      return assignments.get('a')?.length === 6;
    });
    await start('b');
    await waitFor(
      'both consumers to hold disjoint halves of the topic',
      () => {
        noCrash();
        const a = assignments.get('a') ?? [];
        const b = assignments.get('b') ?? [];
        const union = new Set([...a, ...b]);
        return a.length > 0 && b.length > 0 && union.size === 6 && a.length + b.length === 6;
      },
      30_000,
    );

    // Both consumers actually consume: one message per partition reaches its owner.
    const producer = await connectedProducer();
    await producer.send({
      topic,
      messages: Array.from({ length: 6 }, (_, partition) => ({
        partition,
        value: `p${partition}`,
      })),
    });
    await waitFor('every partition to be consumed', () => receivedBy.size === 6, 20_000);
    expect(new Set(receivedBy.values())).toEqual(new Set(['a', 'b']));
    for (const [partition, name] of receivedBy) {
      expect(assignments.get(name)).toContain(partition);
    }
    expect(crashes).toEqual([]);
  });
});
