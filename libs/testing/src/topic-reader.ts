import { randomBytes } from 'node:crypto';
import { logLevel, type Consumer, type IHeaders } from 'kafkajs';
import { consumerConfig, createKafka } from '@lib/kafka';
import { waitFor } from './wait';

export interface ReadMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

export interface TopicReader {
  readonly messages: readonly ReadMessage[];
  /** Waits until `count` messages match `predicate` and returns them. */
  waitFor(
    predicate: (m: ReadMessage) => boolean,
    count?: number,
    timeoutMs?: number,
  ): Promise<ReadMessage[]>;
  stop(): Promise<void>;
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) out[k] = value.toString();
  }
  return out;
}

/**
 * A plain kafkajs subscriber of its own consumer group, reading topics from the beginning: what another
 * team's service (or `kcat`) sees. Tests assert on the events the platform really published.
 */
export async function readTopics(brokers: string[], topics: string[]): Promise<TopicReader> {
  // Quiet: a reader connecting while a test holds the brokers down would fill the output with retries.
  const kafka = createKafka({ brokers, clientId: 'test-reader', logLevel: logLevel.NOTHING });
  const consumer: Consumer = kafka.consumer(
    consumerConfig(`test-reader-${randomBytes(4).toString('hex')}`),
  );
  const messages: ReadMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, partition, message }) => {
      messages.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers: stringHeaders(message.headers),
      });
      return Promise.resolve();
    },
  });
  return {
    messages,
    waitFor: (predicate, count = 1, timeoutMs = 30_000) =>
      waitFor(
        `${count} matching message(s) on ${topics.join(', ')}`,
        () => {
          const found = messages.filter(predicate);
          return found.length >= count ? found : undefined;
        },
        { timeoutMs, intervalMs: 50 },
      ),
    stop: () => consumer.disconnect(),
  };
}
