import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import Redis from 'ioredis';
import { GatewayEnv } from '../config/gateway.env';

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
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayEnv, true>) =>
        new Redis(config.get('REDIS_URL', { infer: true }), {
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
