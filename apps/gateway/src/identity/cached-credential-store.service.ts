import type { ApiKeyCredential, CredentialStore, UserCredential } from '@lib/auth';
import { Injectable } from '@nestjs/common';
import { CredentialCache } from './credential-cache';
import { CredentialInvalidationService } from './credential-invalidation.service';
import { IdentityRepository } from './identity.repository';

/** Positive lookups are trusted this long; the revocation bound when invalidations cannot travel. */
export const CREDENTIAL_CACHE_TTL_MS = 30_000;
export const CREDENTIAL_CACHE_MAX_ENTRIES = 10_000;

/**
 * The gateway's `CredentialStore`: Postgres behind a short in-process cache.
 *
 * Revocation bound: a revoke evicts the key in the revoking process at once and is broadcast through
 * Redis to every replica, which evicts it before answering another request with it. The cache is only
 * read or written while this replica's invalidation subscription is live (subscribed, heartbeat
 * answered within ~7 s); when Redis is unreachable every request goes to Postgres, so revocation still
 * takes effect at once. The one window left: a replica whose subscription looks healthy while the
 * revoker cannot reach Redis (or the broadcast is lost) keeps accepting a cached key for at most
 * `CREDENTIAL_CACHE_TTL_MS` (30 s). Only valid credentials are cached; unknown and revoked keys always
 * hit Postgres, and a key created a moment ago works at once.
 */
@Injectable()
export class CachedCredentialStore implements CredentialStore {
  private readonly cache = new CredentialCache({
    ttlMs: CREDENTIAL_CACHE_TTL_MS,
    maxEntries: CREDENTIAL_CACHE_MAX_ENTRIES,
  });

  constructor(
    private readonly repository: IdentityRepository,
    private readonly invalidations: CredentialInvalidationService,
  ) {
    invalidations.onInvalidation((message) => {
      if (message.type === 'api_key') this.cache.delete(apiKeyCacheKey(message.hash));
      else this.cache.deleteOrg(message.orgId);
    });
    // Flush on both edges: entries cached before an outage may have missed invalidations during it.
    invalidations.onLinkChange(() => this.cache.clear());
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyCredential | null> {
    const key = apiKeyCacheKey(hash);
    const cached = this.readCache<ApiKeyCredential>(key);
    if (cached) return cached;
    const generation = this.cache.generation;
    const found = await this.repository.findApiKeyCredential(hash);
    if (found && !found.revokedAt) this.writeCache(key, found, found.orgId, generation);
    return found;
  }

  async findUser(orgId: string, userId: string): Promise<UserCredential | null> {
    const key = `user:${orgId}:${userId}`;
    const cached = this.readCache<UserCredential>(key);
    if (cached) return cached;
    const generation = this.cache.generation;
    const found = await this.repository.findUserCredential(orgId, userId);
    if (found) this.writeCache(key, found, orgId, generation);
    return found;
  }

  private readCache<T>(key: string): T | undefined {
    return this.invalidations.live ? this.cache.get<T>(key) : undefined;
  }

  private writeCache(key: string, value: object, orgId: string, generation: number): void {
    if (this.invalidations.live) this.cache.set(key, Object.freeze(value), orgId, generation);
  }
}

function apiKeyCacheKey(hash: string): string {
  return `key:${hash}`;
}
