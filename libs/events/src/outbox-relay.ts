import { Logger } from '@nestjs/common';
import { pgPoolOf } from '@lib/database';
import {
  KAFKA_RETRY,
  kafkaClientConfig,
  KafkaNames,
  producerConfig,
  type CreateKafkaOptions,
} from '@lib/kafka';
import type { Topic } from '@lib/contracts';
import {
  type Admin,
  Kafka,
  type Message,
  Partitioners,
  type PartitionMetadata,
  type Producer,
  type ProducerConfig,
  type RecordMetadata,
} from 'kafkajs';
import type { Notification, Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { backoffDelayMs, type BackoffOptions } from './backoff';
import { errorMessage, type EventsLogger } from './events-logger';
import { OUTBOX_NOTIFY_CHANNEL } from './outbox-notify';

export interface OutboxRelayOptions {
  /** The service's DataSource (Postgres); the outbox is in its schema. */
  dataSource: DataSource;
  /**
   * kafkajs client, preferably `createRelayKafka()` (short retry budget); the relay creates, connects and
   * disconnects its own producer on it.
   */
  kafka: Kafka;
  /** The environment's Kafka topic of each platform topic the outbox names. Default: no prefix. */
  names?: KafkaNames;
  /** Rows read and sent per round. Default 500. */
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (a missed notification costs at most this). Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * Pause after a round that sent rows, so that the rows committed meanwhile share the next round: under
   * load, at most one round (one Produce, one mark) per this long; an idle relay still sends a new row at
   * once. Default 25 ms.
   */
  gatherMs?: number;
  /** How often a standby replica tries to take over. Default 2000 ms. */
  standbyRetryMs?: number;
  /** Retry delays after a failed round (Kafka or Postgres). Default 200 ms doubling to 3 s, with jitter. */
  backoff?: BackoffOptions;
  /** Published rows are kept this long (for inspection and replay), then pruned. 0: delete on publish. Default 1 h. */
  retentionMs?: number;
  /** How often published rows past retention are pruned. Default 60 s. */
  pruneIntervalMs?: number;
  /** Overrides of `producerConfig()` and of the relay's own settings (`RELAY_PRODUCER`). */
  producer?: Partial<ProducerConfig>;
  logger?: EventsLogger;
}

/** Counters for metrics, all monotonic except `leader`. */
export interface OutboxRelayCounters {
  /** This replica holds the schema's relay lock and publishes. */
  leader: boolean;
  /** Events Kafka acknowledged (a re-send after a lost acknowledgement counts again). */
  published: number;
  /** Rounds that failed (Kafka or Postgres) and were retried after a backoff. */
  failedAttempts: number;
  /** Successful publish rounds. */
  batches: number;
  /** Published rows deleted after retention. */
  pruned: number;
  /** Times this replica asked for the relay lock (a standby's heartbeat). */
  lockAttempts: number;
}

export interface OutboxBacklog {
  /** Unpublished rows. */
  count: number;
  /** Age of the oldest unpublished row (0 when none): the lag to alert on. */
  oldestAgeMs: number;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  payload: string;
  headers: Record<string, string>;
}

/** A failed Kafka send, as opposed to a Postgres failure (which costs the dedicated connection). */
class PublishFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(`publish failed: ${errorMessage(cause)}`);
    this.name = 'PublishFailed';
  }
}

/**
 * Retry budget of the relay's Kafka client (connections, metadata): ~2 s (3 retries of 0.25, 0.5, 1 s) instead
 * of the platform's ~12 s, so that an outage goes back to the relay's own loop, which retries forever with its
 * backoff, records attempts on the rows and can be stopped promptly. With the platform budget, nested client
 * and producer retries made one send during a full outage take ~23 s to fail.
 */
export const RELAY_KAFKA_RETRY = { ...KAFKA_RETRY, maxRetryTime: 1_000, retries: 3 };

/**
 * The relay's producer: `producerConfig()` (idempotent, acks=all, one request in flight) with one retry per
 * send. Two failure modes of kafkajs 2.2 when a partition leader dies under load shape the relay:
 * - After a send whose outcome it cannot know (the leader died before answering), the idempotent producer's
 *   sequence numbers may no longer match the brokers': they refuse every later send to that partition with
 *   OUT_OF_ORDER_SEQUENCE_NUMBER, for as long as the producer lives. So a failed round replaces the producer
 *   (a new producer id starts its sequences afresh).
 * - A send kafkajs retries goes only to the brokers that have not answered yet, so the messages of a
 *   partition whose leadership moved to a broker that had already answered are never sent, and the send
 *   resolves (`sendMessages.js`: its per-broker response map outlives the retry). So the relay picks each
 *   message's partition itself (the default partitioner's, from the key) and fails the round unless Kafka
 *   acknowledged every partition it sent to.
 * A failed round is sent again whole; at-least-once delivery allows it (consumers dedupe by event id).
 */
