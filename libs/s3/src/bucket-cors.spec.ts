import { DeleteBucketCorsCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { applyBucketCors, bucketCorsRules } from './bucket-cors';

describe('bucket CORS', () => {
  const clientSending = () => {
    const send = jest.fn<Promise<unknown>, [unknown]>().mockResolvedValue({});
    return { client: { send } as unknown as S3Client, send };
  };

  it('should let the origins PUT to upload URLs and GET download URLs, and read their ETag', () => {
    expect(bucketCorsRules(['https://app.example.com'])).toEqual([
      {
        ID: 'platform-presigned-urls',
        AllowedOrigins: ['https://app.example.com'],
        AllowedMethods: ['GET', 'HEAD', 'PUT'],
        AllowedHeaders: ['content-type'],
        ExposeHeaders: ['ETag', 'Content-Disposition'],
        MaxAgeSeconds: 3600,
      },
    ]);
  });

  it('should replace the bucket CORS with the rule for the origins', async () => {
    const { client, send } = clientSending();
    await expect(applyBucketCors(client, 'platform', ['https://a.example'])).resolves.toBe('set');
    expect(send).toHaveBeenCalledTimes(1);
    const command = send.mock.calls[0][0];
    expect(command).toBeInstanceOf(PutBucketCorsCommand);
    expect((command as PutBucketCorsCommand).input).toEqual({
      Bucket: 'platform',
      CORSConfiguration: { CORSRules: bucketCorsRules(['https://a.example']) },
    });
  });

  it('should remove the bucket CORS when no origin is allowed', async () => {
    const { client, send } = clientSending();
    await expect(applyBucketCors(client, 'platform', [])).resolves.toBe('removed');
    const command = send.mock.calls[0][0];
    expect(command).toBeInstanceOf(DeleteBucketCorsCommand);
    expect((command as DeleteBucketCorsCommand).input).toEqual({ Bucket: 'platform' });
  });
});
