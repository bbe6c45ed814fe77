import { Logger } from '@nestjs/common';
import { consumerConfig, KafkaNames } from '@lib/kafka';
import { MicroBatcher } from '@lib/queue';
import type { EventMap, Topic } from '@lib/contracts';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
} from '@opentelemetry/api';
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { backoffDelayMs } from './backoff';
import { envelopeProblem, type CloudEvent } from './cloud-event';
import { validateEventData } from './event-validation';
import { errorMessage, type EventsLogger } from './events-logger';
import { contextFromHeaders, headersToStrings, linkTo, stripNul } from './trace-context';

/** A consumed, validated, first-seen event. Discriminated on `topic`, so a `switch` narrows `data`. */
export type ConsumedEvent<T extends Topic = Topic> = {
  [K in T]: {
    topic: K;
    /** CloudEvent id (lower case). */
    id: string;
    key: string | null;
    partition: number;
    offset: string;
    /** The envelope; its `data` is the validated payload, same as `data`. */
    envelope: CloudEvent<EventMap[K]>;
    data: EventMap[K];
    /** The producer's trace context (from `traceparent`), for per-event spans or logs. */
    traceContext: Context;
  };
}[T];

/**
 * Applies a batch of first-seen events, inside the transaction that records them as processed: write with
 * `manager` only, so effects and dedupe commit together. Throw to have the whole batch retried.
 */
export type EventBatchHandler<T extends Topic> = (
  manager: EntityManager,
  events: ConsumedEvent<T>[],
) => Promise<void>;

export interface IdempotentConsumerOptions<T extends Topic> {
  kafka: Kafka;
  /** The consumer group: the app name (house style), before the environment's prefix (`names`). */
  groupId: string;
  /** The environment's Kafka names of the group and the topics. Default: no prefix. */
  names?: KafkaNames;
  /** The consumer service's DataSource; `processed_events` and `dead_letters` are in its schema. */
  dataSource: DataSource;
  topics: readonly T[];
  handler: EventBatchHandler<T>;
  /** Where a group without committed offsets starts. Default true: a new projection replays the retained history. */
  fromBeginning?: boolean;
  /** Overrides of `consumerConfig(groupId)`. */
  consumer?: Partial<ConsumerConfig>;
  /**
   * Partitions whose batches kafkajs hands over at once (default 1): those arriving together share one
   * transaction.
   */
  partitionsConsumedConcurrently?: number;
  logger?: EventsLogger;
}

/** Counters for metrics (monotonic). */
export interface IdempotentConsumerCounters {
  /** Events handed to the handler and committed. */
  processed: number;
  /** Redelivered events dropped because their id was already processed. */
  duplicates: number;
  /** Poison messages recorded in `dead_letters`. */
  deadLettered: number;
  /** Batches whose transaction failed (handler or database) and were retried. */
  failedBatches: number;
  /** kafkajs consumer crashes (it restarts itself after retriable ones; the consumer after the others). */
  crashes: number;
  /** In a consumer group and fetching: false while Kafka is unreachable or the consumer is restarting. */
  consuming: boolean;
}

/** The counters of a consumer that has consumed nothing (and is not consuming). */
export function noConsumerCounters(): IdempotentConsumerCounters {
  return {
    processed: 0,
    duplicates: 0,
    deadLettered: 0,
    failedBatches: 0,
    crashes: 0,
    consuming: false,
  };
}

/** Wraps a handler/database failure so kafkajs always retries (it gives up on TypeError & co. otherwise). */
export class EventBatchError extends Error {
  readonly retriable = true;
  constructor(
    readonly topic: string,
    readonly partition: number,
    override readonly cause: unknown,
  ) {
    super(`${topic}[${partition}]: batch failed: ${errorMessage(cause)}`);
    this.name = 'EventBatchError';
  }
}

interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  reason: string;
}

type Parsed<T extends Topic> =
  { ok: true; event: ConsumedEvent<T> } | { ok: false; deadLetter: DeadLetterRow };

/** One partition's batch from kafkajs, parsed, waiting for the transaction it shares with others. */
interface PartitionBatch<T extends Topic> {
  events: ConsumedEvent<T>[];
  deadLetters: DeadLetterRow[];
}

/** What the shared transaction did with one partition's batch. */
interface PartitionOutcome {
  /** Events handed to the handler. */
  fresh: number;
  /** Events dropped as already processed (earlier, or earlier in the same transaction). */
  duplicates: number;
}

