import { initTracing } from '@lib/observability';
export const tracing = process.env.OBS === '1' || process.env.OBS === 'trace' ? initTracing({ serviceName: 'bench' }) : undefined;
