import { createS3Client } from '@lib/s3';

describe('createS3Client', () => {
  it('only computes checksums when required, retries a bounded number of times, keeps connections alive', async () => {
    const client = createS3Client(
      {
        endpoint: 'http://127.0.0.1:4568',
        region: 'eu-west-1',
        bucket: 'b',
        credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
        forcePathStyle: true,
      },
      { maxSockets: 8, maxAttempts: 4 },
    );
    try {
      expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
      expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
      expect(await client.config.maxAttempts()).toBe(4);
      expect(await client.config.region()).toBe('eu-west-1');
      expect(client.config.forcePathStyle).toBe(true);
      // Built by the client from the keep-alive agents passed as NodeHttpHandler options.
      expect(client.config.requestHandler.constructor.name).toBe('NodeHttpHandler');
    } finally {
      client.destroy();
    }
  });
});
