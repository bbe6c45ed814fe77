import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { orgFileKey } from '@lib/contracts';
import { RedactingSpanProcessor } from './redacting-span-processor';
import { REDACTED } from './redaction';

const SIGNATURE = 'f00d'.repeat(16);

describe(RedactingSpanProcessor.name, () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new RedactingSpanProcessor(new SimpleSpanProcessor(exporter))],
  });
  const tracer = provider.getTracer('test');

  afterEach(() => exporter.reset());
  afterAll(() => provider.shutdown());

  it('should export a client span without the key and signature of its URL, exception or status', () => {
    const key = orgFileKey('acme');
    const token = key.split('/').pop() ?? '';
    const url = `http://s3:9000/platform/${key}?X-Amz-Signature=${SIGNATURE}`;
    const span = tracer.startSpan('GET', {
      kind: SpanKind.CLIENT,
      attributes: {
        'url.full': url,
        'url.path': `/platform/${key}`,
        'url.query': `?X-Amz-Signature=${SIGNATURE}`,
        'http.request.header.x': [url, 'plain'],
        'server.port': 9000,
      },
    });
    span.recordException(new Error(`GET ${url} failed`));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `no such key ${key}` });
    span.end();

    const [exported] = exporter.getFinishedSpans();
    const text = JSON.stringify({
      attributes: exported.attributes,
      events: exported.events,
      status: exported.status,
    });
    expect(text).not.toContain(token);
    expect(text).not.toContain(SIGNATURE);
    expect(exported.attributes).toMatchObject({
      'url.full': `http://s3:9000/platform/acme/files/${REDACTED}?X-Amz-Signature=${REDACTED}`,
      'url.path': `/platform/acme/files/${REDACTED}`,
      'http.request.header.x': [expect.stringContaining(REDACTED), 'plain'],
      'server.port': 9000,
    });
    expect(exported.spanContext()).toEqual(span.spanContext());
    expect(exported.kind).toBe(SpanKind.CLIENT);
    // The view reads the rest from the span itself.
    expect(exported.ended).toBe(true);
    expect(exported.duration).toEqual([expect.any(Number), expect.any(Number)]);
  });

  it('should export a span without secrets unchanged', () => {
    const span = tracer.startSpan('GET /v1/objects/:id', { attributes: { 'url.path': '/v1/x' } });
    span.end();

    expect(exporter.getFinishedSpans()[0]).toBe(span);
  });
});
