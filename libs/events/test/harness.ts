import { dataSourceOptions, migrateAll } from '@lib/database';
import { consumerConfig, createKafka } from '@lib/kafka';
import { ADMIN_DATABASE_URL, databaseUrl, waitFor } from '@lib/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';
import { logLevel, type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  EVENTS_CONSUMER_ENTITIES,
  EVENTS_CONSUMER_MIGRATIONS,
  EVENTS_PUBLISHER_ENTITIES,
  EVENTS_PUBLISHER_MIGRATIONS,
  createRelayKafka,
  type EventsLogger,
} from '@lib/events';

/** Schemas of the throwaway database: a publishing and a consuming "service". */
export const PUBLISHER_SCHEMA = 'pub_svc';
export const CONSUMER_SCHEMA = 'con_svc';

export interface EventsTestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database with the events migrations applied to both schemas (through `migrateAll`, as services do). */
export async function createEventsTestDatabase(): Promise<EventsTestDatabase> {
  const name = `events_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  await migrateAll([
    { url, schema: PUBLISHER_SCHEMA, migrations: EVENTS_PUBLISHER_MIGRATIONS },
    { url, schema: CONSUMER_SCHEMA, migrations: EVENTS_CONSUMER_MIGRATIONS },
  ]);
  return {
    url,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(),
  };
}

export async function openDataSource(url: string, schema: string): Promise<DataSource> {
  const entities =
    schema === PUBLISHER_SCHEMA ? EVENTS_PUBLISHER_ENTITIES : EVENTS_CONSUMER_ENTITIES;
  return new DataSource(
    dataSourceOptions({ url, schema, entities, poolSize: 5, applicationName: 'events-int-test' }),
  ).initialize();
}

/** A kafkajs client that logs nothing (outages are provoked on purpose). */
export function testKafka(brokers: string[], clientId = 'events-int-test'): Kafka {
  return createKafka({ brokers, clientId, logLevel: logLevel.NOTHING });
}

/** The relay's kafkajs client (short retry budget), silent. */
export function testRelayKafka(brokers: string[]): Kafka {
  return createRelayKafka({ brokers, clientId: 'events-int-relay', logLevel: logLevel.NOTHING });
}

/** Keeps what the relay and consumer log, for assertions and failure messages. */
export function memoryLogger(): EventsLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: unknown) =>
    void lines.push(`${level} ${String(message)}`);
  return { lines, log: push('log'), warn: push('warn'), error: push('error') };
}

export interface Tracing {
  exporter: InMemorySpanExporter;
  shutdown(): Promise<void>;
}

/** A real tracer provider and async-local context for the test file (what @lib/observability sets up in apps). */
export function startTracing(): Tracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
  return {
    exporter,
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

export interface CollectedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  receivedAt: number;
}

/** A plain kafkajs consumer (a subscriber knowing nothing of @lib/events) that keeps every message it reads. */
export class TopicCollector {
  readonly messages: CollectedMessage[] = [];
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly topics: string[],
    groupId = `collector-${randomBytes(4).toString('hex')}`,
  ) {
    this.consumer = kafka.consumer(
      consumerConfig(groupId, {
        retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1_000 },
      }),
    );
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        this.messages.push(toCollected(topic, partition, message));
        return Promise.resolve();
      },
    });
  }

  /** Messages whose `ce_id` header is one of `ids`. */
  withIds(ids: Iterable<string>): CollectedMessage[] {
    const wanted = new Set(ids);
    return this.messages.filter((m) => wanted.has(m.headers.ce_id));
  }

  /** Waits until every id in `ids` was received at least once. */
  async waitForIds(ids: readonly string[], timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${ids.length} events on the topics`,
      () => new Set(this.withIds(ids).map((m) => m.headers.ce_id)).size === ids.length,
      { timeoutMs, intervalMs: 20 },
    );
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

function toCollected(topic: string, partition: number, m: KafkaMessage): CollectedMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v).toString();
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key?.toString() ?? null,
    value: m.value?.toString() ?? null,
    headers,
    receivedAt: Date.now(),
  };
}
