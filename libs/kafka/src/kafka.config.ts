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
import { DelayedRoundRobinAssigner } from './delayed-round-robin.assigner';

/** The subset of a pino logger (or nestjs-pino's PinoLogger) that kafkajs logs are routed to. */
export interface KafkaLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface CreateKafkaOptions {
  brokers: string[];
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
 * Producer options, valid both on real Kafka and on librdkafka's mock cluster:
 * - no idempotence and no transactions: kafkajs needs the cluster controller for them, and the mock
 *   never sets one (its metadata names controller 0, which is not a broker), so they fail there.
 *   Consumers are idempotent instead (events carry ids).
 * - `maxInFlightRequests: 1`: without idempotence this is what keeps a retried batch from landing
 *   after a later one, i.e. preserves per-key order.
 * - no topic auto-creation: topics come from the manifests (the mock's launcher locally); a typo
 *   must fail, not create a 4-partition topic.
 * - the explicit default partitioner (murmur2, Java compatible) also silences kafkajs' warning.
 */
export function producerConfig(overrides: Partial<ProducerConfig> = {}): ProducerConfig {
  return {
    idempotent: false,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { ...KAFKA_RETRY },
    ...overrides,
  };
}

/**
 * Consumer options, valid both on real Kafka and on librdkafka's mock cluster:
 * - `sessionTimeout: 6000`: the mock holds every rebalance after the first for sessionTimeout - 1 s
 *   (kafkajs' default of 30 s means 29 s rebalances); 6 s gives ~5 s rebalances while staying
 *   inside real brokers' default group.min.session.timeout.ms (6 s).
 * - `heartbeatInterval: 2000`: a third of the session timeout, the usual ratio.
 * - `maxWaitTimeInMs: 100`: the mock holds an empty Fetch for the whole max wait and the
 *   connection is blocked meanwhile, so the default 5 s became 5 s of delivery latency; on real
 *   Kafka a fetch returns as soon as data arrives, 100 ms only means more frequent idle polls.
 * - `DelayedRoundRobinAssigner`: see its comment (mock SyncGroup ordering quirk).
 * - no topic auto-creation (as for producers).
 */
export function consumerConfig(
  groupId: string,
  overrides: Partial<ConsumerConfig> = {},
): ConsumerConfig {
  return {
    groupId,
    sessionTimeout: 6_000,
    heartbeatInterval: 2_000,
    maxWaitTimeInMs: 100,
    partitionAssigners: [DelayedRoundRobinAssigner],
    allowAutoTopicCreation: false,
    retry: { ...KAFKA_RETRY },
    ...overrides,
  };
}
