import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A BullMQ prefix of its own per suite, so suites sharing one Redis never see each other's jobs. */
export function testRedisPrefix(prefix = 't'): { prefix: string; cleanup(): Promise<void> } {
  const value = `${prefix}${randomBytes(5).toString('hex')}`;
  return {
    prefix: value,
    cleanup: async () => {
      const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
      await redis.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${value}:*`, 'COUNT', 1000);
          if (keys.length) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
