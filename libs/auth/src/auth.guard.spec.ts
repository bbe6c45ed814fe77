import { Controller, ExecutionContext, Get, Post } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { generateApiKey, hashApiKey } from './api-key';
import {
  Authenticated,
  OperatorOnly,
  RequireCapability,
  RequireRole,
  WorkflowScoped,
} from './auth.decorators';
import { AccessDeniedException, AuthenticationFailedException } from './auth.exception';
import { AuthGuard } from './auth.guard';
import type { AuthenticatedRequest } from './auth.metadata';
import type { ApiKeyCredential, CredentialStore, UserCredential } from './credential-store';
import type { VerifiedJwt } from './jwt-claims';
import { JwtVerifier } from './jwt-verifier';
import type { Principal } from './principal';
import { assertWorkflowInScope, type WorkflowDirectory } from './workflow-scope';

const OPERATOR_TOKEN = 'operator-token-operator-token-0123456789';
const ORG = { orgId: '0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b', orgKey: 'acme' };
const USER_ID = '6f1d8c9e-54a4-4c57-9d5e-8b2a1f0c3d4e';
const WORKFLOW_A = '0190f0a0-0000-7000-8000-00000000000a';
const WORKFLOW_B = '0190f0a0-0000-7000-8000-00000000000b';
const RUN_OF_A = '5d0c6b7e-1111-4aaa-8bbb-00000000000a';
const RUN_OF_B = '5d0c6b7e-1111-4aaa-8bbb-00000000000b';

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
@Authenticated('bearer')
class WorkflowRoutes {
  @Post() @WorkflowScoped({ workflowIdParam: 'workflowId' }) trigger() {}
  @Post() @WorkflowScoped({ workflowNameParam: 'name' }) define() {}
  @Get() @WorkflowScoped({ runIdParam: 'runId' }) status() {}
  @Post() @WorkflowScoped({ inBody: true }) upload() {}
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
  params: AuthenticatedRequest['params'] = {},
): { ctx: ExecutionContext; request: AuthenticatedRequest } {
  const request: AuthenticatedRequest = { headers, params };
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
  let workflowIdByName: jest.Mock<Promise<string | null>, [Principal, string]>;
  let workflowIdOfRun: jest.Mock<Promise<string | null>, [Principal, string]>;
  let sut: AuthGuard;

  beforeEach(() => {
    findApiKeyByHash = jest.fn();
    findUser = jest.fn();
    verify = jest.fn();
    workflowIdByName = jest.fn();
    workflowIdOfRun = jest.fn();
    sut = new AuthGuard(
      new Reflector(),
      strictMock<CredentialStore>({ findApiKeyByHash, findUser }),
      strictMock<JwtVerifier>({ verify }),
      { operatorToken: OPERATOR_TOKEN },
      strictMock<WorkflowDirectory>({ workflowIdByName, workflowIdOfRun }),
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

    it('should refuse with 403 and the Objects API message when the org lacks objects', async () => {
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

  describe('workflow-scoped tokens', () => {
    const jwt = { authorization: 'Bearer aaa.bbb.ccc' };
    /** The caller presents an admin's JWT scoped to workflow A; the directory knows A's and B's names and runs. */
    beforeEach(() => {
      verify.mockResolvedValue({
        sub: USER_ID,
        org: ORG.orgId,
        org_key: 'acme',
        role: 'admin',
        workflow_id: WORKFLOW_A,
        exp: 1,
      });
      findUser.mockResolvedValue({ ...ORG, userId: USER_ID, role: 'admin', capabilities: [] });
      const names: Record<string, string> = { alpha: WORKFLOW_A, beta: WORKFLOW_B };
      const runs: Record<string, string> = { [RUN_OF_A]: WORKFLOW_A, [RUN_OF_B]: WORKFLOW_B };
      workflowIdByName.mockImplementation((_caller, name) => Promise.resolve(names[name] ?? null));
      workflowIdOfRun.mockImplementation((_caller, runId) => Promise.resolve(runs[runId] ?? null));
    });

    it('should refuse with 403 outside_workflow_scope on a route that declares no workflow', async () => {
      const e = await failure(sut.canActivate(context(BearerRoutes, 'open', jwt).ctx));
      expect(e).toBeInstanceOf(AccessDeniedException);
      expect(e).toMatchObject({ status: 403, reason: 'outside_workflow_scope' });
      expect(e.message).toBe(
        `This token is scoped to workflow ${WORKFLOW_A}: it may act only on that workflow, its runs ` +
          'and their files, not on the whole organization',
      );
    });

    it('should accept its own workflow by id, by name and by run', async () => {
      for (const [route, params] of [
        ['trigger', { workflowId: WORKFLOW_A }],
        ['define', { name: 'alpha' }],
        ['status', { runId: RUN_OF_A }],
      ] as const) {
        const { ctx } = context(WorkflowRoutes, route, jwt, params);
        await expect(sut.canActivate(ctx)).resolves.toBe(true);
      }
      const caller = expect.objectContaining({ ...ORG, userId: USER_ID, workflowId: WORKFLOW_A });
      expect(workflowIdByName).toHaveBeenCalledWith(caller, 'alpha');
      expect(workflowIdOfRun).toHaveBeenCalledWith(caller, RUN_OF_A);
    });

    it('should refuse another workflow of its org by id, by name and by run', async () => {
      for (const [route, params, what] of [
        ['trigger', { workflowId: WORKFLOW_B }, `workflow ${WORKFLOW_B}`],
        ['define', { name: 'beta' }, "workflow 'beta'"],
        ['status', { runId: RUN_OF_B }, `run ${RUN_OF_B}`],
      ] as const) {
        const e = await failure(sut.canActivate(context(WorkflowRoutes, route, jwt, params).ctx));
        expect(e).toMatchObject({ status: 403, reason: 'outside_workflow_scope' });
        expect(e.message).toMatch(new RegExp(`, not on ${what}$`));
      }
    });

    it('should refuse an unknown workflow name or run as it refuses another workflow', async () => {
      const unknownRun = '5d0c6b7e-1111-4aaa-8bbb-0000000000ff';
      const refusal = async (route: string, params: Record<string, string>, sent: string) => {
        const e = await failure(sut.canActivate(context(WorkflowRoutes, route, jwt, params).ctx));
        return { status: e.status, reason: e.reason, message: e.message.replace(sent, '<sent>') };
      };
      expect(await refusal('define', { name: 'new-one' }, 'new-one')).toEqual(
        await refusal('define', { name: 'beta' }, 'beta'),
      );
      expect(await refusal('status', { runId: unknownRun }, unknownRun)).toEqual(
        await refusal('status', { runId: RUN_OF_B }, RUN_OF_B),
      );
    });

    it('should leave a workflow named in the body to the handler', async () => {
      const { ctx } = context(WorkflowRoutes, 'upload', jwt);
      await expect(sut.canActivate(ctx)).resolves.toBe(true);
    });

    it('should let unscoped callers through workflow routes without a lookup', async () => {
      verify.mockResolvedValue({
        sub: USER_ID,
        org: ORG.orgId,
        org_key: 'acme',
        role: 'admin',
        exp: 1,
      });
      findApiKeyByHash.mockResolvedValue(keyRecord());
      const key = { authorization: `Bearer ${generateApiKey('bearer').secret}` };
      for (const headers of [jwt, key]) {
        for (const [route, params] of [
          ['define', { name: 'beta' }],
          ['status', { runId: RUN_OF_B }],
        ] as const) {
          const { ctx } = context(WorkflowRoutes, route, headers, params);
          await expect(sut.canActivate(ctx)).resolves.toBe(true);
        }
      }
      expect(workflowIdByName).not.toHaveBeenCalled();
      expect(workflowIdOfRun).not.toHaveBeenCalled();
    });

    it('should fail loudly when @WorkflowScoped names a path parameter the route lacks', async () => {
      const { ctx } = context(WorkflowRoutes, 'status', jwt, {});
      await expect(sut.canActivate(ctx)).rejects.toThrow(/path parameter 'runId'/);
    });
  });

  describe(assertWorkflowInScope.name, () => {
    const principal = (workflowId?: string | null): Principal => ({
      ...ORG,
      userId: USER_ID,
      role: 'admin',
      via: 'jwt',
      apiKeyId: null,
      capabilities: [],
      workflowId,
    });

    it("should pass unscoped callers and the scope's own workflow", () => {
      expect(() => assertWorkflowInScope(principal(undefined), WORKFLOW_B)).not.toThrow();
      expect(() => assertWorkflowInScope(principal(null), WORKFLOW_B)).not.toThrow();
      expect(() => assertWorkflowInScope(principal(WORKFLOW_A), WORKFLOW_A)).not.toThrow();
    });

    it('should refuse with 403 when the caller is scoped to another workflow', () => {
      expect(() => assertWorkflowInScope(principal(WORKFLOW_A), WORKFLOW_B)).toThrow(
        expect.objectContaining({ status: 403, reason: 'outside_workflow_scope' }),
      );
    });
  });

  it('should fail loudly when a requirement is declared without @Authenticated', async () => {
    const { ctx } = context(Misconfigured, 'forgotAuthenticated', {});
    await expect(sut.canActivate(ctx)).rejects.toThrow(/need @Authenticated/);
  });
});
