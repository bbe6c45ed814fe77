import {
  context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Link,
  type TextMapGetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { IHeaders } from 'kafkajs';

// Always W3C Trace Context, whatever global propagator the process registered: `traceparent` is part of the
// public event contract, so it must not change with a service's tracing configuration.
const w3c = new W3CTraceContextPropagator();

/**
 * The W3C trace headers (`traceparent`, and `tracestate` when set) of `ctx` (default: the active context);
 * empty when there is no valid span in it.
 */
export function captureTraceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

/** Reads Kafka headers as the propagator asks for them: only `traceparent`/`tracestate` get decoded. */
const kafkaHeadersGetter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => headerString(carrier[key]),
};

/**
 * The context a message's `traceparent`/`tracestate` headers describe (ROOT_CONTEXT-based when none), from
 * kafkajs headers (Buffers) or already decoded ones.
 */
export function contextFromHeaders(headers: Readonly<IHeaders>): Context {
  return w3c.extract(ROOT_CONTEXT, headers, kafkaHeadersGetter);
}

/** A span link to the remote span in `ctx`, if there is one (consumers link a batch span to every message). */
export function linkTo(ctx: Context): Link | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext)
    ? { context: spanContext }
    : undefined;
}

/**
 * kafkajs headers as a plain string map: Buffers decoded as UTF-8, the first value of a repeated header,
 * absent values dropped, NUL characters removed (Postgres text and jsonb refuse them).
 */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = headerString(raw);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function headerString(raw: IHeaders[string]): string | undefined {
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined) return undefined;
  return stripNul(typeof first === 'string' ? first : first.toString('utf8'));
}

const NUL = String.fromCharCode(0);

/** `s` without NUL characters. */
export function stripNul(s: string): string {
  return s.includes(NUL) ? s.split(NUL).join('') : s;
}
