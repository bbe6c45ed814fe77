import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { DomainException } from '@lib/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { GatewayConfig } from '../config/gateway.config';
import { GATEWAY_REDIS } from '../redis/redis.module';

export class TooManyDownloadsException extends DomainException {
  constructor(retryAfterSeconds: number) {
    super(
      429,
      'RATE_LIMITED',
      `too many downloads from this address; retry in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

/** One hit on an address's counter: INCR, the window set by the first hit; answers [count, ms left]. */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
return {count, redis.call('PTTL', KEYS[1])}`;

type RateLimitRedis = Redis & {
  downloadHit(key: string, windowMs: number): Promise<[number, number]>;
};

/**
 * Per-client-address limit of public downloads: the object key is the only credential, so guessing must
 * be slow. A counter per address in Redis (one script call: INCR, window set by the first hit), shared by
 * every gateway replica; the client pipelines the calls of concurrent requests into one write. If Redis
 * does not answer, downloads are let through (logged): the 192-bit keys are the security, the limit only a
 * brake, and an outage of Redis must not stop downloads.
 */
@Injectable()
export class DownloadRateLimitGuard implements CanActivate {
  private readonly logger = new Logger(DownloadRateLimitGuard.name);
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly prefix: string;

  constructor(
    @Inject(GATEWAY_REDIS) private readonly redis: Redis,
    { downloads }: GatewayConfig,
  ) {
    this.limit = downloads.rateLimit;
    this.windowMs = downloads.rateWindowMs;
    this.prefix = downloads.rateLimitPrefix;
    redis.defineCommand('downloadHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const key = `${this.prefix}:download:${request.ip}`;
    let count: number;
    let ttlMs: number;
    try {
      [count, ttlMs] = await (this.redis as RateLimitRedis).downloadHit(key, this.windowMs);
    } catch (err) {
      this.logger.warn(`download rate limit not checked (Redis): ${(err as Error).message}`);
      return true;
    }
    if (count <= this.limit) return true;
    const retryAfter = Math.max(1, Math.ceil(ttlMs / 1000));
    http.getResponse<FastifyReply>().header('retry-after', String(retryAfter));
    throw new TooManyDownloadsException(retryAfter);
  }
}
