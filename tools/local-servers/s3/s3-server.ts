import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { BUCKET_CORS, createS3Client, sigv4 } from '@lib/s3';
import {
  freePorts,
  freshServerDirectory,
  serverClasspath,
  startJavaServer,
  type JvmProfile,
} from '../java-server';
import { classifyRequest, FaultRegistry, type FaultSpec, type InjectedFault } from './faults';

const LOGBACK_CONFIG = join(__dirname, 'logback.xml');

export interface S3ServerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** Region requests are signed for. Default us-east-1. */
  region?: string;
  /** Created at start when missing. */
  buckets: string[];
  /** The port clients use; default a free one. */
  port?: number;
  /**
   * Keep objects in this directory (S3Proxy's filesystem store: local runs keep their files across
   * restarts). Default: in memory, gone with the server.
   */
  directory?: string;
  /**
   * Without `directory`: keep objects as files in the server's working directory (in memory when `/dev/shm`
   * is writable; removed at stop) instead of in the JVM heap, which loads larger than the heap would fill
   * (benchmarks). Default false.
   */
  objectsOutsideHeap?: boolean;
  /**
   * Put the fault-injection proxy in front (tests). Default true. Without it clients talk to S3Proxy
   * directly (benchmarks, local runs) and `injectFault` throws.
   */
  faults?: boolean;
  /**
   * Accept x-amz-* headers S3Proxy does not know instead of answering 501 NotImplemented. Among them is
   * `x-amz-security-token`, which SDK calls signed with temporary credentials send (signed, so the
   * signature still covers it). Default false.
   */
  ignoreUnknownHeaders?: boolean;
  /**
   * Origins whose pages may PUT to and GET from presigned URLs (`CORS_ALLOWED_ORIGINS`), with the rule bucket
   * CORS gets on S3 (`BUCKET_CORS`). S3Proxy has no per-bucket CORS: its CORS settings are given at start and
   * apply to every bucket. Default: none (preflights are refused, no CORS headers).
   */
  corsAllowedOrigins?: readonly string[];
  jvm?: JvmProfile;
}

export interface S3Server {
  /** `http://127.0.0.1:port`: the endpoint clients use (path-style). */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /** The S3Proxy JVM's process id (benchmarks read its CPU time). */
  readonly pid: number;
  /** Makes matching requests fail with an S3 XML error until cleared or `count` were failed. */
  injectFault(spec: FaultSpec): InjectedFault;
  clearFaults(): void;
  /** Calls `listener` with the bucket and key of each object written (PUT, copy, multipart complete). */
  onObjectWritten(listener: (bucket: string, key: string) => void): () => void;
  /** Stops the proxy and the server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * S3Proxy (an S3 server that verifies SigV4 itself, header-signed and presigned) on 127.0.0.1, with the
 * given buckets; in tests behind a thin proxy that can fail chosen requests, which S3Proxy cannot.
 */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const region = opts.region ?? 'us-east-1';
  const withFaults = opts.faults ?? true;
  const [serverPort, proxyPort] = withFaults
    ? await freePorts(2).then(([a, b]) => [a, opts.port ?? b])
    : [opts.port ?? (await freePorts(1))[0], 0];
  const workDir = await freshServerDirectory('platform-s3');
  const directory =
    opts.directory ?? (opts.objectsOutsideHeap ? join(workDir, 'objects') : undefined);
  const store: Record<string, string> = directory
    ? { 'jclouds.provider': 'filesystem-nio2', 'jclouds.filesystem.basedir': directory }
    : { 'jclouds.provider': 'transient-nio2' };
  const properties: Record<string, string> = {
    's3proxy.endpoint': `http://127.0.0.1:${serverPort}`,
    's3proxy.authorization': 'aws-v4',
    's3proxy.identity': opts.accessKeyId,
    's3proxy.credential': opts.secretAccessKey,
    'jclouds.identity': opts.accessKeyId,
    'jclouds.credential': opts.secretAccessKey,
    'jclouds.regions': region,
    's3proxy.ignore-unknown-headers': String(opts.ignoreUnknownHeaders ?? false),
    ...s3ProxyCors(opts.corsAllowedOrigins ?? []),
    ...store,
  };
  if (directory) await mkdir(directory, { recursive: true });
  const propertiesFile = join(workDir, 's3proxy.properties');
  await writeFile(
    propertiesFile,
    Object.entries(properties)
      // A backslash escapes in a properties file: written doubled, read as one.
      .map(([key, value]) => `${key}=${value.replace(/\\/g, '\\\\')}`)
      .join('\n') + '\n',
  );
  const server = await startJavaServer({
    name: 'S3Proxy',
    classpath: serverClasspath('s3proxy'),
    mainClass: 'org.gaul.s3proxy.Main',
    args: ['--properties', propertiesFile],
    jvm: opts.jvm,
    jvmOptions: [`-Dlogback.configurationFile=${LOGBACK_CONFIG}`],
    logFile: join(workDir, 's3proxy.log'),
    ready: (line) => line.includes('Started') && line.includes('ServerConnector'),
  });

