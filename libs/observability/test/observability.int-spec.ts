import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startTestKafka, TEST_REDIS_URL, waitFor, type KafkaCluster } from '@lib/testing';

type LogLine = Record<string, unknown> & { msg?: string; request_id?: string; trace_id?: string };

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const REPO_ROOT = join(__dirname, '..', '..', '..');

// The app runs as a real process (fixtures/traced-app.ts) wired like main.ts: the http
// instrumentation patches Node's require, which Jest replaces with its own. Its stdout is the
// pino destination under test.
describe('observability (traced Fastify app)', () => {
  const downstreamHeaders: IncomingHttpHeaders[] = [];
  const exported: { path?: string; contentType?: string; body: string }[] = [];
  let stdout = '';
  let stderr = '';
  let child: ChildProcessWithoutNullStreams;
  let downstream: Server;
  let collector: Server;
  let kafka: KafkaCluster;
  let baseUrl = '';
  let managementUrl = '';

  const logLines = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);

  const linesOf = (requestId: string): LogLine[] =>
    logLines().filter((line) => line.request_id === requestId);

  const completionOf = (requestId: string): Promise<LogLine> =>
    waitFor(`completion line of ${requestId}`, () =>
      linesOf(requestId).find((line) => line.msg === 'request completed'),
    );

  interface ExportedSpan {
    name: string;
    kind: number;
    parentSpanId?: string;
    status: { code?: number };
    attributes: Record<string, unknown>;
  }

  /** The span of `traceId` in the OTLP/JSON batches received so far, its attributes as a plain object. */
  const exportedSpan = (traceId: string): ExportedSpan | undefined => {
    type OtlpValue = { stringValue?: string; intValue?: string | number };
    type OtlpSpan = Omit<ExportedSpan, 'attributes'> & {
      traceId: string;
      attributes?: { key: string; value: OtlpValue }[];
    };
    for (const batch of exported) {
      const body = JSON.parse(batch.body) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const span of ss.spans)
            if (span.traceId === traceId)
              return {
                ...span,
                attributes: Object.fromEntries(
                  (span.attributes ?? []).map(({ key, value }) => [
                    key,
                    value.intValue !== undefined ? Number(value.intValue) : value.stringValue,
                  ]),
                ),
              };
    }
    return undefined;
  };

  // The test is a client, not a traced service: its requests carry no traceparent of their own.
  const call = (path: string, init?: RequestInit): Promise<Response> =>
    context.with(suppressTracing(context.active()), () => fetch(`${baseUrl}${path}`, init));
  /** A request to the app's management listener. */
  const manage = (path: string): Promise<Response> =>
    context.with(suppressTracing(context.active()), () => fetch(`${managementUrl}${path}`));

  beforeAll(async () => {
    downstream = createServer((req, res) => {
      downstreamHeaders.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    // A stand-in OTLP/HTTP collector.
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        exported.push({
          path: req.url,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    kafka = await startTestKafka({ topics: [] });

    child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(__dirname, 'fixtures', 'traced-app.ts')],
      {
        cwd: REPO_ROOT,
        stdio: 'pipe',
        env: {
          ...process.env,
          DOWNSTREAM_URL: `http://127.0.0.1:${(downstream.address() as AddressInfo).port}/internal`,
          KAFKA_BROKERS: kafka.brokers.join(','),
          REDIS_URL: TEST_REDIS_URL,
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
          // Export batches quickly rather than every 5 s.
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
      },
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`fixture exited (${code}): ${stderr}`))),
    );
    const listening = waitFor(
      'fixture listening',
      () => logLines().find((line) => line.msg === 'fixture listening'),
      { timeoutMs: 45_000 },
    );
    const { port, managementPort } = (await Promise.race([listening, exited])) as LogLine & {
      port: number;
      managementPort: number;
    };
    exited.catch(() => undefined);
    baseUrl = `http://127.0.0.1:${port}`;
    managementUrl = `http://127.0.0.1:${managementPort}`;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exit = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exit;
    }
    await kafka?.stop();
    downstream?.closeAllConnections();
    await new Promise((resolve) => downstream?.close(resolve));
    collector?.closeAllConnections();
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('should write Nest bootstrap logs as JSON lines', () => {
    expect(logLines()).toContainEqual(
      expect.objectContaining({
        level: 'info',
        service: 'obs-fixture',
        context: 'RoutesResolver',
        msg: expect.stringContaining('ThingsController'),
      }),
    );
  });

  it('should continue an incoming traceparent in logs and in the outgoing undici request', async () => {
    const response = await call('/api/things/relay', {
      headers: {
        traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
        'x-request-id': 'req-relay-1',
      },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-relay-1');

    // Propagation: the downstream service sees the same trace, under a new (client) span.
    const outgoing = downstreamHeaders.at(-1)?.traceparent;
    expect(outgoing).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(outgoing).not.toContain(PARENT_SPAN_ID);

    // Logs: the handler's line and the completion line carry the request id and the trace id.
    const completion = await completionOf('req-relay-1');
    expect(completion).toMatchObject({
      level: 'info',
      service: 'obs-fixture',
      trace_id: TRACE_ID,
      method: 'GET',
      path: '/api/things/relay',
      status_code: 200,
      duration_ms: expect.any(Number),
    });
    expect(linesOf('req-relay-1')).toContainEqual(
      expect.objectContaining({
        msg: 'calling downstream',
        context: 'ThingsController',
        trace_id: TRACE_ID,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      }),
    );
  });

  it('should export the spans of a continued trace to the OTLP endpoint', async () => {
    const response = await call('/api/things/otlp', {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    });
    expect(response.status).toBe(200);

    const batch = await waitFor('an exported batch with the server span', () =>
      exported.find((e) => e.body.includes(TRACE_ID) && e.body.includes(PARENT_SPAN_ID)),
    );
    expect(batch.path).toBe('/v1/traces');
    expect(batch.contentType).toContain('application/json');
    expect(batch.body).toContain('"obs-fixture"');
  });

  it('should export one server span per request: route, path, status; none for probes', async () => {
    const probeTrace = '5bf92f3577b34da6a3ce929d0e0e4737';
    const failTrace = '6bf92f3577b34da6a3ce929d0e0e4738';
    const okTrace = '7bf92f3577b34da6a3ce929d0e0e4739';
    const parent = (traceId: string) => ({ traceparent: `00-${traceId}-${PARENT_SPAN_ID}-01` });
    await (await call('/health/live', { headers: parent(probeTrace) })).arrayBuffer();
    await (await call('/api/things/fail', { headers: parent(failTrace) })).arrayBuffer();
    await (await call('/api/things/span?token=secret', { headers: parent(okTrace) })).arrayBuffer();

    const ok = await waitFor('the server span of the last request', () => exportedSpan(okTrace));
    expect(ok).toMatchObject({
      name: 'GET /api/things/:id',
      kind: 2, // SERVER
      parentSpanId: PARENT_SPAN_ID,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/api/things/:id',
        'url.path': '/api/things/span',
        'http.response.status_code': 200,
      },
    });
    expect(ok.status.code ?? 0).not.toBe(2);
    expect(
      await waitFor('the server span of the failed request', () => exportedSpan(failTrace)),
    ).toMatchObject({
      name: 'GET /api/things/fail',
      attributes: { 'http.response.status_code': 500 },
      status: { code: 2 }, // ERROR
    });
    // Spans are exported in the order they end: the probe's would be in by now.
    expect(exportedSpan(probeTrace)).toBeUndefined();
  });

  it('should start a new trace and generate a request id when the request has neither', async () => {
    const response = await call('/api/things/42?token=secret-value');
    const body = (await response.json()) as { traceId?: string; requestId?: string };
    const requestId = response.headers.get('x-request-id') ?? '';

    expect(requestId).toMatch(UUID);
    expect(body.requestId).toBe(requestId);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.traceId).not.toBe(TRACE_ID);
    const completion = await completionOf(requestId);
    expect(completion).toMatchObject({ trace_id: body.traceId, path: '/api/things/42' });
    expect(stdout).not.toContain('secret-value');
  });

  it('should replace an incoming x-request-id when it is not a sane token', async () => {
    const response = await call('/api/things/1', { headers: { 'x-request-id': 'a b' } });
    const requestId = response.headers.get('x-request-id') ?? '';

    expect(requestId).toMatch(UUID);
    await completionOf(requestId);
  });

  it('should keep the request context in the handler when the request has a body', async () => {
    const response = await call('/api/things', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-post-1',
        traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
      },
      // Large enough to arrive in several chunks, parsed from stream events.
      body: JSON.stringify({ name: 'x'.repeat(256 * 1024) }),
    });
    const body = (await response.json()) as { requestId?: string; traceId?: string };

    expect(response.status).toBe(201);
    expect(body).toEqual({ requestId: 'req-post-1', traceId: TRACE_ID });
    await completionOf('req-post-1');
    expect(linesOf('req-post-1')).toContainEqual(
      expect.objectContaining({ msg: 'creating thing', size: 256 * 1024, trace_id: TRACE_ID }),
    );
  });

  it('should log an unhandled error with the request id and trace id', async () => {
    const response = await call('/api/things/fail', { headers: { 'x-request-id': 'req-fail-1' } });

    expect(response.status).toBe(500);
    const completion = await completionOf('req-fail-1');
    expect(completion).toMatchObject({
      level: 'warn',
      status_code: 500,
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(linesOf('req-fail-1')).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'handler exploded',
        context: 'ExceptionsHandler',
        trace_id: completion.trace_id,
        err: expect.objectContaining({ message: 'handler exploded' }),
      }),
    );
  });

  it('should expose the request histogram by route pattern on /metrics of the management listener', async () => {
    await (await call('/api/things/7')).arrayBuffer();
    await (await call('/no/such/route')).arrayBuffer();
    await (await call('/health/live')).arrayBuffer();

    expect((await call('/metrics')).status).toBe(404);
    const response = await manage('/metrics');
    const text = await response.text();
    const series = (name: string) => text.split('\n').filter((l) => l.startsWith(name));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const counts = series('http_server_request_duration_seconds_count');
    expect(counts).toContainEqual(
      expect.stringMatching(
        /\{(?=.*method="GET")(?=.*route="\/api\/things\/:id")(?=.*status_code="200")(?=.*service="obs-fixture").*\} \d+$/,
      ),
    );
    expect(counts).toContainEqual(
      expect.stringMatching(/\{(?=.*route="unmatched")(?=.*status_code="404").*\} 1$/),
    );
    expect(counts.join('\n')).not.toMatch(/\/health|\/metrics|\/no\/such/);
    expect(series('things_created_total')).toEqual([
      'things_created_total{service="obs-fixture"} 1',
    ]);
    expect(series('process_cpu_user_seconds_total')).toHaveLength(1);
    expect(series('nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it('should answer /health/live outside the global prefix', async () => {
    const response = await call('/health/live');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('should answer /health/ready 200 when Kafka, Redis and the other checks pass', async () => {
    const summary = await call('/health/ready');
    const response = await manage('/health/ready');

    expect(summary.status).toBe(200);
    expect(await summary.json()).toEqual({ status: 'ok' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      checks: {
        kafka: { status: 'up', latencyMs: expect.any(Number) },
        redis: { status: 'up', latencyMs: expect.any(Number) },
        toggle: { status: 'up', latencyMs: expect.any(Number) },
      },
    });
  });

  it('should answer /health/ready 503 naming the failing check when one fails', async () => {
    await call('/api/test/dependency-down', { method: 'POST' });
    try {
      const summary = await call('/health/ready');
      const response = await manage('/health/ready');

      expect(summary.status).toBe(503);
      expect(await summary.json()).toEqual({ status: 'error' });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: 'error',
        failed: ['toggle'],
        checks: {
          kafka: { status: 'up' },
          redis: { status: 'up' },
          toggle: { status: 'down', error: 'dependency down' },
        },
      });
    } finally {
      await call('/api/test/dependency-up', { method: 'POST' });
    }
  });

  it('should answer /health/ready 503 when the Kafka broker is down', async () => {
    await kafka.nodes[0].stop();
    try {
      const response = await manage('/health/ready');

      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        failed: ['kafka'],
        checks: { kafka: { status: 'down', error: expect.stringContaining('no Kafka broker') } },
      });
    } finally {
      await kafka.nodes[0].start();
    }
  });

  // Last: the flag stays set for the rest of the process.
  it('should answer /health/ready 503 but stay live once shutting down', async () => {
    await call('/api/test/shutting-down', { method: 'POST' });

    const ready = await call('/health/ready');
    const detailed = await manage('/health/ready');
    const live = await call('/health/live');

    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'shutting_down' });
    expect(await detailed.json()).toEqual({ status: 'shutting_down', checks: {} });
    expect(live.status).toBe(200);
  });
});
