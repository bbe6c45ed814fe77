import type { Provider } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { Metrics } from '@lib/observability';
import type { Queue } from 'bullmq';

const STATES = ['waiting', 'delayed', 'active', 'failed'] as const;

/**
 * The app's BullMQ queues on `/metrics`: `bullmq_queue_jobs{queue, state}` for waiting, delayed, active and
 * failed jobs, read from Redis at each scrape (absent while Redis does not answer). One call per app,
 * with every queue it owns.
 */
export function queueMetricsProvider(...names: string[]): Provider {
  return {
    provide: Symbol('QueueMetrics'),
    inject: [Metrics, ...names.map((name) => getQueueToken(name))],
    useFactory: (metrics: Metrics, ...queues: Queue[]) => {
      metrics.gauge({
        name: 'bullmq_queue_jobs',
        help: 'Jobs of each BullMQ queue by state (waiting, delayed, active, failed).',
        labelNames: ['queue', 'state'],
        async collect() {
          this.reset();
          for (const queue of queues) {
            const counts = await queue.getJobCounts(...STATES).catch(() => undefined);
            if (!counts) continue;
            for (const state of STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }
        },
      });
      return queues.length;
    },
  };
}
