import { Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';

/**
 * WARNING: persisted name, shared by every gateway replica and the admin CLI (possibly of different
 * versions during a rollout). Never rename; a new message shape gets a new channel.
 */
export const CREDENTIAL_INVALIDATION_CHANNEL = 'identity:credentials:invalidate:v1';

/** What a replica must drop from its credential cache. */
export type CredentialInvalidation =
  { type: 'api_key'; apiKeyId: string; hash: string } | { type: 'org'; orgId: string };

export interface CredentialInvalidationOptions {
  /** Null: no Redis, so only this process hears its own invalidations (and `live` stays false). */
  redisUrl: string | null;
  /** Subscribe to other processes' invalidations (gateways); the CLI only publishes. */
  subscribe: boolean;
  /** Period of the subscriber's liveness ping. Default 5 s. */
  heartbeatMs?: number;
  /** Timeout of a ping, a subscribe or a publish. Default 2 s. */
  timeoutMs?: number;
}

/**
 * Redis pub/sub that carries credential invalidations between gateway replicas.
 *
 * `live` is true only while this process is subscribed and its last heartbeat answered: the credential
 * store trusts its cache only then. When the link drops (connection closed, ping timed out) `live` turns
 * false and listeners are told, so caches are flushed and bypassed; when the subscription is confirmed
 * again they are flushed once more, since invalidations sent meanwhile were lost.
 */
export class CredentialInvalidationService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CredentialInvalidationService.name);
  private readonly publisher: Redis | null;
  private readonly subscriber: Redis | null;
  private readonly messageListeners = new Set<(message: CredentialInvalidation) => void>();
  private readonly linkListeners = new Set<(live: boolean) => void>();
  private readonly heartbeatMs: number;
  private readonly timeoutMs: number;
  private heartbeat?: NodeJS.Timeout;
  private isLive = false;
  private closed = false;

  constructor(options: CredentialInvalidationOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    const redisOptions = { maxRetriesPerRequest: 1, connectionName: 'credential-invalidation' };
    // Lazy: connects on the first publish, so a CLI command that revokes nothing never dials Redis.
    this.publisher = options.redisUrl
      ? new Redis(options.redisUrl, { ...redisOptions, lazyConnect: true })
      : null;
    this.subscriber =
      options.redisUrl && options.subscribe ? new Redis(options.redisUrl, redisOptions) : null;
    this.publisher?.on('error', (err: Error) => this.logger.warn(`publisher: ${err.message}`));
    if (this.subscriber) this.wireSubscriber(this.subscriber);
  }

  /** True while invalidations from other processes are guaranteed to reach this one. */
  get live(): boolean {
    return this.isLive;
  }

  onInvalidation(listener: (message: CredentialInvalidation) => void): void {
    this.messageListeners.add(listener);
  }

  onLinkChange(listener: (live: boolean) => void): void {
    this.linkListeners.add(listener);
  }

  onModuleInit(): void {
    // Not awaited: the gateway boots (and serves, uncached) while Redis is away.
    void this.confirmSubscription();
    if (this.subscriber) {
      this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Resolves once the subscription is confirmed (or at once without a subscriber). For tests and boot. */
  async waitUntilLive(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.subscriber && !this.isLive && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.isLive;
  }

  /**
   * Delivers to this process's listeners at once, then to every other process through Redis.
   * Returns false when Redis did not take the message: other replicas then drop the entry when its TTL
   * ends (or earlier, if they noticed the outage and bypass their caches).
   */
  async publish(message: CredentialInvalidation): Promise<boolean> {
    this.deliver(message);
    if (!this.publisher) return false;
    try {
      await withTimeout(
        this.publisher.publish(CREDENTIAL_INVALIDATION_CHANNEL, JSON.stringify(message)),
        this.timeoutMs,
      );
      return true;
    } catch (e) {
      this.logger.warn(`could not publish a credential invalidation: ${(e as Error).message}`);
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.setLive(false);
    await Promise.all(
      [this.publisher, this.subscriber].map(async (redis) => {
        if (!redis) return;
        if (redis.status === 'wait') return redis.disconnect(); // never connected
        try {
          await withTimeout(redis.quit(), this.timeoutMs);
        } catch {
          redis.disconnect();
        }
      }),
    );
  }

  private wireSubscriber(subscriber: Redis): void {
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== CREDENTIAL_INVALIDATION_CHANNEL) return;
      const message = parse(raw);
      if (message) this.deliver(message);
      else this.logger.warn(`ignored a malformed credential invalidation: ${raw.slice(0, 200)}`);
    });
    subscriber.on('error', (err: Error) => this.logger.warn(`subscriber: ${err.message}`));
    subscriber.on('close', () => this.setLive(false));
    subscriber.on('ready', () => void this.confirmSubscription());
  }

  private async confirmSubscription(): Promise<void> {
    if (!this.subscriber || this.closed) return;
    try {
      // Idempotent; ioredis also resubscribes on reconnect, but only a reply proves we are subscribed.
      await withTimeout(this.subscriber.subscribe(CREDENTIAL_INVALIDATION_CHANNEL), this.timeoutMs);
      this.setLive(true);
    } catch (e) {
      this.logger.warn(`credential invalidation subscription failed: ${(e as Error).message}`);
      this.setLive(false);
    }
  }

  private async beat(): Promise<void> {
    if (!this.subscriber || this.closed) return;
    try {
      await withTimeout(this.subscriber.ping(), this.timeoutMs);
      if (!this.isLive) await this.confirmSubscription();
    } catch {
      this.setLive(false);
    }
  }

  private setLive(live: boolean): void {
    if (live === this.isLive) return;
    this.isLive = live;
    if (!live && !this.closed) {
      this.logger.warn('credential invalidations unavailable: credential cache bypassed');
    }
    for (const listener of this.linkListeners) listener(live);
  }

  private deliver(message: CredentialInvalidation): void {
    for (const listener of this.messageListeners) listener(message);
  }
}

function parse(raw: string): CredentialInvalidation | null {
  try {
    const m = JSON.parse(raw) as Partial<Record<string, unknown>>;
    if (m.type === 'api_key' && typeof m.hash === 'string' && typeof m.apiKeyId === 'string') {
      return { type: 'api_key', apiKeyId: m.apiKeyId, hash: m.hash };
    }
    if (m.type === 'org' && typeof m.orgId === 'string') return { type: 'org', orgId: m.orgId };
    return null;
  } catch {
    return null;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
