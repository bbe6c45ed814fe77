import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { captureTraceHeaders, contextFromHeaders, headersToStrings, linkTo } from './trace-context';

const spanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
};

describe('trace headers', () => {
  it('should write a W3C traceparent when the context has a span', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, spanContext);
    expect(captureTraceHeaders(ctx)).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
  });

  it('should write tracestate when the span context has one', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      ...spanContext,
      traceState: new TraceState('vendor=abc'),
    });
    expect(captureTraceHeaders(ctx).tracestate).toBe('vendor=abc');
  });

  it('should write nothing when there is no span', () => {
    expect(captureTraceHeaders(ROOT_CONTEXT)).toEqual({});
  });

  it('should read back the remote span context when headers carry one', () => {
    const ctx = contextFromHeaders({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(trace.getSpanContext(ctx)).toMatchObject({ ...spanContext, isRemote: true });
    expect(linkTo(ctx)?.context.traceId).toBe(spanContext.traceId);
  });

  it('should yield no span and no link when traceparent is malformed', () => {
    const ctx = contextFromHeaders({ traceparent: 'garbage' });
    expect(trace.getSpanContext(ctx)).toBeUndefined();
    expect(linkTo(ctx)).toBeUndefined();
  });

  it('should decode kafkajs headers to strings when they are Buffers or repeated', () => {
    expect(
      headersToStrings({
        a: Buffer.from('x'),
        b: ['first', 'second'],
        c: undefined,
        d: Buffer.from('n\u0000ul'),
      }),
    ).toEqual({ a: 'x', b: 'first', d: 'nul' });
  });
});
