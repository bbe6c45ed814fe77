/**
 * A local S3 that is as strict as S3 about authentication: s3rver (which checks no SigV4
 * signature) in a child process on an internal loopback port, behind an HTTP proxy on the public
 * port that verifies every request's signature first, then streams it through.
 *
 * See README.md next to this file.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Transform } from 'node:stream';
import { sigv4 } from '@lib/s3';
import { deletedKeys, encodeS3EventKey, makeRecord, type S3NotificationEvent } from './events';
import { classifyRequest, FaultRegistry, type FaultSpec, type InjectedFault } from './faults';
import { AwsChunkedDecoder, BodyVerifier, declaredDigestChecks } from './payload';
import {
  defaultErrorFor,
  S3Errors,
  S3RequestError,
  sendS3Error,
  type S3ErrorSpec,
} from './s3-errors';
import type { ChildConfig, ChildMessage, ParentMessage } from './s3rver-child';
import { headerMap, verifyRequest } from './verify';

export interface LocalS3Options {
  /** Public (proxy) port; 0 or omitted: ephemeral. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Where s3rver keeps buckets and objects (created if missing, kept on stop). */
  directory: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Region requests must be signed for (default us-east-1). */
  region?: string;
  /** Buckets created at start (existing ones are kept with their objects). */
  buckets: string[];
  /** Called for every S3 notification event (also see `onEvent`). */
  onEvent?: (event: S3NotificationEvent) => void;
  /** Allowed clock skew of header-signed requests in seconds (default 900, like S3). */
  maxSkewSeconds?: number;
  /** Time limit for the s3rver child to start, ms (default 30000). */
  startTimeoutMs?: number;
}

export interface LocalS3 {
  /** `http://host:port` of the verifying proxy: the S3 endpoint to use (path-style). */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /** Makes matching (authenticated) requests fail with an S3 XML error until cleared or `count`. */
  injectFault(spec: FaultSpec): InjectedFault;
  clearFaults(): void;
  /** Subscribes to S3 notification events; returns the unsubscribe function. */
  onEvent(listener: (event: S3NotificationEvent) => void): () => void;
  /** Stops the proxy and s3rver (data stays in `directory`). Idempotent. */
  stop(): Promise<void>;
}

