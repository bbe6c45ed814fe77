import { apiKeyKindOf, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key';

describe('generateApiKey', () => {
  it('should produce a prefixed 256-bit secret, a short visible prefix and its sha256', () => {
    const key = generateApiKey('bearer');
    expect(key.secret).toMatch(/^sfp_live_[A-Za-z0-9_-]{43}$/);
    expect(key.secret.startsWith(key.prefix)).toBe(true);
    expect(key.prefix).toHaveLength('sfp_live_'.length + 6);
    expect(key.hash).toBe(hashApiKey(key.secret));
    expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(isWellFormedApiKey(key.secret)).toBe(true);
  });

  it('should mark org private keys with their own prefix', () => {
    const key = generateApiKey('org_private');
    expect(key.secret).toMatch(/^sfp_org_/);
    expect(apiKeyKindOf(key.secret)).toBe('org_private');
    expect(apiKeyKindOf(generateApiKey('bearer').secret)).toBe('bearer');
    expect(apiKeyKindOf('eyJhbGciOi.x.y')).toBeNull();
  });

  it('should never repeat a secret', () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => generateApiKey('bearer').secret));
    expect(secrets.size).toBe(1000);
  });
});