const RELAY_PRODUCER: Partial<ProducerConfig> = {
  retry: { ...RELAY_KAFKA_RETRY, retries: 1 },
};

/** The kafkajs client to give an `OutboxRelay`: the platform's settings with `RELAY_KAFKA_RETRY`. */
export function createRelayKafka(opts: CreateKafkaOptions): Kafka {
  return new Kafka({ ...kafkaClientConfig(opts), retry: { ...RELAY_KAFKA_RETRY } });
}

// Namespace of the relay's advisory lock (the two-int4 form; the bigint form used by migrations is a distinct key).
const RELAY_LOCK_CLASS = 7_300_115;
const PRUNE_CHUNK = 10_000;

/**
 * Publishes a schema's outbox to Kafka: at-least-once, in id order, never dropping a row.
 *
 * - One active relay per schema: it holds `pg_try_advisory_lock` on a dedicated connection taken from the
 *   DataSource's pool; other replicas are standbys and retry every `standbyRetryMs`. If the leader dies,
 *   its session ends and the lock with it.
 * - Wakes on LISTEN/NOTIFY (the outbox trigger fires at commit) and polls every `pollIntervalMs` anyway.
 * - Reads up to `batchSize` unpublished rows in id order, sends them with one `sendBatch` (key, headers,
 *   value = the stored CloudEvent), and marks them published only after Kafka acknowledged them. Nothing is
 *   read again until that round is done, so per-key order holds (the producer has one request in flight).
 * - Any failure (brokers down, Produce errors, Postgres gone) is retried with capped exponential backoff
 *   and jitter, forever: rows stay until sent. The retry sends the whole round again, as does a crash after
 *   the send and before the mark, hence at-least-once and idempotent consumers.
 * - `stop()` finishes the round in flight, then releases the lock and disconnects the producer.
 */
export class OutboxRelay {
  private readonly logger: EventsLogger;
  private readonly schema: string;
  private readonly table: string;
  private producer: Producer;
  private admin?: Admin;
  /** Partitions per topic, read from Kafka when a topic is first sent to and again after a failed round. */
  private readonly partitionCounts = new Map<string, number>();
  private readonly partitionOf = Partitioners.DefaultPartitioner();
  private readonly names: KafkaNames;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly gatherMs: number;
  private readonly standbyRetryMs: number;
  private readonly retentionMs: number;
  private readonly pruneIntervalMs: number;

  private running = false;
  private loop?: Promise<void>;
  private client?: PoolClient;
  private connectionLost = false;
  private producerConnected = false;
  private notified = false;
  private lastPruneAt = 0;
  private wakeUp?: () => void;
  private readonly stats: OutboxRelayCounters = {
    leader: false,
    published: 0,
    failedAttempts: 0,
    batches: 0,
    pruned: 0,
    lockAttempts: 0,
  };

  constructor(private readonly opts: OutboxRelayOptions) {
    const { dataSource } = opts;
    if (dataSource.options.type !== 'postgres')
      throw new Error('OutboxRelay needs a Postgres DataSource');
    this.logger = opts.logger ?? new Logger(OutboxRelay.name);
    this.schema = dataSource.driver.schema ?? 'public';
    this.table = `${dataSource.driver.escape(this.schema)}.outbox`;
    this.producer = this.newProducer();
    this.names = opts.names ?? new KafkaNames();
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1_000;
    this.gatherMs = opts.gatherMs ?? 25;
    this.standbyRetryMs = opts.standbyRetryMs ?? 2_000;
    this.retentionMs = opts.retentionMs ?? 3_600_000;
    this.pruneIntervalMs = opts.pruneIntervalMs ?? 60_000;
  }

  /** Starts the relay loop in the background (it never throws; failures are logged and retried). */
  start(): void {
    if (this.loop) return;
    if (!this.opts.dataSource.isInitialized)
      throw new Error('OutboxRelay: initialize the DataSource first');
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the round in flight, releases the relay lock and disconnects the producer. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
  }

  /** The DataSource's pg pool (set when the DataSource is initialized). */
  private get pool(): Pool {
    return pgPoolOf(this.opts.dataSource);
  }

