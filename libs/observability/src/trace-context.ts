import {
  context,
  isSpanContextValid,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';

// The active trace of this process (log lines, `tool_trace_id`, spans of its own). Trace context crosses
// Kafka in the events' headers (`captureTraceHeaders`/`contextFromHeaders` of @lib/events) and HTTP through
// the OpenTelemetry instrumentations.

const TRACER_NAME = '@lib/observability';

/** The active span's context when it carries a real trace (not the invalid all-zero one). */
export function currentSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The W3C trace id (32 hex chars) of the active span, e.g. for `tool_trace_id` or error bodies. */
export function currentTraceId(): string | undefined {
  return currentSpanContext()?.traceId;
}

/**
 * Runs `fn` in a new active span (child of the current one). The span records a thrown error,
 * is marked as failed and always ends; the error is rethrown.
 */
export async function withSpan<T>(
  name: string,
  fn: (span: Span) => T | Promise<T>,
  attributes?: Attributes,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return trace
    .getTracer(TRACER_NAME)
    .startActiveSpan(name, { kind, attributes }, async (span): Promise<T> => {
      try {
        return await fn(span);
      } catch (error) {
        const exception = error instanceof Error ? error : String(error);
        span.recordException(exception);
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    });
}
