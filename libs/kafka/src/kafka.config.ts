import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type ConsumerConfig,
  type KafkaConfig,
  type LogEntry,
  type logCreator,
  type ProducerConfig,
  type RetryOptions,
} from 'kafkajs';
import type { KafkaConnection } from './kafka.connection';

/** The subset of a pino logger (or nestjs-pino's PinoLogger) that kafkajs logs are routed to. */
export interface KafkaLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A client's connection (brokers, TLS, SASL: `kafkaConnection`) and its own settings. */
export interface CreateKafkaOptions extends KafkaConnection {
  clientId: string;
  /** kafkajs' own level filter, applied before `logger`. Default: INFO. */
  logLevel?: KafkaLogLevel;
  /** Where kafkajs logs go. Without one, kafkajs logs to the console itself. */
  logger?: KafkaLogger;
}

/**
 * Retry budget of every kafkajs retrier (client, producer, consumer): waits of ~0.25, 0.5, 1, 2, 2,
 * 2, 2, 2 s, so an operation outlives ~12 s of broker outage (leader failover, a restart) before
 * failing. Set explicitly because kafkajs' defaults give up after ~3 s of total outage, and under
 * Jest (NODE_ENV=test) it silently switches to a different, test-only budget.
 */
export const KAFKA_RETRY: Readonly<RetryOptions> = {
  initialRetryTime: 250,
  maxRetryTime: 2_000,
  factor: 0.2,
  multiplier: 2,
  retries: 8,
};

const LEVEL_METHOD: Partial<Record<KafkaLogLevel, keyof KafkaLogger>> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** A kafkajs logCreator that writes each entry to `logger` as `(fields, message)`, pino style. */
export function kafkaLogCreator(logger: KafkaLogger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const method = LEVEL_METHOD[level];
      if (!method) return;
      // `message` becomes the log message and `timestamp` duplicates the logger's own; everything
      // else (broker, error, retryCount...) is kept as fields.
      const fields: Record<string, unknown> = { kafka: namespace };
      for (const [key, value] of Object.entries(log)) {
        if (key !== 'message' && key !== 'timestamp') fields[key] = value;
      }
      logger[method](fields, log.message);
    };
}

/**
 * kafkajs client options (also what NestJS' `Transport.KAFKA` takes as `options.client`); Nest
 * appends `-server`/`-client` to the clientId.
 */
export function kafkaClientConfig(opts: CreateKafkaOptions): KafkaConfig {
  return {
    brokers: opts.brokers,
    ssl: opts.ssl,
    sasl: opts.sasl,
    clientId: opts.clientId,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { ...KAFKA_RETRY },
    logLevel: opts.logLevel ?? KafkaLogLevel.INFO,
    ...(opts.logger ? { logCreator: kafkaLogCreator(opts.logger) } : {}),
  };
}

/** A kafkajs client with the platform's retry budget, logging to `opts.logger` when given. */
export function createKafka(opts: CreateKafkaOptions): Kafka {
  return new Kafka(kafkaClientConfig(opts));
}

/**
 * Producer options:
 * - idempotent (the brokers drop a retried batch they already wrote, so a retry never duplicates nor
 *   reorders), which also means acks=all: a write counts once `min.insync.replicas` replicas have it.
 *   Sends must not override `acks`. Consumers are idempotent as well (events carry ids), since the outbox
 *   relay may publish an event again after a crash.
 * - `maxInFlightRequests: 1`: per-key order even across producer restarts.
 * - no topic auto-creation: topics come from the topic-provisioning command; a typo must fail, not
 *   create a topic.
 * - the explicit default partitioner (murmur2, Java compatible) also silences kafkajs' warning.
 */
export function producerConfig(overrides: Partial<ProducerConfig> = {}): ProducerConfig {
  return {
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { ...KAFKA_RETRY },
    ...overrides,
  };
}

/**
 * Consumer options:
 * - `sessionTimeout: 10000` with a heartbeat every 3 s: a consumer that stops heartbeating (a crash, a
 *   stalled event loop) loses its partitions after 10 s; one that leaves cleanly hands them over at once.
 *   Batch handlers heartbeat between chunks, so long batches do not count as silence.
 * - `minBytes: 64 KiB`, `maxWaitTimeInMs: 100`: the broker answers a fetch once it holds 64 KiB for it, or
 *   after 100 ms with what it has. Under load a consumer fetches (and commits offsets, and runs a
 *   transaction) about ten times a second with many events each, rather than once per produced batch; an
 *   event waits at most 100 ms more.
 * - no topic auto-creation (as for producers).
 */
export function consumerConfig(
  groupId: string,
  overrides: Partial<ConsumerConfig> = {},
): ConsumerConfig {
  return {
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 3_000,
    minBytes: 64 * 1024,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    retry: { ...KAFKA_RETRY },
    ...overrides,
  };
}
