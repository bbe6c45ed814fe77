import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { GatewayConfig } from '../config/gateway.config';

/** The gateway's Redis connection (readiness; shared state such as rate limits). */
export const GATEWAY_REDIS = Symbol('GATEWAY_REDIS');

class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(GATEWAY_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: GATEWAY_REDIS,
      inject: [GatewayConfig],
      useFactory: ({ redis }: GatewayConfig) =>
        new Redis(redis.url, {
          maxRetriesPerRequest: 2,
          enableOfflineQueue: false,
          // The commands of one event-loop turn (concurrent requests' rate-limit hits) go in one write.
          enableAutoPipelining: true,
        }),
    },
    RedisShutdown,
  ],
  exports: [GATEWAY_REDIS],
})
export class RedisModule {}
