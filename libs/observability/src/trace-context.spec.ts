import { SpanKind, trace } from '@opentelemetry/api';
import { currentRequestId, runWithRequestContext } from './request-context';
import {
  currentTraceId,
  currentTraceparent,
  injectTraceHeaders,
  withExtractedContext,
  withSpan,
} from './trace-context';
import { initTracing, shutdownTracing } from './tracing';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('trace context helpers', () => {
  beforeAll(() => {
    initTracing({ serviceName: 'unit' });
  });

  afterAll(async () => {
    await shutdownTracing();
    await shutdownTracing();
  });

  it('should have no trace id outside any span', () => {
    expect(currentTraceId()).toBeUndefined();
    expect(currentTraceparent()).toBeUndefined();
    expect(injectTraceHeaders({})).toEqual({});
  });

  it('should continue the trace of Kafka headers when traceparent is a Buffer', async () => {
    const seen = await withExtractedContext({ traceparent: Buffer.from(TRACEPARENT) }, () =>
      withSpan('consume', () => ({ traceId: currentTraceId(), traceparent: currentTraceparent() })),
    );

    expect(seen.traceId).toBe(TRACE_ID);
    expect(seen.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(seen.traceparent).not.toContain(SPAN_ID);
  });

  it('should read the first value when a header is repeated', () => {
    const traceId = withExtractedContext({ traceparent: [TRACEPARENT, 'garbage'] }, () =>
      currentTraceId(),
    );

    expect(traceId).toBe(TRACE_ID);
  });

  it('should run in a fresh root context when the headers carry no valid traceparent', async () => {
    await withSpan('outer', async () => {
      const inner = withExtractedContext({ traceparent: 'nonsense', other: undefined }, () =>
        currentTraceId(),
      );
      const none = withExtractedContext(undefined, () => currentTraceId());

      expect(inner).toBeUndefined();
      expect(none).toBeUndefined();
      await Promise.resolve();
    });
  });

  it('should inject the active span as traceparent for a message being produced', async () => {
    const headers = await withSpan('produce', () => injectTraceHeaders({ 'content-type': 'x' }), {
      topic: 'run.created',
    });

    expect(headers['content-type']).toBe('x');
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('should end the span as failed and rethrow when the function throws', async () => {
    let span: ReturnType<typeof trace.getActiveSpan>;
    const failing = withSpan(
      'step',
      (s) => {
        span = s;
        throw new Error('step failed');
      },
      undefined,
      SpanKind.CONSUMER,
    );

    await expect(failing).rejects.toThrow('step failed');
    expect(span!.isRecording()).toBe(false); // ended
  });

  it('should carry the request id in the OpenTelemetry context when tracing is on', async () => {
    const seen = await runWithRequestContext('r-otel', () =>
      withSpan('inner', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return currentRequestId();
      }),
    );

    expect(seen).toBe('r-otel');
    expect(currentRequestId()).toBeUndefined();
  });

  it('should drop the request id when entering a consumed message context', () => {
    const seen = runWithRequestContext('r-http', () =>
      withExtractedContext({ traceparent: TRACEPARENT }, () => currentRequestId()),
    );

    expect(seen).toBeUndefined();
  });
});
