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
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`). */
  forcePathStyle: boolean;
}
