import { logLevel } from 'kafkajs';
import {
  consumerConfig,
  createKafka,
  KAFKA_RETRY,
  kafkaClientConfig,
  kafkaLogCreator,
  producerConfig,
  type KafkaLogger,
} from './kafka.config';

const mockLogger = (): jest.Mocked<KafkaLogger> => ({
  error: jest.fn(),
  warn: jest.fn(),
  info: jest.fn(),
  debug: jest.fn(),
});

describe('kafkaLogCreator', () => {
  it('routes each kafkajs level to the matching logger method, pino style', () => {
    const logger = mockLogger();
    const log = kafkaLogCreator(logger)(logLevel.INFO);
    const entry = (level: logLevel, message: string) => ({
      namespace: 'Connection',
      level,
      label: 'X',
      log: { timestamp: '2026-01-01T00:00:00.000Z', message, broker: 'b:9092' },
    });

    log(entry(logLevel.ERROR, 'e'));
    log(entry(logLevel.WARN, 'w'));
    log(entry(logLevel.INFO, 'i'));
    log(entry(logLevel.DEBUG, 'd'));
    log(entry(logLevel.NOTHING, 'n'));

    const fields = { kafka: 'Connection', broker: 'b:9092' };
    expect(logger.error).toHaveBeenCalledWith(fields, 'e');
    expect(logger.warn).toHaveBeenCalledWith(fields, 'w');
    expect(logger.info).toHaveBeenCalledWith(fields, 'i');
    expect(logger.debug).toHaveBeenCalledWith(fields, 'd');
    for (const fn of Object.values(logger)) expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('kafkaClientConfig / createKafka', () => {
  it('uses the platform retry budget and the given logger', () => {
    const config = kafkaClientConfig({ brokers: ['a:1'], clientId: 'svc', logger: mockLogger() });
    expect(config).toMatchObject({ brokers: ['a:1'], clientId: 'svc', retry: KAFKA_RETRY });
    expect(config.logLevel).toBe(logLevel.INFO);
    expect(typeof config.logCreator).toBe('function');
    expect(kafkaClientConfig({ brokers: [], clientId: 'svc' }).logCreator).toBeUndefined();
  });

  it('survives several seconds of outage before giving up', () => {
    // Sum of the nominal waits between attempts (randomization averages out).
    let wait = KAFKA_RETRY.initialRetryTime!;
    let total = 0;
    for (let i = 0; i < KAFKA_RETRY.retries!; i++) {
      total += wait;
      wait = Math.min(wait * KAFKA_RETRY.multiplier!, KAFKA_RETRY.maxRetryTime!);
    }
    expect(total).toBeGreaterThanOrEqual(8_000);
    expect(total).toBeLessThanOrEqual(30_000);
  });

  it('creates a client without connecting', () => {
    const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'svc', logger: mockLogger() });
    expect(typeof kafka.producer).toBe('function');
  });
});

describe('producerConfig', () => {
  it('is idempotent (so acks=all), keeps order, never creates topics', () => {
    const config = producerConfig();
    expect(config).toMatchObject({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: KAFKA_RETRY,
    });
    expect(config.transactionalId).toBeUndefined();
  });

  it('takes overrides', () => {
    expect(producerConfig({ maxInFlightRequests: 5 }).maxInFlightRequests).toBe(5);
  });
});

describe('consumerConfig', () => {
  it('keeps a crashed member 10 s at most, heartbeats well inside it, never creates topics', () => {
    const config = consumerConfig('group-1');
    expect(config).toMatchObject({
      groupId: 'group-1',
      sessionTimeout: 10_000,
      allowAutoTopicCreation: false,
    });
    expect(config.partitionAssigners).toBeUndefined();
    expect(config.heartbeatInterval! * 3).toBeLessThanOrEqual(config.sessionTimeout!);
  });

  it('takes overrides', () => {
    expect(consumerConfig('g', { sessionTimeout: 10_000 }).sessionTimeout).toBe(10_000);
  });
});
