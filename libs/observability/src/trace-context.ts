import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Span,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';

const TRACER_NAME = '@lib/observability';

/** Kafka (kafkajs `IHeaders`) or HTTP-style headers: values may be strings, Buffers or arrays. */
export type CarrierHeaders = Readonly<
  Record<string, string | Buffer | readonly (string | Buffer)[] | undefined>
>;

const headersGetter: TextMapGetter<CarrierHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const raw = carrier[key];
    const value = typeof raw === 'string' || Buffer.isBuffer(raw) ? raw : raw?.[0];
    return value === undefined || typeof value === 'string' ? value : value.toString('utf8');
  },
};

/** The active span's context when it carries a real trace (not the invalid all-zero one). */
export function currentSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The W3C trace id (32 hex chars) of the active span, e.g. for `tool_trace_id` or error bodies. */
export function currentTraceId(): string | undefined {
  return currentSpanContext()?.traceId;
}

/** The active span as a W3C `traceparent` header value (`00-<trace>-<span>-<flags>`). */
export function currentTraceparent(): string | undefined {
  const spanContext = currentSpanContext();
  if (spanContext === undefined) return undefined;
  const flags = spanContext.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/**
 * Writes the active trace context (`traceparent`, plus `tracestate` when set) into `carrier`,
 * e.g. the headers of a Kafka message being produced. Returns the same carrier.
 */
export function injectTraceHeaders(carrier: Record<string, string> = {}): Record<string, string> {
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * Runs `fn` inside the trace context carried by `headers` (e.g. a consumed Kafka message), so its
 * spans and log lines join the producer's trace. Without a valid `traceparent`, `fn` runs in a
 * fresh root context: it never inherits whatever context happened to be active.
 */
export function withExtractedContext<T>(headers: CarrierHeaders | undefined, fn: () => T): T {
  const extracted =
    headers === undefined
      ? ROOT_CONTEXT
      : propagation.extract(ROOT_CONTEXT, headers, headersGetter);
  return context.with(extracted, fn);
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
