import { generateServiceKeys } from '@lib/internal-http';
import { ObjectMetadataConfig } from './object-metadata.config';

const keys = generateServiceKeys();
const raw = {
  PORT: '3001',
  MANAGEMENT_PORT: '3101',
  DATABASE_URL: 'postgres://db/platform',
  REDIS_URL: 'redis://redis:6379',
  KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092',
  S3_BUCKET: 'platform',
  STORAGE_URL: 'http://storage:3002',
  SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys['object-metadata'],
  SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
};

describe('ObjectMetadataConfig', () => {
  it('should group the settings by concern, with their defaults', () => {
    const config = ObjectMetadataConfig.load({ ...raw, OBJECT_MAX_BYTES: '1048576' });
    expect(config.services).toEqual({ storageUrl: 'http://storage:3002' });
    expect(config.objects).toEqual({ maxBytes: 1_048_576 });
    expect(config.ttl).toEqual({ sweepIntervalMs: 100, reconcileIntervalMs: 10_000 });
    expect(config.orgFiles).toEqual({ purgeIntervalMs: 30_000 });
    expect(config.kafka.brokers).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(config.s3.bucket).toBe('platform');
  });
});
