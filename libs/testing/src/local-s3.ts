import { accessSync, constants } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '@lib/s3';
import { startLocalS3, type LocalS3 } from '../../../tools/local-s3';

/** The bucket every test S3 has. */
export const TEST_S3_BUCKET = 'platform-test';

export interface TestS3 extends LocalS3 {
  /** Settings for `createS3Client` / `Presigner` (path-style, bucket `platform-test`). */
  readonly settings: S3Settings;
  /** The temporary data directory, in memory where the machine allows (removed by `stop`). */
  readonly directory: string;
}

export interface TestS3Options {
  /** Extra buckets besides `platform-test`. */
  buckets?: string[];
  region?: string;
}

/**
 * A verifying local S3 (tools/local-s3) on an ephemeral port with a fresh temporary directory:
 * SigV4 is checked like S3 does (expired, tampered, wrong-key URLs are refused), faults can be
 * injected, and S3 notification events observed. `stop()` also deletes the directory.
 */
export async function startTestS3(options: TestS3Options = {}): Promise<TestS3> {
  const directory = await freshDirectory();
  const accessKeyId = 'platform-test-key';
  const secretAccessKey = 'platform-test-secret';
  let s3: LocalS3;
  try {
    s3 = await startLocalS3({
      port: 0,
      directory,
      accessKeyId,
      secretAccessKey,
      region: options.region ?? 'us-east-1',
      buckets: [TEST_S3_BUCKET, ...(options.buckets ?? [])],
    });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const settings: S3Settings = {
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: TEST_S3_BUCKET,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: true,
  };
  let stopping: Promise<void> | undefined;
  return {
    endpoint: s3.endpoint,
    port: s3.port,
    region: s3.region,
    settings,
    directory,
    injectFault: (spec) => s3.injectFault(spec),
    clearFaults: () => s3.clearFaults(),
    onEvent: (listener) => s3.onEvent(listener),
    stop: () => {
      stopping ??= s3.stop().finally(() => rm(directory, { recursive: true, force: true }));
      return stopping;
    },
  };
}

const DIRECTORY_PREFIX = 'platform-test-s3-';
/** `platform-test-s3-<owner pid>-<random>`. */
const OWNED_DIRECTORY = /^platform-test-s3-(\d+)-/;

/**
 * A new data directory named after this process, in `/dev/shm` (memory) when it is writable, else in the
 * temp dir. s3rver opens, stats and closes several files per request: on this machine's disk those syscalls
 * were 2.1 ms of every 1 KB PUT (half a core at 130 uploads/s, on the cores the platform under test
 * shares); S3 is remote in production, so its emulator's disk is no part of what tests and benchmarks
 * measure. Directories of processes that died before `stop` are removed first (in memory they would last
 * until a reboot).
 */
async function freshDirectory(): Promise<string> {
  const root = writable('/dev/shm') ? '/dev/shm' : tmpdir();
  for (const name of await readdir(root)) {
    const owner = OWNED_DIRECTORY.exec(name);
    if (owner && !alive(Number(owner[1]))) {
      await rm(join(root, name), { recursive: true, force: true });
    }
  }
  return mkdtemp(join(root, `${DIRECTORY_PREFIX}${process.pid}-`));
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
