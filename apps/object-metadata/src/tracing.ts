// Imported first by main.ts: tracing must patch http/undici before anything else loads them.
import { initTracing } from '@lib/observability';

initTracing({
  serviceName: 'object-metadata',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
