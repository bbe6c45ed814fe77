import { SpanKind, trace } from '@opentelemetry/api';
import { currentRequestId, runWithRequestContext } from './request-context';
import { currentTraceId, withSpan } from './trace-context';
import { initTracing, shutdownTracing } from './tracing';

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
  });

  it('should give the trace id of the active span', async () => {
    const traceId = await withSpan('span', () => currentTraceId());

    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
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
});
