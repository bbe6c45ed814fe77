import type { ApiKeyCredential } from '@lib/auth';
import { CachedCredentialStore } from './cached-credential-store.service';
import type {
  CredentialInvalidation,
  CredentialInvalidationService,
} from './credential-invalidation.service';
import type { IdentityRepository } from './identity.repository';

const HASH = 'a'.repeat(64);
const key: ApiKeyCredential = {
  apiKeyId: 'f4b7a0c2-8d7e-4e35-9d1a-1b2c3d4e5f60',
  kind: 'bearer',
  orgId: '0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  orgKey: 'acme',
  userId: null,
  role: null,
  capabilities: ['objects'],
  revokedAt: null,
};

/** A stand-in for the Redis bus: the test drives `live`, messages and link changes. */
class FakeInvalidations {
  live = true;
  private messageListener?: (m: CredentialInvalidation) => void;
  private linkListener?: (live: boolean) => void;
  onInvalidation(l: (m: CredentialInvalidation) => void) {
    this.messageListener = l;
  }
  onLinkChange(l: (live: boolean) => void) {
    this.linkListener = l;
  }
  emit(m: CredentialInvalidation) {
    this.messageListener!(m);
  }
  setLive(live: boolean) {
    this.live = live;
    this.linkListener!(live);
  }
}

describe(CachedCredentialStore.name, () => {
  let findApiKeyCredential: jest.Mock<Promise<ApiKeyCredential | null>, [string]>;
  let bus: FakeInvalidations;
  let sut: CachedCredentialStore;

  beforeEach(() => {
    findApiKeyCredential = jest.fn().mockResolvedValue(key);
    bus = new FakeInvalidations();
    const repository = { findApiKeyCredential } as unknown as IdentityRepository;
    sut = new CachedCredentialStore(repository, bus as unknown as CredentialInvalidationService);
  });

  it('should serve a repeated lookup from the cache when the invalidation link is live', async () => {
    await sut.findApiKeyByHash(HASH);
    await expect(sut.findApiKeyByHash(HASH)).resolves.toEqual(key);
    expect(findApiKeyCredential).toHaveBeenCalledTimes(1);
  });

  it('should go to the database again when the key is invalidated', async () => {
    await sut.findApiKeyByHash(HASH);
    bus.emit({ type: 'api_key', apiKeyId: key.apiKeyId, hash: HASH });
    findApiKeyCredential.mockResolvedValue({ ...key, revokedAt: new Date() });
    await expect(sut.findApiKeyByHash(HASH)).resolves.toMatchObject({
      revokedAt: expect.any(Date),
    });
    expect(findApiKeyCredential).toHaveBeenCalledTimes(2);
  });

  it('should go to the database again when the org is invalidated', async () => {
    await sut.findApiKeyByHash(HASH);
    bus.emit({ type: 'org', orgId: key.orgId });
    await sut.findApiKeyByHash(HASH);
    expect(findApiKeyCredential).toHaveBeenCalledTimes(2);
  });

  it('should bypass the cache while invalidations cannot arrive', async () => {
    await sut.findApiKeyByHash(HASH);
    bus.setLive(false);
    await sut.findApiKeyByHash(HASH);
    await sut.findApiKeyByHash(HASH);
    expect(findApiKeyCredential).toHaveBeenCalledTimes(3);
  });

  it('should start from an empty cache when the link comes back', async () => {
    await sut.findApiKeyByHash(HASH);
    bus.setLive(false);
    bus.setLive(true);
    await sut.findApiKeyByHash(HASH);
    expect(findApiKeyCredential).toHaveBeenCalledTimes(2);
  });

  it('should never cache unknown or revoked keys', async () => {
    findApiKeyCredential.mockResolvedValue(null);
    await sut.findApiKeyByHash(HASH);
    findApiKeyCredential.mockResolvedValue({ ...key, revokedAt: new Date() });
    await sut.findApiKeyByHash(HASH);
    findApiKeyCredential.mockResolvedValue(key);
    await sut.findApiKeyByHash(HASH);
    expect(findApiKeyCredential).toHaveBeenCalledTimes(3);
  });
});
