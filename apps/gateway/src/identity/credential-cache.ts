interface Entry {
  value: unknown;
  orgId: string;
  expiresAt: number;
}

export interface CredentialCacheOptions {
  /** How long a positive lookup is trusted. Also the worst-case revocation delay (see the store). */
  ttlMs: number;
  /** Bound on memory; the least recently used entry goes first. */
  maxEntries: number;
  now?: () => number;
}

/**
 * In-process TTL + LRU cache of resolved credentials, evictable by entry and by org.
 *
 * A lookup that started before an eviction must not re-insert what the eviction removed, so writers
 * pass the `generation` they read before querying; any eviction bumps it and stale writes are dropped.
 */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private gen = 0;
  private readonly now: () => number;

  constructor(private readonly options: CredentialCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Read this before the database lookup whose result you will `set`. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.entries.size;
  }

  get<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Re-insert to mark it most recently used (a Map iterates in insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value as T;
  }

  /** Stores `value` unless an eviction happened since `generation` was read. */
  set(key: string, value: unknown, orgId: string, generation: number): void {
    if (generation !== this.gen) return;
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, orgId, expiresAt: this.now() + this.options.ttlMs });
  }

  delete(key: string): void {
    this.gen++;
    this.entries.delete(key);
  }

  /** Evicts every entry of an org (capability change, org-wide invalidation). */
  deleteOrg(orgId: string): void {
    this.gen++;
    for (const [key, entry] of this.entries) {
      if (entry.orgId === orgId) this.entries.delete(key);
    }
  }

  clear(): void {
    this.gen++;
    this.entries.clear();
  }
}