/** Request bodies up to this size are verified before anything reaches s3rver. */
const VERIFY_BEFORE_FORWARD_BYTES = 1024 * 1024;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const region = options.region ?? 'us-east-1';
  const host = options.host ?? '127.0.0.1';
  const secrets = new Map([[options.accessKeyId, options.secretAccessKey]]);
  const keyCache = new sigv4.SigningKeyCache();
  const faults = new FaultRegistry();
  const listeners = new Set<(event: S3NotificationEvent) => void>();
  if (options.onEvent !== undefined) listeners.add(options.onEvent);

  const emit = (event: S3NotificationEvent): void => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        process.stderr.write(`local-s3: event listener failed: ${String(error)}\n`);
      }
    }
  };

  const child = await startChild(
    {
      directory: path.resolve(options.directory),
      buckets: options.buckets,
      credentials: [{ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }],
    },
    options.startTimeoutMs ?? 30_000,
    (event) => {
      for (const record of event.Records) {
        record.awsRegion = region;
        record.s3.object.key = encodeS3EventKey(record.s3.object.key);
      }
      emit(event);
    },
  );

  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer();
  server.keepAliveTimeout = 30_000;

  const proxy = new VerifyingProxy({
    region,
    upstreamPort: child.port,
    agent,
    faults,
    keyCache,
    maxSkewSeconds: options.maxSkewSeconds ?? 900,
    lookupSecret: (id) => secrets.get(id),
    emit,
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) =>
    proxy.handle(req, res, false),
  );
  // Expect: 100-continue (the SDK sends it for bodies over 2 MB): authenticate before the body.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) =>
    proxy.handle(req, res, true),
  );

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await child.stop();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`,
    port,
    region,
    injectFault: (spec) => faults.inject(spec),
    clearFaults: () => faults.clear(),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        agent.destroy();
        listeners.clear();
        await Promise.all([closed, child.stop()]);
      })();
      return stopping;
    },
  };
}

interface ProxyConfig {
  region: string;
  upstreamPort: number;
  agent: http.Agent;
  faults: FaultRegistry;
  keyCache: sigv4.SigningKeyCache;
  maxSkewSeconds: number;
  lookupSecret: (accessKeyId: string) => string | undefined;
  emit: (event: S3NotificationEvent) => void;
}

class VerifyingProxy {
  constructor(private readonly config: ProxyConfig) {}

  handle(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): void {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    try {
      this.process(req, res, expectContinue, requestId);
    } catch (error) {
      process.stderr.write(
        `local-s3: ${error instanceof Error ? (error.stack ?? '') : String(error)}\n`,
      );
      this.refuse(req, res, S3Errors.internal(), requestId);
    }
  }

  private process(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    expectContinue: boolean,
    requestId: string,
  ): void {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const headers = headerMap(req.rawHeaders);

    if (!rawPath.startsWith('/')) {
      this.refuse(
        req,
        res,
        { status: 400, code: 'InvalidURI', message: "Couldn't parse the specified URI." },
        requestId,
      );
      return;
    }
    // CORS preflights carry no credentials, on S3 as here: s3rver answers them from the bucket's
    // CORS configuration.
    if (method === 'OPTIONS') {
      this.forward(req, res, {
        expectContinue,
        requestId,
        forwardHeaders: forwardHeaders(req.rawHeaders),
      });
      return;
    }

    const verified = verifyRequest(
      { method, rawPath, rawQuery, headers },
      {
        region: this.config.region,
        lookupSecret: this.config.lookupSecret,
        keyCache: this.config.keyCache,
        now: new Date(),
        maxSkewSeconds: this.config.maxSkewSeconds,
      },
    );
    if (!verified.ok) {
      this.refuse(req, res, verified.error, requestId, rawPath);
      return;
    }

    const query = sigv4.parseRawQuery(rawQuery); // valid: verification parsed it already
    const target = classifyRequest(method, rawPath, query, headers.has('x-amz-copy-source'));
    const fault = this.config.faults.take(target);
    if (fault !== undefined) {
      const defaults = defaultErrorFor(fault.status);
      this.refuse(
        req,
        res,
        {
          status: fault.status,
          code: fault.code ?? defaults.code,
          message: fault.message ?? defaults.message,
        },
        requestId,
        rawPath,
      );
      return;
    }

    // The body: aws-chunked framing removed, declared digests and length checked on the way.
    const single = (name: string): string | undefined => headers.get(name)?.join(',').trim();
    const outHeaders = forwardHeaders(req.rawHeaders);
    fixCopySource(outHeaders);
    const transforms: Transform[] = [];
    let trailers: ReadonlyMap<string, string> | undefined;
    let forwardLength: number | undefined;
    const payload = verified.payload;
    if (payload.kind === 'streaming') {
      const decoded = parseLength(single('x-amz-decoded-content-length'));
      if (decoded === undefined) {
        this.refuse(
          req,
          res,
          {
            status: 411,
            code: 'MissingContentLength',
            message: 'You must provide the x-amz-decoded-content-length HTTP header.',
          },
          requestId,
          rawPath,
        );
        return;
      }
      const decoder = new AwsChunkedDecoder(
        payload.signedChunks
          ? {
              signingKey: verified.signingKey,
              amzDate: verified.amzDate,
              scope: verified.scope,
              seedSignature: verified.signature,
            }
          : undefined,
        payload.trailer,
      );
      transforms.push(decoder);
      trailers = decoder.trailers;
      forwardLength = decoded;
      rewriteForDecodedBody(outHeaders, decoded);
    } else {
      const length = parseLength(single('content-length'));
      forwardLength = length ?? (headers.has('transfer-encoding') ? undefined : 0);
    }
    const checks = declaredDigestChecks(
      headers,
      payload.kind === 'sha256' ? payload.hex : undefined,
      trailers,
    );
    transforms.push(new BodyVerifier(checks, forwardLength));

    this.forward(req, res, {
      expectContinue,
      requestId,
      forwardHeaders: outHeaders,
      transforms,
      verifyFirst:
        checks.length > 0 &&
        forwardLength !== undefined &&
        forwardLength <= VERIFY_BEFORE_FORWARD_BYTES,
      onUpstreamEnd:
        target.operation === 'DELETE_OBJECTS' && target.bucket !== undefined
          ? this.deleteObjectsEvents(target.bucket, req.socket.remoteAddress ?? '127.0.0.1')
          : undefined,
    });
  }

  /**
   * Streams the request to s3rver and its response back. With `verifyFirst` the (small) body is
   * collected through the transforms before the upstream request starts.
   */
  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    plan: {
      expectContinue: boolean;
      requestId: string;
      forwardHeaders: string[];
      transforms?: Transform[];
      verifyFirst?: boolean;
      onUpstreamEnd?: (status: number, body: string) => void;
    },
  ): void {
    const method = req.method ?? 'GET';
    let failed = false;
    let upstream: http.ClientRequest | undefined;

    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      req.unpipe();
      req.resume(); // drain what is left so the connection can answer
      upstream?.destroy();
      const spec = error instanceof S3RequestError ? error.spec : S3Errors.internal();
      if (!(error instanceof S3RequestError)) {
        process.stderr.write(`local-s3: upstream failure: ${String(error)}\n`);
      }
      sendS3Error(res, spec, plan.requestId, method);
    };

    const startUpstream = (): http.ClientRequest => {
      const request = http.request({
        host: '127.0.0.1',
        port: this.config.upstreamPort,
        method,
        path: req.url,
        headers: plan.forwardHeaders,
        agent: this.config.agent,
      });
      request.on('error', fail);
      request.on('response', (up) => {
        if (failed) {
          up.resume();
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.statusMessage, forwardHeaders(up.rawHeaders));
        if (plan.onUpstreamEnd !== undefined) {
          const onEnd = plan.onUpstreamEnd;
          const parts: Buffer[] = [];
          up.on('data', (chunk: Buffer) => parts.push(chunk));
          up.on('end', () => onEnd(up.statusCode ?? 0, Buffer.concat(parts).toString('utf8')));
        }
        up.on('error', () => res.destroy());
        up.pipe(res);
      });
      upstream = request;
      return request;
    };

    // The client went away (or the response broke off): nothing more to tell it.
    res.on('close', () => {
      if (res.writableFinished) return;
      failed = true;
      req.unpipe();
      upstream?.destroy();
    });

    const transforms = plan.transforms ?? [];
    if (plan.expectContinue) res.writeContinue();
    if (transforms.length === 0) {
      req.pipe(startUpstream());
      return;
    }
    let source: NodeJS.ReadableStream = req;
    for (const transform of transforms) {
      transform.on('error', fail);
      source = source.pipe(transform);
    }
    const last = transforms[transforms.length - 1];
    if (plan.verifyFirst === true) {
      const parts: Buffer[] = [];
      last.on('data', (chunk: Buffer) => parts.push(chunk));
      last.on('end', () => {
        if (!failed) startUpstream().end(Buffer.concat(parts));
      });
    } else {
      last.pipe(startUpstream());
    }
  }

  /** s3rver emits no event for DeleteObjects: the proxy reads the result and emits one per key. */
  private deleteObjectsEvents(bucket: string, sourceIp: string) {
    return (status: number, body: string): void => {
      if (status !== 200) return;
      for (const key of deletedKeys(body)) {
        this.config.emit({
          Records: [makeRecord(this.config.region, 'ObjectRemoved:Delete', bucket, key, sourceIp)],
        });
      }
    };
  }

  private refuse(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    spec: S3ErrorSpec,
    requestId: string,
    resource?: string,
  ): void {
    req.resume(); // discard the body (unless Expect: 100-continue, then the client sends none)
    sendS3Error(res, spec, requestId, req.method, resource);
  }
}

/** A flat raw header list without hop-by-hop headers. */
function forwardHeaders(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

/** Headers for a body sent without its aws-chunked framing. */
function rewriteForDecodedBody(headers: string[], decodedLength: number): void {
  const drop = new Set(['content-length', 'x-amz-decoded-content-length', 'x-amz-trailer']);
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i].toLowerCase();
    let value = headers[i + 1];
    if (drop.has(name)) continue;
    if (name === 'content-encoding') {
      value = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '' && v.toLowerCase() !== 'aws-chunked')
        .join(', ');
      if (value === '') continue;
    }
    if (name === 'x-amz-content-sha256') value = sigv4.UNSIGNED_PAYLOAD;
    kept.push(headers[i], value);
  }
  kept.push('content-length', String(decodedLength));
  headers.splice(0, headers.length, ...kept);
}

/**
 * S3 URL-decodes `x-amz-copy-source`; s3rver applies `decodeURI`, which leaves reserved characters
 * encoded (`%2B` stays `%2B`, so keys with `+`, `&`, `=`, `;`... are not found). Re-encode it with
 * `encodeURI`, the exact inverse of what s3rver does. A `?versionId=` suffix is dropped (s3rver has
 * no versions).
 */
function fixCopySource(headers: string[]): void {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i].toLowerCase() !== 'x-amz-copy-source') continue;
    const value = headers[i + 1];
    const q = value.indexOf('?');
    try {
      headers[i + 1] = encodeURI(decodeURIComponent(q === -1 ? value : value.slice(0, q)));
    } catch {
      // malformed encoding: pass it on as is, s3rver reports the missing source
    }
  }
}

function parseLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

interface ChildHandle {
  port: number;
  stop(): Promise<void>;
}

/** Forks s3rver-child (TypeScript via @swc-node/register when running from sources). */
async function startChild(
  config: ChildConfig,
  timeoutMs: number,
  onEvent: (event: S3NotificationEvent) => void,
): Promise<ChildHandle> {
  const fromSources = path.extname(__filename) === '.ts';
  const childFile = path.join(__dirname, `s3rver-child${fromSources ? '.ts' : '.js'}`);
  const execArgv = ['--openssl-legacy-provider', '--no-deprecation'];
  const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_S3_CHILD_CONFIG: JSON.stringify(config) };
  if (fromSources) {
    execArgv.push('-r', require.resolve('@swc-node/register'));
    const tsconfig = path.resolve(__dirname, '..', '..', 'tsconfig.json');
    if (existsSync(tsconfig)) env.SWC_NODE_PROJECT = tsconfig;
  }
  const child: ChildProcess = fork(childFile, [], {
    execArgv,
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local-s3: s3rver did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (message: ChildMessage) => {
      switch (message.type) {
        case 'ready':
          clearTimeout(timer);
          resolve(message.port);
          return;
        case 'event':
          onEvent(message.event);
          return;
        case 'fatal':
          clearTimeout(timer);
          reject(new Error(`local-s3: s3rver failed: ${message.message}`));
          return;
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`local-s3: s3rver exited before starting (code ${code}, signal ${signal})`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  }).catch(async (error: unknown) => {
    if (!exited) child.kill('SIGKILL');
    await exit;
    throw error;
  });

  let stopped = false;
  child.once('exit', (code, signal) => {
    if (!stopped) {
      process.stderr.write(
        `local-s3: s3rver exited unexpectedly (code ${code}, signal ${signal})\n`,
      );
    }
  });

  return {
    port,
    stop: async () => {
      stopped = true;
      if (exited) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
