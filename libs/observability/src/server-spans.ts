import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';

const tracer = trace.getTracer('@lib/observability');
const SERVER_SPAN = Symbol('server span');

type TracedRequest = FastifyRequest & { [SERVER_SPAN]?: Span };

/**
 * Starts the server span of an incoming request, continuing its `traceparent` (a fresh trace without
 * one), and returns the context to handle it in. Attributes after OpenTelemetry's HTTP conventions:
 * method, route pattern, path (never the query string, which may carry signatures or tokens).
 *
 * A Fastify hook rather than the http instrumentation's server side: that one wraps every request's
 * emitters and computes some twenty attributes, ~130 µs of CPU per request here, about a fifth of an
 * app's cost per request (bench/hotpath-cpu.bench.ts); this costs a span.
 */
export function startServerSpan(request: FastifyRequest, path: string): Context {
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const route = request.routeOptions.url;
  const span = tracer.startSpan(
    route ? `${request.method} ${route}` : request.method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': request.method,
        'url.path': path,
        ...(route ? { 'http.route': route } : {}),
      },
    },
    parent,
  );
  (request as TracedRequest)[SERVER_SPAN] = span;
  return trace.setSpan(parent, span);
}

/**
 * Ends the request's server span, if it has one that is still open: with the response status (5xx marks
 * it failed), or, without one, as aborted by the client.
 */
export function endServerSpan(request: FastifyRequest, statusCode: number | undefined): void {
  const traced = request as TracedRequest;
  const span = traced[SERVER_SPAN];
  if (span === undefined) return;
  traced[SERVER_SPAN] = undefined;
  if (statusCode === undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted by the client' });
  } else {
    span.setAttribute('http.response.status_code', statusCode);
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
