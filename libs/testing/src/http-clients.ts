import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

/** One answer, whichever protocol carried it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** `2.0` or `1.1`: what the server actually spoke. */
  httpVersion: string;
  text(): string;
  json<T = unknown>(): T;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** A body to send whole, or a stream of it (sent as it is read). */
  body?: string | Buffer | Readable;
}

function rawResponse(
  status: number,
  headers: RawResponse['headers'],
  body: Buffer,
  httpVersion: string,
): RawResponse {
  return {
    status,
    headers,
    body,
    httpVersion,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

function sendBody(stream: NodeJS.WritableStream, body: RawRequest['body']): void {
  if (body instanceof Readable) body.pipe(stream);
  else if (body === undefined) stream.end();
  else stream.end(body);
}

/**
 * An HTTP/2 client session to `origin`: over cleartext with prior knowledge for `http://` (what Node's
 * `http2.connect` does), or negotiated by ALPN for `https://` (`ca` trusts a test certificate).
 */
export function connectHttp2(
  origin: string,
  ca?: string | Buffer,
): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin, ca ? { ca } : {});
    session.once('error', reject);
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => undefined); // a failure shows on the request that meets it
      resolve(session);
    });
  });
}

/** One request on an HTTP/2 session. */
export function http2Request(
  session: http2.ClientHttp2Session,
  req: RawRequest,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': req.method ?? 'GET',
      ':path': req.path,
      ...req.headers,
    });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const { ':status': status, ...rest } = headers;
      resolve(rawResponse(Number(status), rest, Buffer.concat(chunks), '2.0'));
    });
    stream.on('error', reject);
    sendBody(stream, req.body);
  });
}

/**
 * One request over HTTP/1.1 by Node's `http`, or `https` trusting `ca` (an HTTP/1.1-only client: it offers no
 * ALPN), on a connection of its own.
 */
export function http1Request(
  origin: string,
  req: RawRequest,
  ca?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const options = { method: req.method ?? 'GET', headers: req.headers, agent: false as const };
    const request = (ca ? https : http).request(
      new URL(req.path, origin),
      ca ? { ...options, ca } : options,
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve(
            rawResponse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks), res.httpVersion),
          ),
        );
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    sendBody(request, req.body);
  });
}

export interface TestCertificate {
  /** Paths of the PEM certificate (for 127.0.0.1 and localhost, self-signed) and its key. */
  certFile: string;
  keyFile: string;
  /** The certificate itself: what a client trusts. */
  cert: string;
  cleanup(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, valid one day, made for the occasion. */
export async function testCertificate(): Promise<TestCertificate> {
  const directory = await mkdtemp(join(tmpdir(), 'platform-tls-'));
  const certFile = join(directory, 'cert.pem');
  const keyFile = join(directory, 'key.pem');
  await promisify(execFile)(
    'openssl',
    [
      ...'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1'.split(' '),
      ...['-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ],
    { timeout: 30_000 },
  );
  return {
    certFile,
    keyFile,
    cert: await readFile(certFile, 'utf8'),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}