const tracer = trace.getTracer('@lib/events');

/**
 * A Kafka consumer with an exactly-once effect on the consumer's database:
 * - `eachBatch` (one partition's batch at a time): every message is parsed as a CloudEvent of its topic and
 *   its `data` checked against `EventClass[topic]` (its decorators compiled once, unknown fields tolerated).
 * - In ONE transaction: the batch's event ids go into `processed_events` (`ON CONFLICT DO NOTHING RETURNING`)
 *   and only the first-seen events reach the handler; poison messages (not JSON, not a CloudEvent, invalid
 *   data) go into `dead_letters`. Then the offsets are resolved and committed. The batches of several
 *   partitions (and topics) that arrive while a transaction runs, or in the same event-loop turn, share the
 *   next one: one transaction at a time, whose fixed cost (BEGIN, the dedupe insert, the handler's writes,
 *   COMMIT) is paid once for all of them instead of once per partition, and whose locks no concurrent
 *   transaction of this consumer waits for.
 * - A failed transaction (handler error, database down) resolves nothing and is thrown to kafkajs, which
 *   re-fetches from the last resolved offset with its retry backoff (and restarts the consumer if that runs
 *   out): nothing is skipped, nothing applied twice.
 * - The handler runs in the producer's trace context (one span per transaction, linked to every message's
 *   span).
 */
export class IdempotentConsumer<T extends Topic> {
  private readonly logger: EventsLogger;
  private readonly consumer: Consumer;
  private readonly processedTable: string;
  private readonly deadLetterTable: string;
  private readonly names: KafkaNames;
  private started = false;
  /** The connect loop in flight (`keepConsuming`), and how to cut its backoff short. */
  private connecting?: Promise<void>;
  private wakeUp?: () => void;
  /** Settles when the first connect attempt of `keepConsuming` has succeeded or failed. */
  private firstAttempt = Promise.resolve();
  /** Partition batches gathered into one transaction (see the class comment). */
  private readonly transactions: MicroBatcher<PartitionBatch<T>, PartitionOutcome>;
  private readonly stats = noConsumerCounters();

