import type { ConnectionOptions, DefaultJobOptions } from 'bullmq';

/** BullMQ connection options from a redis:// URL. Workers need `maxRetriesPerRequest: null` (BullMQ's rule). */
export function queueConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
  };
}

/**
 * Defaults of every job: retried with exponential backoff; completed jobs are removed at once, because a
 * completed job with the same id would block re-adding it (BullMQ ignores an add whose id exists).
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { count: 1_000 },
};