  /** A snapshot of the counters. */
  counters(): OutboxRelayCounters {
    return { ...this.stats };
  }

  /** Unpublished rows and the age of the oldest (through the pool: answers on standbys too). */
  async backlog(): Promise<OutboxBacklog> {
    const { rows } = await this.pool.query<{ count: string; age_ms: number | null }>(
      `SELECT count(*) AS count,
              (EXTRACT(EPOCH FROM now() - min(created_at)) * 1000)::float8 AS age_ms
       FROM ${this.table} WHERE published_at IS NULL`,
    );
    return {
      count: Number(rows[0].count),
      oldestAgeMs: Math.max(0, Math.round(rows[0].age_ms ?? 0)),
    };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!this.stats.leader && !(await this.tryLead())) {
          await this.sleep(this.standbyRetryMs, false);
          continue;
        }
        const sent = await this.publishRound();
        failures = 0;
        await this.pruneIfDue();
        // Nothing sent: wait for a notification (none came during the round). Some sent: pause so that
        // rows committed meanwhile share the next round. A full batch: go on at once.
        if (sent === 0) {
          if (!this.notified) await this.sleep(this.pollIntervalMs, true);
        } else if (sent < this.batchSize) await this.sleep(this.gatherMs, false);
      } catch (err) {
        failures += 1;
        this.stats.failedAttempts += 1;
        const delay = backoffDelayMs(failures, { maxMs: 3_000, ...this.opts.backoff });
        this.logger.warn(
          `outbox ${this.schema}: ${errorMessage(err)}; attempt ${failures}, retrying in ${delay} ms`,
        );
        // Kafka failed: keep the lock. Postgres failed: the connection (and maybe the lock) is suspect.
        if (!(err instanceof PublishFailed)) this.resign(true);
        await this.sleep(delay, false);
      }
    }
    this.resign(false);
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
    if (this.producerConnected) {
      this.producerConnected = false;
      await this.producer.disconnect().catch((err: unknown) => {
        this.logger.warn(`outbox ${this.schema}: producer disconnect: ${errorMessage(err)}`);
      });
    }
  }

  private newProducer(): Producer {
    return this.opts.kafka.producer(producerConfig({ ...RELAY_PRODUCER, ...this.opts.producer }));
  }

  /** After a failed send: a fresh producer (and producer id), and partition counts read again. */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    this.partitionCounts.clear();
    if (!this.producerConnected) return;
    this.producerConnected = false;
    await old.disconnect().catch((err: unknown) => {
      this.logger.warn(`outbox ${this.schema}: producer disconnect: ${errorMessage(err)}`);
    });
  }

  /**
   * The rows as kafkajs messages per Kafka topic (the environment's name of the row's topic), each with its
   * partition (the default partitioner's, by key).
   */
  private async partitioned(rows: OutboxRow[]): Promise<{ topic: string; messages: Message[] }[]> {
    const topics = groupByTopic(rows).map(({ topic, messages }) => ({
      topic: this.names.topic(topic as Topic),
      messages,
    }));
    const unknown = topics.map((t) => t.topic).filter((t) => !this.partitionCounts.has(t));
    if (unknown.length > 0) {
      if (!this.admin) {
        const admin = this.opts.kafka.admin();
        await admin.connect();
        this.admin = admin;
      }
      const metadata = await this.admin.fetchTopicMetadata({ topics: unknown });
      for (const topic of metadata.topics)
        this.partitionCounts.set(topic.name, topic.partitions.length);
    }
    for (const { topic, messages } of topics) {
      const partitionMetadata = Array.from(
        { length: this.partitionCounts.get(topic)! },
        (_, partitionId): PartitionMetadata => ({
          partitionId,
          leader: 0,
          partitionErrorCode: 0,
          replicas: [],
          isr: [],
        }),
      );
      for (const message of messages) {
        message.partition = this.partitionOf({ topic, partitionMetadata, message });
      }
    }
    return topics;
  }

  /** Takes the schema's relay lock on a dedicated connection; false (connection returned) if another holds it. */
  private async tryLead(): Promise<boolean> {
    this.stats.lockAttempts += 1;
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [RELAY_LOCK_CLASS, `outbox-relay:${this.schema}`],
      );
      if (!rows[0].locked) {
        client.release();
        return false;
      }
      this.connectionLost = false;
      // Listeners stay on the client after it is released (a late socket error on a released client must not
      // crash the process), so they only act while it is still the relay's connection.
      const lost = (err?: Error) => {
        if (this.client !== client) return;
        this.connectionLost = true;
        if (err) this.logger.warn(`outbox ${this.schema}: relay connection error: ${err.message}`);
      };
      client.on('error', lost);
      client.on('end', () => lost());
      client.on('notification', this.onNotification);
      await client.query(`LISTEN ${OUTBOX_NOTIFY_CHANNEL}`);
    } catch (err) {
      client.release(true);
      throw err;
    }
    this.client = client;
    this.stats.leader = true;
    this.logger.log(`outbox ${this.schema}: this replica is now the relay`);
    return true;
  }

  /** Drops the dedicated connection; destroying it ends the session, which releases the lock and LISTEN. */
  private resign(lost: boolean): void {
    const client = this.client;
    this.client = undefined;
    if (this.stats.leader && lost) this.logger.warn(`outbox ${this.schema}: resigning as relay`);
    this.stats.leader = false;
    if (!client) return;
    client.off('notification', this.onNotification);
    client.release(true);
  }

  private readonly onNotification = (msg: Notification): void => {
    if (msg.channel === OUTBOX_NOTIFY_CHANNEL && msg.payload === this.schema) {
      this.notified = true;
      this.wakeUp?.();
    }
  };

  /** One round: read a batch, send it, mark it. Returns how many rows were published. */
  private async publishRound(): Promise<number> {
    const client = this.client;
    if (!client || this.connectionLost) throw new Error('relay connection lost');
    this.notified = false;
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, topic, message_key, payload::text AS payload, headers
       FROM ${this.table} WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);

    try {
      if (!this.producerConnected) {
        await this.producer.connect();
        this.producerConnected = true;
      }
      const topicMessages = await this.partitioned(rows);
      checkAcknowledged(topicMessages, await this.producer.sendBatch({ topicMessages }));
    } catch (err) {
      await this.replaceProducer();
      await client
        .query(
          `UPDATE ${this.table} SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
          [ids, errorMessage(err).slice(0, 2_000)],
        )
        .catch(() => undefined); // bookkeeping only; the retry does not depend on it
      throw new PublishFailed(err);
    }

    await client.query(
      this.retentionMs > 0
        ? `UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::bigint[])`
        : `DELETE FROM ${this.table} WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    this.stats.published += rows.length;
    this.stats.batches += 1;
    return rows.length;
  }

  private async pruneIfDue(): Promise<void> {
    if (this.retentionMs <= 0 || !this.client) return;
    const now = Date.now();
    if (now - this.lastPruneAt < this.pruneIntervalMs) return;
    this.lastPruneAt = now;
    // Chunked so a large backlog of published rows never holds locks or WAL in one huge statement.
    for (;;) {
      const { rowCount } = await this.client.query(
        `DELETE FROM ${this.table} WHERE id IN (
           SELECT id FROM ${this.table}
           WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1::float8 / 1000)
           LIMIT ${PRUNE_CHUNK})`,
        [this.retentionMs],
      );
      this.stats.pruned += rowCount ?? 0;
      if ((rowCount ?? 0) < PRUNE_CHUNK || !this.running) return;
    }
  }

  /** Waits `ms`, or less if `stop()` is called, or (when `onNotify`) when the outbox gets rows. */
  private sleep(ms: number, onNotify: boolean): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // Notifications only cut a poll wait short, never a backoff; stop() cuts both.
      this.wakeUp = onNotify ? done : () => (this.running ? undefined : done());
    });
  }
}

/** Throws unless Kafka acknowledged every partition the messages went to (see `RELAY_PRODUCER`). */
function checkAcknowledged(
  sent: { topic: string; messages: Message[] }[],
  acknowledged: RecordMetadata[],
): void {
  const acks = new Set(
    acknowledged.filter((r) => r.errorCode === 0).map((r) => `${r.topicName}/${r.partition}`),
  );
  const missing = new Set<string>();
  for (const { topic, messages } of sent) {
    for (const { partition } of messages) {
      if (!acks.has(`${topic}/${partition}`)) missing.add(`${topic}/${partition}`);
    }
  }
  if (missing.size > 0) {
    throw new Error(
      `Kafka did not acknowledge ${[...missing].join(', ')}; sending the round again`,
    );
  }
}

/** Rows grouped per topic, each topic's messages in id order. */
function groupByTopic(rows: OutboxRow[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const row of rows) {
    const messages = byTopic.get(row.topic) ?? [];
    messages.push({ key: row.message_key, value: row.payload, headers: row.headers });
    byTopic.set(row.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
