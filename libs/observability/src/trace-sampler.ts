import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';

/** The samplers `OTEL_TRACES_SAMPLER` may name (OpenTelemetry's standard environment variables). */
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

type SamplerName = (typeof SAMPLERS)[number];

type TracingEnv = Record<string, string | undefined>;

/**
 * What tracing reads of the environment, before Nest and the app's validated config exist (`tracing.ts`
 * of each app): the OTLP collector (OTEL_EXPORTER_OTLP_ENDPOINT, validated again with the app's config)
 * and the sampler (`samplerFromEnv`). Throws a message naming a bad variable.
 */
export function tracingEnv(env: TracingEnv = process.env): {
  otlpEndpoint?: string;
  sampler: Sampler;
} {
  return {
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined,
    sampler: samplerFromEnv(env),
  };
}

/**
 * The sampler that `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (a ratio in [0, 1], default 1) ask
 * for; `parentbased_always_on` when unset: every trace, children following their parent's decision.
 * Throws a message naming the variable when either is invalid, so an app refuses to start with it.
 */
export function samplerFromEnv(env: TracingEnv): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(name)) {
    throw new Error(
      `OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')} (got ${JSON.stringify(name)})`,
    );
  }
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (name.endsWith('traceidratio') && !(ratio >= 0 && ratio <= 1)) {
    throw new Error(
      `OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for ${name} (got ${JSON.stringify(arg)})`,
    );
  }
  const root = (base: string): Sampler =>
    base === 'always_on'
      ? new AlwaysOnSampler()
      : base === 'always_off'
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(ratio);
  return name.startsWith('parentbased_')
    ? new ParentBasedSampler({ root: root(name.slice('parentbased_'.length)) })
    : root(name);
}
