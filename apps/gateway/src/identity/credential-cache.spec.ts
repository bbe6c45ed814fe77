import { CredentialCache } from './credential-cache';

describe(CredentialCache.name, () => {
  let now: number;
  let sut: CredentialCache;

  beforeEach(() => {
    now = 1_000;
    sut = new CredentialCache({ ttlMs: 100, maxEntries: 3, now: () => now });
  });

  it('should return a value until its TTL ends', () => {
    sut.set('a', 1, 'org1', sut.generation);
    now += 99;
    expect(sut.get('a')).toBe(1);
    now += 1;
    expect(sut.get('a')).toBeUndefined();
  });

  it('should drop the least recently used entry when full', () => {
    for (const k of ['a', 'b', 'c']) sut.set(k, k, 'org1', sut.generation);
    sut.get('a');
    sut.set('d', 'd', 'org1', sut.generation);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')).toBe('a');
    expect(sut.size).toBe(3);
  });

  it('should not store a lookup that started before an eviction', () => {
    const generation = sut.generation;
    sut.delete('a'); // e.g. a revocation arrives while the database query runs
    sut.set('a', 'stale', 'org1', generation);
    expect(sut.get('a')).toBeUndefined();
  });

  it('should evict every entry of an org when the org is invalidated', () => {
    sut.set('a', 1, 'org1', sut.generation);
    sut.set('b', 2, 'org2', sut.generation);
    sut.deleteOrg('org1');
    expect(sut.get('a')).toBeUndefined();
    expect(sut.get('b')).toBe(2);
  });
});
