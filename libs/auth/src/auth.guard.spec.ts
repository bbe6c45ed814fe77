import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { generateApiKey, hashApiKey } from './api-key';
import { Authenticated, OperatorOnly, RequireCapability, RequireRole } from './auth.decorators';
import { AccessDeniedException, AuthenticationFailedException } from './auth.exception';
import { AuthGuard } from './auth.guard';
import type { AuthenticatedRequest } from './auth.metadata';
import type { ApiKeyCredential, CredentialStore, UserCredential } from './credential-store';
import type { VerifiedJwt } from './jwt-claims';
import { JwtVerifier } from './jwt-verifier';

const OPERATOR_TOKEN = 'operator-token-operator-token-0123456789';
const ORG = { orgId: '0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b', orgKey: 'acme' };
const USER_ID = '6f1d8c9e-54a4-4c57-9d5e-8b2a1f0c3d4e';

/** Any member not stubbed throws, so an unexpected lookup fails the test. */
function strictMock<T extends object>(stubs: Partial<T>): T {
  return new Proxy(stubs, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof typeof target];
      if (prop === 'then') return undefined;
      throw new Error(`unexpected access to ${String(prop)}`);
    },
  }) as T;
}

@Controller()
@Authenticated('bearer')
class BearerRoutes {
  @Get() open() {}
  @Get() @RequireRole('admin') adminOnly() {}
  @Get() @RequireCapability('objects') objects() {}
}

@Controller()
@Authenticated('org-key')
class PrivateRoutes {
  @Get() storage() {}
}

@Controller()
@OperatorOnly()
class AdminRoutes {
  @Get() orgs() {}
}

@Controller()
class Misconfigured {
  @Get() @RequireRole('admin') forgotAuthenticated() {}
}

function context(
  cls: new () => object,
  method: string,
  headers: AuthenticatedRequest['headers'],
): { ctx: ExecutionContext; request: AuthenticatedRequest } {
  const request: AuthenticatedRequest = { headers };
  const handler = (cls.prototype as Record<string, () => void>)[method];
  const ctx = {
    getType: () => 'http',
    getClass: () => cls,
    getHandler: () => handler,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { ctx, request };
}

function keyRecord(overrides: Partial<ApiKeyCredential> = {}): ApiKeyCredential {
  return {
    apiKeyId: 'f4b7a0c2-8d7e-4e35-9d1a-1b2c3d4e5f60',
    kind: 'bearer',
    ...ORG,
    userId: null,
    role: null,
    capabilities: ['objects'],
    revokedAt: null,
    ...overrides,
  };
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return e as AuthenticationFailedException | AccessDeniedException;
  }
  throw new Error('expected the guard to refuse');
}

