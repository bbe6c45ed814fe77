import * as http from 'node:http';
import * as https from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3CredentialProvider } from './credentials';
import type { S3Settings } from './settings';

export interface S3ClientOptions {
  /** Sockets per host in the keep-alive pool (default 64). */
  maxSockets?: number;
  /** Attempts per operation, first one included (default 3). */
  maxAttempts?: number;
  /** TCP connect timeout in ms (default 5000). */
  connectionTimeoutMs?: number;
  /** Socket idle timeout in ms while waiting for or streaming a response (default 60000). */
  requestTimeoutMs?: number;
  /**
   * Told of every operation once it ends (retries included): the SDK's command name (`PutObjectCommand`)
   * and S3's HTTP status, or `none` when no answer came (network error, timeout).
   */
  onOperation?: (operation: string, status: string) => void;
}

/**
 * An S3 client for the platform's settings, with the credentials of `s3CredentialProvider` (the static keys,
 * else the AWS SDK's default chain, which the client renews itself).
 *
 * Checksums are only computed when an operation requires them (`WHEN_REQUIRED`): with the SDK's
 * default (`WHEN_SUPPORTED`) stream bodies are sent aws-chunked with a trailing CRC32, which
 * simple S3 implementations store verbatim, and presigned PUT URLs get a checksum of an empty body.
 */
export function createS3Client(settings: S3Settings, options: S3ClientOptions = {}): S3Client {
  // Loaded here rather than on import: the apps that use only @lib/s3's presigner or its retries
  // (object-metadata, the gateway) do not pay for the SDK (~22 MiB of memory, ~100 ms at start).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  const maxSockets = options.maxSockets ?? 64;
  const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 16) };
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials: s3CredentialProvider(settings),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    // Constructor options of the SDK's NodeHttpHandler (the client builds the handler from them).
    requestHandler: {
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
    },
  });
  const observe = options.onOperation;
  if (observe) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = context.commandName ?? 'unknown';
        try {
          const result = await next(args);
          const { statusCode } = result.response as { statusCode?: number };
          observe(operation, String(statusCode ?? 200));
          return result;
        } catch (err) {
          const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata
            ?.httpStatusCode;
          observe(operation, status === undefined ? 'none' : String(status));
          throw err;
        }
      },
      { step: 'initialize', name: 'platformOperationObserver' },
    );
  }
  return client;
}