  const faults = new FaultRegistry();
  const writeListeners = new Set<(bucket: string, key: string) => void>();
  let proxy: http.Server | undefined;
  const stop = async () => {
    if (proxy) {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy!.close(resolve));
    }
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    if (withFaults) proxy = await startFaultProxy(proxyPort, serverPort, faults, writeListeners);
    const port = withFaults ? proxyPort : serverPort;
    const endpoint = `http://127.0.0.1:${port}`;
    const client = createS3Client({
      endpoint,
      region,
      bucket: opts.buckets[0],
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
      forcePathStyle: true,
    });
    for (const bucket of opts.buckets) {
      await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
        if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
      });
    }
    client.destroy();

    let stopping: Promise<void> | undefined;
    return {
      endpoint,
      port,
      region,
      pid: server.pid,
      injectFault(spec) {
        if (!withFaults) throw new Error('this S3 server runs without its fault proxy');
        return faults.inject(spec);
      },
      clearFaults: () => faults.clear(),
      onObjectWritten(listener) {
        writeListeners.add(listener);
        return () => writeListeners.delete(listener);
      },
      stop: () => (stopping ??= stop()),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * S3Proxy's CORS properties for `origins`: lists separated by spaces, origins as regular expressions (each
 * escaped here, so it matches that origin exactly).
 */
export function s3ProxyCors(origins: readonly string[]): Record<string, string> {
  if (origins.length === 0) return {};
  return {
    's3proxy.cors-allow-origins': origins
      .map((origin) => origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join(' '),
    's3proxy.cors-allow-methods': BUCKET_CORS.methods.join(' '),
    's3proxy.cors-allow-headers': BUCKET_CORS.allowedHeaders.join(' '),
    's3proxy.cors-exposed-headers': BUCKET_CORS.exposedHeaders.join(' '),
  };
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  // Never signed (SigV4 leaves it out); this proxy answers 100-continue itself.
  'expect',
];

/**
 * Forwards every request to S3Proxy unchanged (the `Host` header included, so signatures still verify
 * there), except those an injected fault matches, which get an S3 XML error instead.
 */
async function startFaultProxy(
  port: number,
  upstreamPort: number,
  faults: FaultRegistry,
  writeListeners: Set<(bucket: string, key: string) => void>,
): Promise<http.Server> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const target = classifyRequest(
      req.method ?? 'GET',
      q === -1 ? url : url.slice(0, q),
      sigv4.parseRawQuery(q === -1 ? '' : url.slice(q + 1)),
      req.headers['x-amz-copy-source'] !== undefined,
    );
    const fault = faults.take(target);
    if (fault) {
      const code = fault.code ?? (fault.status === 503 ? 'SlowDown' : 'InternalError');
      const message = fault.message ?? 'injected fault';
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
      );
      return;
    }
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: url, headers, agent },
      (answer) => {
        const written =
          answer.statusCode !== undefined &&
          answer.statusCode < 300 &&
          (target.operation === 'PUT' ||
            target.operation === 'COPY' ||
            target.operation === 'COMPLETE_MULTIPART');
        if (written && target.bucket !== undefined && target.key !== undefined) {
          const { bucket, key } = target;
          answer.once('end', () => writeListeners.forEach((listener) => listener(bucket, key)));
        }
        const out = { ...answer.headers };
        for (const name of HOP_BY_HOP) delete out[name];
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.destroy();
    });
    req.once('aborted', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  if ((server.address() as AddressInfo).port !== port) throw new Error('fault proxy port mismatch');
  return server;
}
