import { generateServiceKeys } from '@lib/internal-http';
import { StorageConfig } from './storage.config';

const keys = generateServiceKeys();

describe('StorageConfig', () => {
  it('should hold the listeners and the bucket', () => {
    const config = StorageConfig.load({
      PORT: '3002',
      MANAGEMENT_PORT: '3102',
      S3_BUCKET: 'platform',
      S3_WRITE_BUFFER_MIB: '10',
      SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys.storage,
      SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
    });
    expect(config.http).toEqual({ port: 3002, managementPort: 3102 });
    expect(config.s3).toMatchObject({ bucket: 'platform', writeBufferBytes: 10 * 1024 * 1024 });
  });
});