describe(AuthGuard.name, () => {
  let findApiKeyByHash: jest.Mock<Promise<ApiKeyCredential | null>, [string]>;
  let findUser: jest.Mock<Promise<UserCredential | null>, [string, string]>;
  let verify: jest.Mock<Promise<VerifiedJwt>, [string]>;
  let sut: AuthGuard;

  beforeEach(() => {
    findApiKeyByHash = jest.fn();
    findUser = jest.fn();
    verify = jest.fn();
    sut = new AuthGuard(
      new Reflector(),
      strictMock<CredentialStore>({ findApiKeyByHash, findUser }),
      strictMock<JwtVerifier>({ verify }),
      { operatorToken: OPERATOR_TOKEN },
    );
  });

  describe('bearer surface', () => {
    it('should refuse with 401 missing_credentials when there is no Authorization header', async () => {
      const e = await failure(sut.canActivate(context(BearerRoutes, 'open', {}).ctx));
      expect(e).toMatchObject({ status: 401, reason: 'missing_credentials' });
      expect(e.message).toMatch(/Missing Authorization header/);
    });

    it('should point to Authorization when only an api-key header is sent', async () => {
      const { ctx } = context(BearerRoutes, 'open', { 'api-key': 'sfp_org_x' });
      expect((await failure(sut.canActivate(ctx))).message).toMatch(/only for \/api\/private/);
    });

    it('should refuse with 401 wrong_scheme when the scheme is not Bearer', async () => {
      const { ctx } = context(BearerRoutes, 'open', { authorization: 'Basic dXNlcjpwYXNz' });
      const e = await failure(sut.canActivate(ctx));
      expect(e).toMatchObject({ status: 401, reason: 'wrong_scheme' });
      expect(e.message).toMatch(/Unsupported authorization scheme 'Basic'/);
    });

    it('should refuse with 401 malformed_token when the token is neither a key nor a JWT', async () => {
      const { ctx } = context(BearerRoutes, 'open', { authorization: 'Bearer hello' });
      expect(await failure(sut.canActivate(ctx))).toMatchObject({ reason: 'malformed_token' });
    });

    it('should set the principal when the bearer API key is known', async () => {
      const key = generateApiKey('bearer');
      findApiKeyByHash.mockResolvedValue(keyRecord({ userId: USER_ID, role: 'member' }));
      const { ctx, request } = context(BearerRoutes, 'open', {
        authorization: `Bearer ${key.secret}`,
      });
      await expect(sut.canActivate(ctx)).resolves.toBe(true);
      expect(findApiKeyByHash).toHaveBeenCalledWith(key.hash);
      expect(request.principal).toEqual({
        ...ORG,
        userId: USER_ID,
        role: 'member',
        via: 'api_key',
        apiKeyId: keyRecord().apiKeyId,
        capabilities: ['objects'],
      });
    });

    it('should refuse with 401 unknown_key when no key has that hash', async () => {
      findApiKeyByHash.mockResolvedValue(null);
      const { ctx } = context(BearerRoutes, 'open', {
        authorization: `Bearer ${generateApiKey('bearer').secret}`,
      });
      const e = await failure(sut.canActivate(ctx));
      expect(e).toMatchObject({ status: 401, reason: 'unknown_key', message: 'Unknown API key' });
    });

    it('should refuse with 401 revoked_key when the key was revoked', async () => {
      findApiKeyByHash.mockResolvedValue(
        keyRecord({ revokedAt: new Date('2026-01-02T03:04:05Z') }),
      );
      const { ctx } = context(BearerRoutes, 'open', {
        authorization: `Bearer ${generateApiKey('bearer').secret}`,
      });
      const e = await failure(sut.canActivate(ctx));
      expect(e).toMatchObject({ status: 401, reason: 'revoked_key' });
      expect(e.message).toMatch(/revoked at 2026-01-02T03:04:05.000Z/);
    });

    it('should refuse an org private key without looking it up', async () => {
      const { ctx } = context(BearerRoutes, 'open', {
        authorization: `Bearer ${generateApiKey('org_private').secret}`,
      });
      const e = await failure(sut.canActivate(ctx));
      expect(e).toMatchObject({ status: 401, reason: 'wrong_key_kind' });
      expect(e.message).toMatch(/only accepted in the `api-key` header/);
    });

    it('should refuse a malformed key without looking it up', async () => {
      const { ctx } = context(BearerRoutes, 'open', { authorization: 'Bearer sfp_live_short' });
      expect(await failure(sut.canActivate(ctx))).toMatchObject({ reason: 'malformed_token' });
    });

    it('should resolve a JWT through the verifier and the user directory', async () => {
      verify.mockResolvedValue({
        sub: USER_ID,
        org: ORG.orgId,
        org_key: 'acme',
        role: 'admin',
        exp: 1,
      });
      findUser.mockResolvedValue({ ...ORG, userId: USER_ID, role: 'admin', capabilities: [] });
      const { ctx, request } = context(BearerRoutes, 'adminOnly', {
        authorization: 'Bearer aaa.bbb.ccc',
      });
      await expect(sut.canActivate(ctx)).resolves.toBe(true);
      expect(verify).toHaveBeenCalledWith('aaa.bbb.ccc');
      expect(findUser).toHaveBeenCalledWith(ORG.orgId, USER_ID);
      expect(request.principal).toMatchObject({ via: 'jwt', role: 'admin', apiKeyId: null });
    });

    it('should refuse with 401 unknown_user when the JWT user no longer exists', async () => {
      verify.mockResolvedValue({
        sub: USER_ID,
        org: ORG.orgId,
        org_key: 'acme',
        role: 'admin',
        exp: 1,
      });
      findUser.mockResolvedValue(null);
      const { ctx } = context(BearerRoutes, 'open', { authorization: 'Bearer aaa.bbb.ccc' });
      expect(await failure(sut.canActivate(ctx))).toMatchObject({
        status: 401,
        reason: 'unknown_user',
      });
    });

    it('should take the lesser role when the token and the directory disagree', async () => {
      verify.mockResolvedValue({
        sub: USER_ID,
        org: ORG.orgId,
        org_key: 'acme',
        role: 'admin',
        exp: 1,
      });
      findUser.mockResolvedValue({ ...ORG, userId: USER_ID, role: 'member', capabilities: [] });
      const { ctx } = context(BearerRoutes, 'adminOnly', { authorization: 'Bearer aaa.bbb.ccc' });
      const e = await failure(sut.canActivate(ctx));
      expect(e).toBeInstanceOf(AccessDeniedException);
      expect(e).toMatchObject({ status: 403, reason: 'insufficient_role' });
      expect(e.message).toMatch(/requires the admin role; user .* is a member/);
    });

    it('should refuse with 403 and the seed message when the org lacks objects', async () => {
      findApiKeyByHash.mockResolvedValue(keyRecord({ capabilities: [] }));
      const { ctx } = context(BearerRoutes, 'objects', {
        authorization: `Bearer ${generateApiKey('bearer').secret}`,
      });
      const e = await failure(sut.canActivate(ctx));
      expect(e).toMatchObject({
        status: 403,
        reason: 'missing_capability',
        message: 'Forbidden. Account does not have devbox capability',
      });
    });

    it('should say an org-wide key has no role when admin is required', async () => {
      findApiKeyByHash.mockResolvedValue(keyRecord());
      const { ctx } = context(BearerRoutes, 'adminOnly', {
        authorization: `Bearer ${generateApiKey('bearer').secret}`,
      });
      expect((await failure(sut.canActivate(ctx))).message).toMatch(/not bound to a user/);
    });

    it('should authenticate once when several decorators apply the guard', async () => {
      findApiKeyByHash.mockResolvedValue(keyRecord());
      const { ctx } = context(BearerRoutes, 'objects', {
        authorization: `Bearer ${generateApiKey('bearer').secret}`,
      });
      await sut.canActivate(ctx);
      await sut.canActivate(ctx);
      expect(findApiKeyByHash).toHaveBeenCalledTimes(1);
    });
  });

  describe('org-key surface', () => {
    it('should refuse Authorization: Bearer with a message naming the api-key header', async () => {
      const { ctx } = context(PrivateRoutes, 'storage', { authorization: 'Bearer aaa.bbb.ccc' });
      const e = await failure(sut.canActivate(ctx));
      expect(e).toMatchObject({ status: 401, reason: 'wrong_scheme' });
      expect(e.message).toMatch(/does not accept the Authorization header.*`api-key` header/);
    });

    it('should refuse a bearer API key in the api-key header', async () => {
      const { ctx } = context(PrivateRoutes, 'storage', {
        'api-key': generateApiKey('bearer').secret,
      });
      expect(await failure(sut.canActivate(ctx))).toMatchObject({ reason: 'wrong_key_kind' });
    });

    it('should set an org_key principal when the org private key is known', async () => {
      const key = generateApiKey('org_private');
      findApiKeyByHash.mockResolvedValue(keyRecord({ kind: 'org_private' }));
      const { ctx, request } = context(PrivateRoutes, 'storage', { 'api-key': key.secret });
      await expect(sut.canActivate(ctx)).resolves.toBe(true);
      expect(findApiKeyByHash).toHaveBeenCalledWith(hashApiKey(key.secret));
      expect(request.principal).toMatchObject({ via: 'org_key', userId: null, role: null });
    });
  });

  describe('operator surface', () => {
    it('should accept the operator token', async () => {
      const { ctx, request } = context(AdminRoutes, 'orgs', {
        authorization: `Bearer ${OPERATOR_TOKEN}`,
      });
      await expect(sut.canActivate(ctx)).resolves.toBe(true);
      expect(request.operator).toBe(true);
      expect(request.principal).toBeUndefined();
    });

    it('should refuse another token, API keys and JWTs', async () => {
      for (const token of [`${OPERATOR_TOKEN}x`, generateApiKey('bearer').secret, 'a.b.c']) {
        const { ctx } = context(AdminRoutes, 'orgs', { authorization: `Bearer ${token}` });
        expect(await failure(sut.canActivate(ctx))).toMatchObject({
          status: 401,
          reason: 'not_operator',
        });
      }
    });
  });

  it('should fail loudly when a requirement is declared without @Authenticated', async () => {
    const { ctx } = context(Misconfigured, 'forgotAuthenticated', {});
    await expect(sut.canActivate(ctx)).rejects.toThrow(/need @Authenticated/);
  });
});
