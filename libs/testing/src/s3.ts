import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3AccessKeys, S3Settings } from '@lib/s3';
import {
  startS3Server,
  type S3Server,
  type S3ServerOptions,
} from '../../../tools/local-servers/s3/s3-server';

export type { FaultSpec, InjectedFault, S3Operation } from '../../../tools/local-servers/s3/faults';

/** The bucket every test S3 has. */
export const TEST_S3_BUCKET = 'platform-test';

export interface TestS3 extends S3Server {
  /** Settings for `createS3Client` / `Presigner` (path-style, bucket `platform-test`, the server's keys). */
  readonly settings: S3Settings & { credentials: S3AccessKeys };
}

export interface TestS3Options extends Pick<
  S3ServerOptions,
  'region' | 'faults' | 'ignoreUnknownHeaders' | 'corsAllowedOrigins' | 'jvm' | 'objectsOutsideHeap'
> {
  /** Extra buckets besides `platform-test`. */
  buckets?: string[];
}

/**
 * S3Proxy in memory on a free port, with bucket `platform-test`: it verifies SigV4 as S3 does (expired,
 * tampered, wrong-key URLs are refused). Unless `faults: false`, behind the fault-injection proxy.
 */
export async function startTestS3(options: TestS3Options = {}): Promise<TestS3> {
  const accessKeyId = 'platform-test-key';
  const secretAccessKey = 'platform-test-secret';
  const server = await startS3Server({
    accessKeyId,
    secretAccessKey,
    region: options.region,
    faults: options.faults,
    ignoreUnknownHeaders: options.ignoreUnknownHeaders,
    corsAllowedOrigins: options.corsAllowedOrigins,
    jvm: options.jvm,
    objectsOutsideHeap: options.objectsOutsideHeap,
    buckets: [TEST_S3_BUCKET, ...(options.buckets ?? [])],
  });
  const settings: TestS3['settings'] = {
    endpoint: server.endpoint,
    region: server.region,
    bucket: TEST_S3_BUCKET,
    credentials: { accessKeyId, secretAccessKey },
    forcePathStyle: true,
  };
  return { ...server, settings };
}

/** Whether `key` has bytes in `bucket` (HEAD: 404 → false; any other failure is thrown). */
export function s3ObjectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (err: { $metadata?: { httpStatusCode?: number } }) => {
      if (err.$metadata?.httpStatusCode === 404) return false;
      throw err;
    },
  );
}
