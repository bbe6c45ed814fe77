import type { CORSRule, S3Client } from '@aws-sdk/client-s3';

/**
 * What a page on an allowed origin does with the bucket's presigned URLs: PUT bytes to an upload URL (with
 * or without a `Content-Type`), GET or HEAD a download URL, and read the `ETag` and the file name a download
 * carries (`Content-Disposition`). The same rule for S3's bucket CORS and the local S3 server's.
 */
export const BUCKET_CORS = {
  methods: ['GET', 'HEAD', 'PUT'],
  allowedHeaders: ['content-type'],
  exposedHeaders: ['ETag', 'Content-Disposition'],
  maxAgeSeconds: 3600,
} as const;

/** The bucket's CORS rules for `origins` (exact origins, as `CORS_ALLOWED_ORIGINS` lists them). */
export function bucketCorsRules(origins: readonly string[]): CORSRule[] {
  return [
    {
      ID: 'platform-presigned-urls',
      AllowedOrigins: [...origins],
      AllowedMethods: [...BUCKET_CORS.methods],
      AllowedHeaders: [...BUCKET_CORS.allowedHeaders],
      ExposeHeaders: [...BUCKET_CORS.exposedHeaders],
      MaxAgeSeconds: BUCKET_CORS.maxAgeSeconds,
    },
  ];
}

/**
 * Sets the bucket's CORS configuration to the platform's rule for `origins` (PutBucketCors, replacing what
 * was there), or removes it when there are none (DeleteBucketCors): what a browser may do with the bucket's
 * URLs then follows `CORS_ALLOWED_ORIGINS` exactly.
 */
export async function applyBucketCors(
  client: S3Client,
  bucket: string,
  origins: readonly string[],
): Promise<'set' | 'removed'> {
  // Loaded here, as in createS3Client: importing @lib/s3 does not load the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  if (origins.length === 0) {
    await client.send(new sdk.DeleteBucketCorsCommand({ Bucket: bucket }));
    return 'removed';
  }
  await client.send(
    new sdk.PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: bucketCorsRules(origins) },
    }),
  );
  return 'set';
}
