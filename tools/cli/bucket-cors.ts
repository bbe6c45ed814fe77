import { CORS_ALLOWED_ORIGINS, corsOriginsProblem, parseCorsOrigins } from '@lib/config';
import { applyBucketCors, createS3Client, s3AccessKeys } from '@lib/s3';
import { CliError, optionalEnv, requireEnv } from './cli-env';

export interface BucketCorsResult {
  bucket: string;
  origins: string[];
  /** `set`: PutBucketCors with the platform's rule; `removed`: DeleteBucketCors (no origins). */
  outcome: 'set' | 'removed';
}

/**
 * `bucket-cors`: gives the platform's bucket (S3_BUCKET, reached with the S3_* settings the apps use) the CORS
 * rule that lets pages of `CORS_ALLOWED_ORIGINS` PUT to upload URLs and GET download URLs, replacing the
 * bucket's CORS configuration; with the variable set empty it removes it. Idempotent. The credentials need
 * `s3:PutBucketCORS` (an operator's, rather than the apps' role).
 */
export async function runBucketCors(): Promise<BucketCorsResult> {
  const raw = process.env[CORS_ALLOWED_ORIGINS];
  if (raw === undefined) {
    throw new CliError(
      `${CORS_ALLOWED_ORIGINS} is not set; it lists the origins the bucket's CORS rule allows ` +
        "(set it empty to remove the bucket's CORS rules)",
    );
  }
  const problem = corsOriginsProblem(raw);
  if (problem) throw new CliError(problem);
  const origins = parseCorsOrigins(raw);
  const bucket = requireEnv('S3_BUCKET', 'to set its CORS rules');
  const s3 = createS3Client({
    endpoint: optionalEnv('S3_ENDPOINT') ?? undefined,
    region: optionalEnv('S3_REGION') ?? 'us-east-1',
    bucket,
    credentials: s3AccessKeys(
      optionalEnv('S3_ACCESS_KEY_ID') ?? undefined,
      optionalEnv('S3_SECRET_ACCESS_KEY') ?? undefined,
    ),
    forcePathStyle: (optionalEnv('S3_FORCE_PATH_STYLE') ?? 'true') === 'true',
  });
  try {
    const outcome = await applyBucketCors(s3, bucket, origins);
    return { bucket, origins, outcome };
  } catch (e) {
    const err = e as Error;
    if (err.name === 'NotImplemented') {
      throw new CliError(
        `this S3 server has no bucket CORS (PutBucketCors: NotImplemented): set its own CORS settings ` +
          `to the same origins instead (MinIO: MINIO_API_CORS_ALLOW_ORIGIN)`,
      );
    }
    throw new CliError(
      `cannot set the CORS rules of bucket ${bucket}: ${err.name}: ${err.message}`,
    );
  } finally {
    s3.destroy();
  }
}
