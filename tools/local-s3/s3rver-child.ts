/**
 * s3rver in its own process, forked by `startLocalS3` (local-s3.ts) with
 * `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2 continuation tokens with single DES,
 * which OpenSSL 3 only offers in its legacy provider, and Node can only load that provider at
 * start-up (flag or NODE_OPTIONS), not from inside a running process. A separate process also
 * keeps s3rver's global state (its access-key registry, its logger) out of the caller's process.
 *
 * Listens on 127.0.0.1 (ephemeral port) only; the verifying proxy is its sole client. Talks to the
 * parent over the IPC channel; exits when the parent goes away.
 *
 * Adds AbortMultipartUpload, which s3rver 3.7 lacks (answers 405), so that lib-storage's Upload can
 * clean up after a failed part.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account';
import type { S3NotificationEvent } from './events';

export interface ChildConfig {
  directory: string;
  buckets: string[];
  credentials: Array<{ accessKeyId: string; secretAccessKey: string }>;
}

export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'event'; event: S3NotificationEvent }
  | { type: 'fatal'; message: string };

export type ParentMessage = { type: 'stop' };

function send(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

const requestContext = new AsyncLocalStorage<{ method: string; url: string }>();

async function main(): Promise<void> {
  const config = JSON.parse(process.env.LOCAL_S3_CHILD_CONFIG ?? '{}') as ChildConfig;
  // The proxy verifies signatures; s3rver still checks that the access key id exists (and only
  // then honours response-* overrides), so it learns the same keys.
  for (const { accessKeyId, secretAccessKey } of config.credentials) {
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  }
  const s3rver = new S3rver({
    directory: config.directory,
    silent: true,
    vhostBuckets: false, // path-style only: the proxy forwards the client's Host header
    configureBuckets: config.buckets.map((name) => ({ name })),
  });
  await s3rver.configureBuckets();

  s3rver.on('event', (event: S3NotificationEvent) => {
    const request = requestContext.getStore();
    // s3rver reports a completed multipart upload as ObjectCreated:Post; S3 has its own name.
    if (request?.method === 'POST' && /[?&]uploadId=/.test(request.url)) {
      for (const record of event.Records)
        record.eventName = 'ObjectCreated:CompleteMultipartUpload';
    }
    send({ type: 'event', event });
  });

  const handle = s3rver.callback();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'DELETE' && /[?&]uploadId=/.test(url)) {
      abortMultipartUpload(s3rver, url, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    requestContext.run({ method: req.method ?? 'GET', url }, () => handle(req, res));
  });
  // The proxy's keep-alive agent is the only client: never close idle sockets under it (a close
  // racing with a request being sent would surface as a spurious error).
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    }
  });
  process.on('disconnect', () => process.exit(0));

  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  send({ type: 'ready', port: address.port });
}

/** DELETE /bucket/key?uploadId=ID: drops the upload's parts (s3rver keeps them in a folder). */
async function abortMultipartUpload(
  s3rver: S3rver,
  url: string,
  res: http.ServerResponse,
): Promise<void> {
  const parsed = new URL(url, 'http://local');
  const slash = parsed.pathname.indexOf('/', 1);
  const bucket = decodeURIComponent(parsed.pathname.slice(1, slash === -1 ? undefined : slash));
  const key = slash === -1 ? '' : decodeURIComponent(parsed.pathname.slice(slash + 1));
  const uploadId = parsed.searchParams.get('uploadId') ?? '';
  const uploadDir = path.join(s3rver.store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  const storedKey = /^[0-9a-f]{1,64}$/.test(uploadId)
    ? await fs.readFile(path.join(uploadDir, 'key'), 'utf8').catch(() => undefined)
    : undefined;
  if (storedKey === undefined || storedKey !== key) {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The ' +
      'specified upload does not exist. The upload ID may be invalid, or the upload may have been ' +
      'aborted or completed.</Message></Error>';
    res.writeHead(404, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  await fs.rm(uploadDir, { recursive: true, force: true });
  res.writeHead(204).end();
}

main().catch((error: unknown) => {
  send({
    type: 'fatal',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
});