  constructor(private readonly opts: IdempotentConsumerOptions<T>) {
    this.logger = opts.logger ?? new Logger(`IdempotentConsumer(${opts.groupId})`);
    // No linger: a partition batch waiting for others would delay its broker's next fetch as long.
    this.transactions = new MicroBatcher({
      maxSize: 64,
      lingerMs: 0,
      maxInFlight: 1,
      run: (parts) => this.applyTogether(parts),
    });
    const driver = opts.dataSource.driver;
    const schema = driver.escape(driver.schema ?? 'public');
    this.processedTable = `${schema}.processed_events`;
    this.deadLetterTable = `${schema}.dead_letters`;
    this.names = opts.names ?? new KafkaNames();
    this.consumer = opts.kafka.consumer(
      consumerConfig(this.names.group(opts.groupId), opts.consumer),
    );
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, () => (this.stats.consuming = true));
    this.consumer.on(events.STOP, () => (this.stats.consuming = false));
    this.consumer.on(events.CRASH, ({ payload }) => {
      this.stats.crashes += 1;
      this.stats.consuming = false;
      this.logger.error(
        `consumer ${opts.groupId} crashed (${errorMessage(payload.error)}); restart: ${payload.restart}`,
      );
      // kafkajs gives up after a crash it deems final: start over, as at boot.
      if (!payload.restart && this.started) this.connecting ??= this.keepConsuming();
    });
  }

  /**
   * Connects, subscribes and starts consuming. Resolves once running (before the group is joined), or after
   * a first failed attempt: while Kafka is unreachable the consumer keeps trying in the background, with
   * backoff, so the app starts and stays up and `consuming` says it is not consuming.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.connecting = this.keepConsuming();
    await Promise.race([this.connecting, this.firstAttempt]);
  }

  /** Tries to connect, subscribe and run until it succeeds or the consumer is stopped. */
  private async keepConsuming(): Promise<void> {
    let settleFirst!: () => void;
    this.firstAttempt = new Promise((resolve) => (settleFirst = resolve));
    for (let attempt = 1; this.started; attempt++) {
      try {
        await this.consumer.connect();
        await this.consumer.subscribe({
          topics: this.opts.topics.map((topic) => this.names.topic(topic)),
          fromBeginning: this.opts.fromBeginning ?? true,
        });
        await this.consumer.run({
          partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 1,
          eachBatchAutoResolve: false,
          eachBatch: (payload) => this.eachBatch(payload),
        });
        break;
      } catch (err) {
        await this.consumer.disconnect().catch(() => undefined);
        const delay = backoffDelayMs(attempt, { maxMs: 10_000 });
        this.logger.warn(
          `consumer ${this.opts.groupId} cannot start (${errorMessage(err)}); attempt ${attempt}, retrying in ${delay} ms`,
        );
        settleFirst();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = undefined;
      }
    }
    settleFirst();
    this.connecting = undefined;
  }

  /** Stops retrying, waits for the batch in flight, commits resolved offsets, leaves the group. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.wakeUp?.();
    await this.connecting;
    await this.consumer.disconnect();
    this.stats.consuming = false;
  }

  /** The kafkajs consumer, for instrumentation events (GROUP_JOIN, ...). */
  get kafkaConsumer(): Consumer {
    return this.consumer;
  }

  counters(): IdempotentConsumerCounters {
    return { ...this.stats };
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
  }: EachBatchPayload) {
    if (batch.messages.length === 0) return;
    // `batch.topic` is the Kafka topic (with the environment's prefix): logs and dead letters name it.
    const { topic: kafkaTopic, partition } = batch;
    const topic = this.names.platformTopic(kafkaTopic) as T;
    const part: PartitionBatch<T> = { events: [], deadLetters: [] };
    for (const message of batch.messages) {
      const p = this.parse(topic, kafkaTopic, partition, message);
      if (p.ok) part.events.push(p.event);
      else part.deadLetters.push(p.deadLetter);
    }
    let outcome: PartitionOutcome;
    try {
      outcome = await this.transactions.submit(part);
    } catch (err) {
      this.stats.failedBatches += 1;
      this.logger.warn(
        `${kafkaTopic}[${partition}] offsets ${batch.firstOffset()}..${batch.lastOffset()}: ${errorMessage(err)}; retrying`,
      );
      throw new EventBatchError(kafkaTopic, partition, err);
    }
    this.stats.processed += outcome.fresh;
    this.stats.duplicates += outcome.duplicates;
    this.stats.deadLettered += part.deadLetters.length;
    for (const d of part.deadLetters) {
      this.logger.warn(`${kafkaTopic}[${d.partition}]@${d.offset} dead-lettered: ${d.reason}`);
    }
    resolveOffset(batch.messages[batch.messages.length - 1].offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  /**
   * The one transaction of gathered partition batches, in a span linked to every message's: dedupe, dead
   * letters, handler. Throws (every batch is then retried) or answers each batch's outcome.
   */
  private async applyTogether(
    parts: PartitionBatch<T>[],
  ): Promise<Map<PartitionBatch<T>, PartitionOutcome>> {
    const events = parts.flatMap((p) => p.events);
    const deadLetters = parts.flatMap((p) => p.deadLetters);
    const topics = [
      ...new Set(
        parts.flatMap((p) => [
          ...p.events.map((e) => this.names.topic(e.topic)),
          ...p.deadLetters.map((d) => d.topic),
        ]),
      ),
    ];
    const parent = sharedParent(events);
    const span = tracer.startSpan(
      `process ${topics.join(', ')}`,
      {
        kind: SpanKind.CONSUMER,
        links: events.map((e) => linkTo(e.traceContext)).filter((l): l is Link => !!l),
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topics.join(','),
          'messaging.consumer.group.name': this.opts.groupId,
          'messaging.batch.message_count': events.length + deadLetters.length,
        },
      },
      parent,
    );
    let fresh: Set<ConsumedEvent<T>>;
    try {
      fresh = await context.with(trace.setSpan(parent, span), () =>
        this.opts.dataSource.transaction((manager) => this.apply(manager, events, deadLetters)),
      );
      span.end();
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
      span.end();
      throw err;
    }
    return new Map(
      parts.map((p) => {
        const n = p.events.filter((e) => fresh.has(e)).length;
        return [p, { fresh: n, duplicates: p.events.length - n }];
      }),
    );
  }

  /**
   * The transaction: dedupe (by event id, also within the batch), dead letters, handler. Returns the
   * first-seen events.
   */
  private async apply(
    manager: EntityManager,
    events: ConsumedEvent<T>[],
    deadLetters: DeadLetterRow[],
  ): Promise<Set<ConsumedEvent<T>>> {
    const unique = new Map<string, ConsumedEvent<T>>();
    for (const e of events) if (!unique.has(e.id)) unique.set(e.id, e);
    let fresh: ConsumedEvent<T>[] = [];
    if (unique.size > 0) {
      const candidates = [...unique.values()];
      const inserted = await manager.query<{ event_id: string }[]>(
        `INSERT INTO ${this.processedTable} (event_id, topic)
         SELECT u.id, u.topic FROM unnest($1::uuid[], $2::text[]) AS u(id, topic)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id`,
        [candidates.map((e) => e.id), candidates.map((e) => e.topic)],
      );
      const freshIds = new Set(inserted.map((r) => r.event_id));
      fresh = candidates.filter((e) => freshIds.has(e.id));
    }
    if (deadLetters.length > 0) {
      await manager.query(
        `INSERT INTO ${this.deadLetterTable}
           (topic, "partition", "offset", message_key, raw_value, headers, reason)
         SELECT u.t, u.p, u.o, u.k, u.v, u.h, u.r
         FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bytea[], $6::jsonb[], $7::text[])
              AS u(t, p, o, k, v, h, r)
         ON CONFLICT ON CONSTRAINT dead_letters_position_key DO NOTHING`,
        [
          deadLetters.map((d) => d.topic),
          deadLetters.map((d) => d.partition),
          deadLetters.map((d) => d.offset),
          deadLetters.map((d) => d.key),
          deadLetters.map((d) => d.value),
          deadLetters.map((d) => JSON.stringify(d.headers)),
          deadLetters.map((d) => d.reason),
        ],
      );
    }
    if (fresh.length > 0) await this.opts.handler(manager, fresh);
    return new Set(fresh);
  }

  /**
   * A message as a validated event, or as the dead letter to record. Never throws. Synchronous and lean: it
   * runs once per message, so only the trace headers are decoded unless the message is dead-lettered. A dead
   * letter names the Kafka topic it was read from.
   */
  private parse(topic: T, kafkaTopic: string, partition: number, message: KafkaMessage): Parsed<T> {
    const key = message.key ? stripNul(message.key.toString('utf8')) : null;
    const dead = (reason: string): Parsed<T> => ({
      ok: false,
      deadLetter: {
        topic: kafkaTopic,
        partition,
        offset: message.offset,
        key,
        value: message.value,
        headers: headersToStrings(message.headers),
        reason: stripNul(reason).slice(0, 2_000),
      },
    });

    if (!message.value || message.value.length === 0) return dead('empty value (tombstone)');
    let value: unknown;
    try {
      value = JSON.parse(message.value.toString('utf8'));
    } catch (err) {
      return dead(`value is not valid JSON: ${errorMessage(err)}`);
    }
    const problem = envelopeProblem(value, topic);
    if (problem) return dead(`not a CloudEvent of ${topic}: ${problem}`);
    const envelope = value as CloudEvent<EventMap[T]>;
    const validation = validateEventData(topic, envelope.data, { closed: false });
    if (!validation.ok) return dead(`invalid data: ${validation.problems.join('; ')}`);

    const event = {
      topic,
      id: envelope.id.toLowerCase(),
      key,
      partition,
      offset: message.offset,
      envelope,
      data: envelope.data,
      traceContext: contextFromHeaders(message.headers ?? {}),
    } as ConsumedEvent<T>;
    return { ok: true, event };
  }
}

/**
 * The parent of a batch's span: the producer's context when every event of the batch carries the same
 * `traceparent` (the usual single event, or a bulk write such as a folder delete); otherwise a new trace,
 * linked to each message's.
 */
function sharedParent(events: readonly { envelope: unknown; traceContext: Context }[]): Context {
  if (events.length === 0) return ROOT_CONTEXT;
  const first = trace.getSpanContext(events[0].traceContext);
  if (!first) return ROOT_CONTEXT;
  const same = events.every((e) => {
    const sc = trace.getSpanContext(e.traceContext);
    return sc?.traceId === first.traceId && sc.spanId === first.spanId;
  });
  return same ? events[0].traceContext : ROOT_CONTEXT;
}
