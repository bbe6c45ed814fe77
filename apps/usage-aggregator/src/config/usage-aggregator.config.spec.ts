import { generateServiceKeys } from '@lib/internal-http';
import { UsageAggregatorConfig } from './usage-aggregator.config';

const keys = generateServiceKeys();
const raw = {
  PORT: '3004',
  MANAGEMENT_PORT: '3104',
  DATABASE_URL: 'postgres://db/platform',
  KAFKA_BROKERS: 'kafka:9092',
  SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys['usage-aggregator'],
  SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
};

describe('UsageAggregatorConfig', () => {
  it('should hold the retention in milliseconds and the consumer concurrency', () => {
    expect(UsageAggregatorConfig.load(raw).usage).toEqual({
      processedEventsRetentionMs: 168 * 3_600_000,
      consumerConcurrency: 6,
    });
    const config = UsageAggregatorConfig.load({
      ...raw,
      PROCESSED_EVENTS_RETENTION_HOURS: '2',
      USAGE_CONSUMER_CONCURRENCY: '1',
    });
    expect(config.usage).toEqual({ processedEventsRetentionMs: 7_200_000, consumerConcurrency: 1 });
    expect(config.app.shutdownGraceMs).toBe(20_000);
  });
});
