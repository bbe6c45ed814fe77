import { readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { FLOW_LIMITS, OBJECT_LIMITS } from '@lib/contracts';
import { connectHttp2, http2Request, startTestPlatform, TestOrg, TestPlatform } from '@lib/testing';
import { routesOf } from '../support/hostile-input';
import { exchange, head } from '../support/raw-http';

// The gateway's defences against requests that cost it memory or connections before anyone is known:
// credentials are checked before a body is read, each route has its own body limit, and a request has
// deadlines. The attacks are real (a real gateway, real sockets); memory is read from /proc.

const MiB = 1024 * 1024;

/** `[{},{},…]` of `bytes`: the JSON that costs a parser the most memory per byte (~20× its size). */
function emptyObjects(bytes: number): Buffer {
  const count = Math.floor((bytes - 2) / 3);
  return Buffer.from(`[${'{},'.repeat(count - 1)}{}]`);
}

/** A process's resident memory, current and peak, in MiB (Linux `/proc/<pid>/status`). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Writes `lines` one by one, `everyMs` apart, until the connection closes. */
function trickle(socket: Socket, lines: () => string, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.writable) socket.write(lines());
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

describe('gateway request limits', () => {
  let t: TestPlatform;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestPlatform({
      // Objects are created by object-metadata; every other request here ends in the gateway.
      apps: ['object-metadata', 'gateway'],
      env: { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '3000' },
    });
    org = await t.createOrg();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('should answer 401 on every authenticated route before reading the body', async () => {
    const doc = (await (await fetch(`${t.gatewayUrl}/docs-json`)).json()) as Parameters<
      typeof routesOf
    >[0];
    // The public surface: routes that take an API key, a JWT or an org private key, and a body.
    const routes = routesOf(doc).filter(
      (r) =>
        (r.auth === 'bearer' || r.auth === 'api-key') &&
        ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method),
    );
    expect(routes.length).toBeGreaterThanOrEqual(15);
    // Well-formed keys no one holds: the guard looks them up before refusing them.
    const unknown = (key: string) => `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    const credentialSets = [
      [],
      [`authorization: Bearer ${unknown(org.apiKey)}`, `api-key: ${unknown(org.orgPrivateKey)}`],
    ];
    const answers: string[] = [];
    for (const route of routes) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      for (const credentials of credentialSets) {
        // 10 MiB announced and not one byte of it sent: only an answer given before the body ends this.
        const answer = await exchange(t.gatewayUrl, (socket) =>
          socket.write(
            head(
              `${route.method} ${path} HTTP/1.1`,
              'host: gateway',
              'content-type: application/json',
              `content-length: ${10 * MiB}`,
              ...credentials,
            ),
          ),
        );
        const { error } = JSON.parse(answer.body) as { error: { code: string } };
        answers.push(`${route.method} ${route.path}: ${answer.status} ${error.code}`);
        expect(answer.headers.connection).toBe('close');
      }
    }
    expect(answers.filter((a) => !a.endsWith(': 401 UNAUTHORIZED'))).toEqual([]);
  });

  it('should answer 401 over HTTP/2 before a body that never ends, reset the stream, keep the session', async () => {
    const session = await connectHttp2(t.gatewayUrl);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/v1/objects',
        'content-type': 'application/json',
      });
      stream.write('[{},{},'); // and never more, never the end
      const chunks: Buffer[] = [];
      let status = 0;
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // Only the server can end this stream: it answers, then resets it with NO_ERROR (RFC 9113, 8.1).
      await new Promise((resolve) => stream.on('close', resolve));
      expect(status).toBe(401);
      expect(stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
      expect(JSON.parse(Buffer.concat(chunks).toString())).toMatchObject({
        error: { code: 'UNAUTHORIZED' },
      });
      const listed = await http2Request(session, {
        path: '/v1/objects',
        headers: { authorization: `Bearer ${org.apiKey}` },
      });
      expect(listed.status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('should keep its memory while unauthenticated bodies of 10 MiB and 1 MiB flood it, then serve', async () => {
    const pid = t.platform.pid('gateway')!;
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // the peak restarts from the current size
    const before = memoryOf(pid);
    /**
     * `requests` POSTs of `body` without credentials, `inFlight` at a time: the statuses answered, and
     * `closed` when the gateway closed the connection before the client had sent all of its body.
     */
    const flood = async (body: Buffer, requests: number, inFlight: number) => {
      const outcomes = new Set<number | 'closed'>();
      let left = requests;
      const sender = async () => {
        while (left-- > 0) {
          try {
            const res = await fetch(`${t.gatewayUrl}/v1/objects`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            outcomes.add(res.status);
            await res.arrayBuffer();
          } catch (err) {
            const code = ((err as Error).cause as { code?: string } | undefined)?.code;
            if (!['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(code ?? '')) throw err;
            outcomes.add('closed');
          }
        }
      };
      await Promise.all(Array.from({ length: inFlight }, sender));
      return [...outcomes];
    };
    // 40 bodies of 10 MiB at once, then 400 of 1 MiB (the largest any route takes) 40 at a time: a
    // gateway that parsed them before authenticating held ~20 MiB of heap per MiB of body.
    const outcomes = [
      await flood(emptyObjects(10 * MiB), 40, 40),
      await flood(emptyObjects(FLOW_LIMITS.bodyBytes), 400, 40),
    ];
    const after = memoryOf(pid);
    console.log(
      `gateway RSS ${before.rss.toFixed(0)} MiB before, peak ${after.peak.toFixed(0)} MiB during the flood`,
    );
    expect(after.peak - before.rss).toBeLessThan(150);
    for (const seen of outcomes) {
      // Refused, each: 401 before its body, or (on a busy machine) 408 when it was not all there in time.
      expect(seen).toContain(401);
      expect(seen.filter((o) => o !== 401 && o !== 408 && o !== 'closed')).toEqual([]);
    }

    const created = await fetch(`${t.gatewayUrl}/v1/objects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'after-the-flood.txt', content_type: 'text' }),
    });
    expect(created.status).toBe(200);
  });

  it('should refuse an authenticated body over its route limit with a 413 naming the limit', async () => {
    const cases: [string, Record<string, string>, number, unknown][] = [
      [
        '/v1/objects',
        { authorization: `Bearer ${org.apiKey}` },
        OBJECT_LIMITS.createBodyBytes,
        { error: { code: 'PAYLOAD_TOO_LARGE' } },
      ],
      [
        '/api/private/storage/folder',
        { 'api-key': org.orgPrivateKey },
        64 * 1024,
        { success: false, error: { code: 'PAYLOAD_TOO_LARGE' } },
      ],
      [
        '/api/v1/flow/too-large',
        { authorization: `Bearer ${org.apiKey}` },
        FLOW_LIMITS.bodyBytes,
        { error: { code: 'PAYLOAD_TOO_LARGE' } },
      ],
    ];
    for (const [path, credentials, limit, envelope] of cases) {
      const res = await fetch(`${t.gatewayUrl}${path}`, {
        method: 'POST',
        headers: { ...credentials, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x'.repeat(limit) }),
      });
      expect({ path, status: res.status }).toEqual({ path, status: 413 });
      const body = (await res.json()) as { error: { message: string } };
      expect(body).toMatchObject(envelope as object);
      expect(body.error.message).toBe(
        `The request body is larger than the ${limit} bytes this route accepts`,
      );
    }
  });

  it('should take the largest valid object create, metadata written as \\u escapes', async () => {
    // 32 KiB of metadata (the most there may be) whose every character JSON escapes: ~192 KiB.
    const value = '\u0001'.repeat(4094);
    const metadata = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, value]));
    const body = JSON.stringify({ name: 'escaped.txt', content_type: 'text', metadata });
    expect(body.length).toBeGreaterThan(190 * 1024);
    const res = await fetch(`${t.gatewayUrl}/v1/objects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
  });

  it('should cut off a body sent a few bytes a second with a JSON 408', async () => {
    const answer = await exchange(t.gatewayUrl, (socket) => {
      socket.write(
        head(
          'POST /v1/objects HTTP/1.1',
          'host: gateway',
          `authorization: Bearer ${org.apiKey}`,
          'content-type: application/json',
          'content-length: 100000',
        ),
      );
      trickle(socket, () => 'ab', 500);
    });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'REQUEST_TIMEOUT', message: 'the request took too long to arrive' },
    });
  });

  it('should close connections that send nothing, or only part of the HTTP/2 preface', async () => {
    /** What a connection that writes `first` and then nothing more received before the gateway closed it. */
    const silent = (first: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(new URL(t.gatewayUrl).port), '127.0.0.1');
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('error', () => undefined);
        socket.once('connect', () => socket.write(first));
        socket.on('close', () => resolve(received));
      });
    // Only the gateway can end these (by the headers deadline): the client never sends another byte.
    expect(await Promise.all([silent(''), silent('PRI * HTTP/2.0\r\n')])).toEqual(['', '']);
  });

  it('should cut off headers sent a line at a time with a JSON 408', async () => {
    let n = 0;
    const answer = await exchange(t.gatewayUrl, (socket) => {
      socket.write('GET /v1/objects HTTP/1.1\r\nhost: gateway\r\n');
      trickle(socket, () => `x-line-${n++}: a\r\n`, 500);
    });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'REQUEST_TIMEOUT' } });
  });
});
