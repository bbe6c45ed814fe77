import { InvalidEnvironmentError } from '@lib/config';

/** Connection settings for the platform's S3 bucket (MinIO in production, local-s3 in tests). */
export interface S3Settings {
  /** Internal endpoint, e.g. `http://minio:9000`; omit for AWS's regional endpoint. */
  endpoint?: string;
  /**
   * Base URL clients use for presigned URLs when it differs from the internal endpoint (e.g. in
   * Kubernetes: `https://files.example.com`). Presigned URLs are signed for this host.
   */
  publicEndpoint?: string;
  region: string;
  bucket: string;
  /**
   * Static keys; without them the AWS SDK's default provider chain supplies temporary credentials
   * (environment, web identity / IRSA, ECS or EKS Pod Identity container endpoint, instance metadata).
   */
  credentials?: S3AccessKeys;
  /** Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`). */
  forcePathStyle: boolean;
}

export interface S3AccessKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Static keys from a pair of optional values (S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY): both, or neither for
 * the AWS SDK's default provider chain. Throws `InvalidEnvironmentError` when only one is given.
 */
export function s3AccessKeys(
  accessKeyId: string | undefined,
  secretAccessKey: string | undefined,
): S3AccessKeys | undefined {
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return { accessKeyId, secretAccessKey };
  }
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  const [missing, set] =
    accessKeyId === undefined
      ? ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']
      : ['S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID'];
  throw new InvalidEnvironmentError([
    `${missing} must be set with ${set} (both, or neither for the AWS SDK's default credential chain)`,
  ]);
}
