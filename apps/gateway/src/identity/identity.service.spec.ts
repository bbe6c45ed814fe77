import { hashApiKey, JwtIssuer, JwtVerifier } from '@lib/auth';
import type { ApiKeyEntity } from './api-key.entity';
import type { CredentialInvalidationService } from './credential-invalidation.service';
import { IdentityException } from './identity.exception';
import { type IdentityRepository, UniqueViolationError } from './identity.repository';
import { IdentityService } from './identity.service';
import type { OrgEntity } from './org.entity';
import type { UserEntity } from './user.entity';

const SECRET = 'unit-secret-unit-secret-unit-secret-00';
const org: OrgEntity = {
  id: '0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  key: 'acme',
  name: 'Acme',
  capabilities: ['objects'],
  createdAt: new Date(),
};
const user: UserEntity = {
  id: '6f1d8c9e-54a4-4c57-9d5e-8b2a1f0c3d4e',
  orgId: org.id,
  email: 'ada@acme.io',
  role: 'admin',
  createdAt: new Date(),
};

/** Any repository method not stubbed throws, so unexpected I/O fails the test. */
function strictMock<T extends object>(stubs: Partial<T>): T {
  return new Proxy(stubs, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof typeof target];
      if (prop === 'then') return undefined;
      throw new Error(`unexpected access to ${String(prop)}`);
    },
  }) as T;
}

describe(IdentityService.name, () => {
  let publish: jest.Mock;

  beforeEach(() => {
    publish = jest.fn().mockResolvedValue(true);
  });

  const build = (repo: Partial<IdentityRepository>, issuer: JwtIssuer | null = null) =>
    new IdentityService(
      strictMock<IdentityRepository>(repo),
      strictMock<CredentialInvalidationService>({ publish }),
      issuer,
    );

  it('should give new orgs the objects capability by default', async () => {
    const insertOrg = jest.fn((o: OrgEntity) => Promise.resolve(o));
    const sut = build({ insertOrg });
    await expect(sut.createOrg({ key: 'acme', name: ' Acme ' })).resolves.toMatchObject({
      key: 'acme',
      name: 'Acme',
      capabilities: ['objects'],
    });
  });

  it('should answer 409 ORG_KEY_TAKEN when the key exists', async () => {
    const sut = build({
      insertOrg: jest.fn().mockRejectedValue(new UniqueViolationError('orgs_key_uq')),
    });
    await expect(sut.createOrg({ key: 'acme', name: 'Acme' })).rejects.toMatchObject({
      status: 409,
      code: 'ORG_KEY_TAKEN',
    });
  });

  it('should refuse a malformed org key before touching the database', async () => {
    await expect(build({}).createOrg({ key: 'Not OK', name: 'x' })).rejects.toMatchObject({
      status: 400,
    });
  });

  it('should store only the hash of a new key and return its secret once', async () => {
    const insertApiKey = jest.fn((k: ApiKeyEntity) => Promise.resolve(k));
    const sut = build({ findOrgById: jest.fn().mockResolvedValue(org), insertApiKey });
    const created = await sut.createPrivateKey(org.id, { name: 'backend' });
    expect(created.secret).toMatch(/^sfp_org_/);
    expect(created.apiKey).toMatchObject({ kind: 'org_private', userId: null, orgId: org.id });
    expect(created.apiKey.secretHash).toBe(hashApiKey(created.secret));
    expect(JSON.stringify(insertApiKey.mock.calls)).not.toContain(created.secret);
  });

  it('should broadcast the hash of a revoked key to every replica', async () => {
    const revoked = { id: 'f4b7a0c2-8d7e-4e35-9d1a-1b2c3d4e5f60', secretHash: 'ab'.repeat(32) };
    const sut = build({ revokeApiKey: jest.fn().mockResolvedValue(revoked) });
    await sut.revokeApiKey(revoked.id);
    expect(publish).toHaveBeenCalledWith({
      type: 'api_key',
      apiKeyId: revoked.id,
      hash: revoked.secretHash,
    });
  });

  it('should answer 404 when revoking an unknown key, without broadcasting', async () => {
    const sut = build({ revokeApiKey: jest.fn().mockResolvedValue(null) });
    await expect(sut.revokeApiKey('f4b7a0c2-8d7e-4e35-9d1a-1b2c3d4e5f60')).rejects.toBeInstanceOf(
      IdentityException,
    );
    expect(publish).not.toHaveBeenCalled();
  });

  it('should invalidate the org everywhere when its capabilities change', async () => {
    const sut = build({
      findOrgById: jest.fn().mockResolvedValue(org),
      updateOrgCapabilities: jest.fn().mockResolvedValue({ ...org, capabilities: [] }),
    });
    await sut.updateCapabilities(org.id, []);
    expect(publish).toHaveBeenCalledWith({ type: 'org', orgId: org.id });
  });

  it('should issue a JWT the verifier accepts, with the user role', async () => {
    const sut = build(
      {
        findOrgById: jest.fn().mockResolvedValue(org),
        findUser: jest.fn().mockResolvedValue(user),
      },
      new JwtIssuer({ hs256Secret: SECRET }),
    );
    const issued = await sut.issueJwt({ orgId: org.id, userId: user.id, expiresInSeconds: 60 });
    await expect(
      new JwtVerifier({ hs256Secret: SECRET }).verify(issued.token),
    ).resolves.toMatchObject({ sub: user.id, org: org.id, org_key: 'acme', role: 'admin' });
  });

  it('should answer 400 when asked for a JWT without an HS256 secret (JWKS mode)', async () => {
    await expect(build({}).issueJwt({ orgId: org.id, userId: user.id })).rejects.toMatchObject({
      status: 400,
      code: 'JWT_ISSUANCE_UNAVAILABLE',
    });
  });
});
