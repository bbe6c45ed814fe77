import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createRequire } from 'node:module';
import { setOtelContextEnabled } from './context-mode';
import { RedactingSpanProcessor } from './redacting-span-processor';
import { samplerFromEnv } from './trace-sampler';

export interface TracingOptions {
  /** `service.name` of every span, e.g. `gateway`. */
  serviceName: string;
  /**
   * OTLP/HTTP collector: a base URL (`http://otel-collector:4318`) or the full traces URL
   * (`.../v1/traces`). Without it spans are still created and propagated, never exported.
   */
  otlpEndpoint?: string;
  /** Which traces are recorded (`tracingEnv`). Default: every trace, children following their parent. */
  sampler?: Sampler;
}

export interface TracingHandle {
  /** Flushes pending spans to the exporter and switches tracing off. */
  shutdown(): Promise<void>;
}

let active: TracingHandle | undefined;

/**
 * Starts OpenTelemetry tracing for this process: a client span and `traceparent` on outgoing
 * http/undici (fetch) calls; with `installRequestContext` on the Fastify instance, a server span per
 * incoming request (continuing its `traceparent`). OpenTelemetry's standard variables apply: sampling by
 * `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default: every trace, children following their
 * parent), resource attributes by `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` (over the app's name).
 * Call it in a file of its own imported first by `main.ts` (SWC hoists all imports above a file's
 * statements), before Nest and Fastify load. Calling it again returns the running instance.
 */
export function initTracing(options: TracingOptions): TracingHandle {
  if (active !== undefined) return active;

  const exporterUrl = options.otlpEndpoint ? tracesUrl(options.otlpEndpoint) : undefined;
  const provider = new NodeTracerProvider({
    resource: defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }))
      .merge(detectResources({ detectors: [envDetector] })),
    sampler: options.sampler ?? samplerFromEnv({}),
    // Spans leave the process without object keys or URL signatures (`RedactingSpanProcessor`).
    spanProcessors: exporterUrl
      ? [
          new RedactingSpanProcessor(
            new BatchSpanProcessor(new OTLPTraceExporter({ url: exporterUrl })),
          ),
        ]
      : [],
  });
  // The default context manager of NodeTracerProvider is AsyncLocalStorage-based.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  setOtelContextEnabled(true);

  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Server spans come from a Fastify hook (`installRequestContext`, server-spans.ts), at a fraction
        // of the cost; this instrumentation keeps the client side (the AWS SDK's http requests).
        disableIncomingRequestInstrumentation: true,
        // SDK calls made outside any request (e.g. S3 from a queue worker) are not worth a root trace.
        requireParentforOutgoingSpans: true,
      }),
      // Likewise for fetch/undici: the upload watcher's HEADs are not worth a root trace each.
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });

  // An instrumentation patches a module when it is required after registration. Fastify (loaded
  // by this very lib) or any early import may have required http already: requiring it again
  // applies the patch, and since it mutates the shared module object (Server.prototype.emit,
  // request, get), servers and clients created from earlier references are traced too.
  const nodeRequire = createRequire(__filename);
  for (const core of ['node:http', 'node:https']) nodeRequire(core);

  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    unregister();
    await provider.shutdown();
    setOtelContextEnabled(false);
    trace.disable();
    propagation.disable();
    context.disable();
    active = undefined;
  };
  const handle: TracingHandle = { shutdown: () => (stopped ??= stop()) };
  active = handle;
  return handle;
}

/**
 * Flushes and stops the tracing started by `initTracing`, if any: call it after `app.close()` and
 * before `process.exit`, or the last batch of spans is lost. Safe to call more than once.
 */
export async function shutdownTracing(): Promise<void> {
  await active?.shutdown();
}

function tracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`;
}
