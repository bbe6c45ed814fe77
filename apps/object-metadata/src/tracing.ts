// Imported first by main.ts: tracing must patch http/undici before anything else loads them.
import { initTracing, tracingEnv } from '@lib/observability';

initTracing({ serviceName: 'object-metadata', ...tracingEnv() });
