import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { HealthCheck } from './health-check';

/** `SELECT 1` through the pool (a TypeORM `DataSource` or a `pg.Pool`). */
export function postgresCheck(
  dataSource: { query(sql: string): Promise<unknown> },
  name = 'postgres',
): HealthCheck {
  return {
    name,
    check: async () => {
      await dataSource.query('SELECT 1');
    },
  };
}

/** `PING` must answer `PONG` (an ioredis client, e.g. BullMQ's connection). */
export function redisCheck(redis: { ping(): Promise<string> }, name = 'redis'): HealthCheck {
  return {
    name,
    check: async () => {
      const reply = await redis.ping();
      if (reply !== 'PONG') throw new Error(`unexpected PING reply: ${reply}`);
    },
  };
}

/** `HeadBucket` on the app's bucket (`ObjectStore.checkBucket`): reachable, credentials valid, bucket present. */
export function s3Check(
  bucket: { checkBucket(signal: AbortSignal): Promise<void> },
  name = 's3',
): HealthCheck {
  return { name, check: (signal) => bucket.checkBucket(signal) };
}

/** The brokers and their TLS: a `KafkaConnection` of @lib/kafka fits (`kafkaConnection`). */
export interface KafkaCheckOptions {
  /** `host:port` bootstrap brokers; one answering is enough. */
  brokers: readonly string[];
  /** TLS to the brokers (CA, client certificate); absent: plaintext. */
  ssl?: ConnectionOptions;
  name?: string;
}

/**
 * Kafka is reachable when at least one broker answers an `ApiVersions` request (the first request
 * every client sends, allowed before SASL authentication). Deliberately no admin API, no
 * controller and no topic: a broker that is up but not yet part of a healthy cluster still counts.
 */
export function kafkaCheck(options: KafkaCheckOptions): HealthCheck {
  return {
    name: options.name ?? 'kafka',
    check: async (signal) => {
      if (options.brokers.length === 0) throw new Error('no Kafka brokers configured');
      const done = new AbortController();
      const onAbort = (): void => done.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await Promise.any(
          options.brokers.map((broker) => kafkaApiVersions(broker, options.ssl, done.signal)),
        );
      } catch (error) {
        const reasons = error instanceof AggregateError ? error.errors : [error];
        throw new Error(
          `no Kafka broker answered: ${reasons.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`,
        );
      } finally {
        signal.removeEventListener('abort', onAbort);
        // Close the connections still pending once one broker has answered.
        done.abort();
      }
    },
  };
}

const API_VERSIONS_KEY = 18;
const CLIENT_ID = Buffer.from('health-check');
const CORRELATION_ID = 0x4845414c; // arbitrary, checked on the way back

// ApiVersions v0: size, api_key, api_version, correlation_id, client_id (int16 length + bytes).
const API_VERSIONS_REQUEST = (() => {
  const body = Buffer.alloc(2 + 2 + 4 + 2 + CLIENT_ID.length);
  body.writeInt16BE(API_VERSIONS_KEY, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(CORRELATION_ID, 4);
  body.writeInt16BE(CLIENT_ID.length, 8);
  CLIENT_ID.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
})();

function kafkaApiVersions(
  broker: string,
  ssl: KafkaCheckOptions['ssl'],
  signal: AbortSignal,
): Promise<void> {
  const separator = broker.lastIndexOf(':');
  const host = broker.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const port = Number(broker.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port)) {
    return Promise.reject(new Error(`${broker}: not host:port`));
  }
  return new Promise<void>((resolve, reject) => {
    const onConnect = (): void => {
      socket.write(API_VERSIONS_REQUEST);
    };
    // SNI carries host names only, as kafkajs does it.
    const socket: Socket = ssl
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : tcpConnect({ host, port }, onConnect);
    let received = Buffer.alloc(0);
    const finish = (error?: Error): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = (): void => finish(new Error(`${broker}: aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) => finish(new Error(`${broker}: ${error.message}`)));
    socket.on('close', () => finish(new Error(`${broker}: connection closed`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // size (4) + correlation_id (4) + error_code (2)
      if (received.length < 10) return;
      const correlationId = received.readInt32BE(4);
      const errorCode = received.readInt16BE(8);
      if (correlationId !== CORRELATION_ID) finish(new Error(`${broker}: unexpected response`));
      else if (errorCode !== 0) finish(new Error(`${broker}: ApiVersions error ${errorCode}`));
      else finish();
    });
  });
}
