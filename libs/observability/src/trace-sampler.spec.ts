import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-node';
import { samplerFromEnv } from './trace-sampler';

/** The decision for a new root trace with this id (the XOR of its 32-bit words is its place in [0, 1]). */
const decide = (env: NodeJS.ProcessEnv, traceId = '00000000000000000000000000000001') =>
  samplerFromEnv(env).shouldSample(ROOT_CONTEXT, traceId, 'span', SpanKind.SERVER, {}, []).decision;

/** The decision for a span whose parent was (or was not) sampled. */
const decideChild = (env: NodeJS.ProcessEnv, parentSampled: boolean) => {
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: 'ffffffffffffffffffffffffffffffff',
    spanId: 'ffffffffffffffff',
    traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
  return samplerFromEnv(env).shouldSample(
    parent,
    'ffffffffffffffffffffffffffffffff',
    's',
    SpanKind.SERVER,
    {},
    [],
  ).decision;
};

describe(samplerFromEnv.name, () => {
  it('should sample every trace and follow the parent when nothing is set', () => {
    expect(decide({})).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decideChild({}, false)).toBe(SamplingDecision.NOT_RECORD);
    expect(decideChild({}, true)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('should take a ratio for new traces and let children follow their parent', () => {
    const env = {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    };
    expect(decide(env, '00000000000000000000000000000001')).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(env, 'ffffffff000000000000000000000000')).toBe(SamplingDecision.NOT_RECORD);
    expect(decideChild(env, true)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('should switch tracing off, also for children of sampled parents when not parent based', () => {
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_off' })).toBe(SamplingDecision.NOT_RECORD);
    expect(decideChild({ OTEL_TRACES_SAMPLER: 'always_off' }, true)).toBe(
      SamplingDecision.NOT_RECORD,
    );
    expect(decideChild({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, true)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('should refuse an unknown sampler and a ratio outside [0, 1], naming the variable', () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(
      /OTEL_TRACES_SAMPLER must be one of always_on, .* \(got "sometimes"\)/,
    );
    for (const arg of ['2', '-0.1', 'half']) {
      expect(() =>
        samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg }),
      ).toThrow(
        `OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for traceidratio (got "${arg}")`,
      );
    }
  });
});
