import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  Authenticated,
  CurrentPrincipal,
  generateApiKey,
  type Principal,
  RequireCapability,
  RequireRole,
} from '@lib/auth';
import {
  AppEnv,
  databaseConfig,
  defineConfig,
  redisConfig,
  WithDatabase,
  WithRedis,
} from '@lib/config';
import { migrateAll } from '@lib/database';
import { FlowOrchestratorClient, ObjectMetadataClient } from '@lib/clients';
import { generateServiceKeys, ServiceTokens } from '@lib/internal-http';
import { createValidationPipe, HttpErrorFilter } from '@lib/errors';
import { Controller, Get, Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { AdminModule } from '../src/admin/admin.module';
import { IDENTITY_SCHEMA, identityMigrations } from '../src/database/migrations';
import { GatewayConfig } from '../src/config/gateway.config';
import { authConfig, WithAuth } from '../src/identity/auth.env';
import { CredentialInvalidationService } from '../src/identity/credential-invalidation.service';
import { IdentityModule } from '../src/identity/identity.module';
import { IdentityRepository } from '../src/identity/identity.repository';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPERATOR_TOKEN = `op-${randomBytes(24).toString('hex')}`;
const JWT_SECRET = `jwt-${randomBytes(24).toString('hex')}`;
const DEVBOX_MESSAGE = 'Forbidden. Account does not have devbox capability';

class TestEnv extends WithAuth(WithRedis(WithDatabase(AppEnv))) {}

/** The sections of the gateway's config that identities read, from the test's environment. */
const identityConfig = () =>
  defineConfig(TestEnv, (env) => ({
    database: databaseConfig(env),
    redis: redisConfig(env),
    auth: authConfig(env),
  })).load({ ...process.env });

@Global()
@Module({
  providers: [{ provide: GatewayConfig, useFactory: identityConfig }],
  exports: [GatewayConfig],
})
class TestConfigModule {}

/** One route per surface and requirement; each returns the principal the guard resolved. */
@Controller()
class ProbeController {
  @Get('v1/objects')
  @Authenticated('bearer')
  @RequireCapability('objects')
  objects(@CurrentPrincipal() principal: Principal) {
    return principal;
  }

  @Get('api/v1/me')
  @Authenticated('bearer')
  me(@CurrentPrincipal() principal: Principal) {
    return principal;
  }

  @Get('api/v1/admin-only')
  @Authenticated('bearer')
  @RequireRole('admin')
  adminOnly(@CurrentPrincipal() principal: Principal) {
    return principal;
  }

  @Get('api/private/storage')
  @Authenticated('org-key')
  storage(@CurrentPrincipal() principal: Principal) {
    return principal;
  }
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies, checked by the assertions

interface Reply {
  status: number;
  body: Json;
}

function gatewayTokens(): ServiceTokens {
  const keys = generateServiceKeys();
  return ServiceTokens.fromEnv('gateway', {
    SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys.gateway,
    SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
  });
}

/**
 * The services this suite does not run: the guard's workflow directory asks the flow-orchestrator (its probe
 * routes never see a workflow-scoped token, so it is never asked), and the quota routes object-metadata
 * (never called here).
 */
@Global()
@Module({
  providers: [FlowOrchestratorClient, ObjectMetadataClient].map((client) => ({
    provide: client,
    useFactory: () => client.connect({ baseUrl: 'http://127.0.0.1:9', tokens: gatewayTokens() }),
  })),
  exports: [FlowOrchestratorClient, ObjectMetadataClient],
})
class NoServicesModule {}

async function createApp(): Promise<NestFastifyApplication> {
  @Module({
    imports: [NoServicesModule, TestConfigModule, IdentityModule, AdminModule],
    controllers: [ProbeController],
  })
  class TestAppModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    TestAppModule,
    new FastifyAdapter(),
    {
      logger: false,
    },
  );
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

async function call(
  app: NestFastifyApplication,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  headers: Record<string, string> = {},
  body?: object,
): Promise<Reply> {
  const res = await app.inject({ method, url, headers, payload: body });
  return { status: res.statusCode, body: res.body ? res.json() : undefined };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const operator = bearer(OPERATOR_TOKEN);

describe('identity (integration)', () => {
  let dbName: string;
  let dbUrl: string;
  let a: NestFastifyApplication;
  let b: NestFastifyApplication;

  // Fixtures, created through the admin endpoints.
  let acme: { id: string; key: string };
  let noObjects: { id: string };
  let adminUser: { id: string };
  let memberUser: { id: string };
  let orgKey: string;
  let orgPrivateKey: string;
  let memberKey: string;
  let noObjectsKey: string;
  let adminJwt: string;
  let memberJwt: string;

  async function withAdminDb(sql: string) {
    const client = new Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  async function adminCall<T = Json>(
    method: 'POST' | 'PATCH' | 'GET',
    url: string,
    body?: object,
  ): Promise<T> {
    const res = await call(a, method, url, operator, body);
    if (res.status >= 300)
      throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as T;
  }

  beforeAll(async () => {
    dbName = `identity_test_${randomBytes(6).toString('hex')}`;
    await withAdminDb(`CREATE DATABASE ${dbName}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${dbName}`;
    dbUrl = url.toString();
    await migrateAll([{ schema: IDENTITY_SCHEMA, migrations: identityMigrations, url: dbUrl }]);

    Object.assign(process.env, {
      PORT: '0',
      MANAGEMENT_PORT: '0',
      DATABASE_URL: dbUrl,
      REDIS_URL,
      JWT_SECRET,
      OPERATOR_TOKEN,
    });
    delete process.env.JWT_JWKS_URL;
    [a, b] = await Promise.all([createApp(), createApp()]);
    for (const app of [a, b]) {
      expect(await app.get(CredentialInvalidationService).waitUntilLive()).toBe(true);
    }

    acme = await adminCall('POST', '/admin/orgs', {
      key: `acme-${dbName.slice(-6)}`,
      name: 'Acme',
    });
    noObjects = await adminCall('POST', '/admin/orgs', {
      key: `plain-${dbName.slice(-6)}`,
      name: 'Plain',
      capabilities: [],
    });
    adminUser = await adminCall('POST', `/admin/orgs/${acme.id}/users`, {
      email: 'Admin@Acme.io',
      role: 'admin',
    });
    memberUser = await adminCall('POST', `/admin/orgs/${acme.id}/users`, {
      email: 'member@acme.io',
      role: 'member',
    });
    orgKey = (await adminCall('POST', `/admin/orgs/${acme.id}/api-keys`, { name: 'org-wide' }))
      .secret;
    memberKey = (
      await adminCall('POST', `/admin/orgs/${acme.id}/api-keys`, {
        name: 'member',
        userId: memberUser.id,
      })
    ).secret;
    orgPrivateKey = (await adminCall('POST', `/admin/orgs/${acme.id}/private-keys`, { name: 'be' }))
      .secret;
    noObjectsKey = (await adminCall('POST', `/admin/orgs/${noObjects.id}/api-keys`, { name: 'k' }))
      .secret;
    adminJwt = (await adminCall('POST', '/admin/tokens', { orgId: acme.id, userId: adminUser.id }))
      .token;
    memberJwt = (
      await adminCall('POST', '/admin/tokens', { orgId: acme.id, userId: memberUser.id })
    ).token;
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    if (dbName) await withAdminDb(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  describe('bearer surface (/v1/objects, /api/v1)', () => {
    it('should answer 401 when the Authorization header is missing', async () => {
      const res = await call(a, 'GET', '/v1/objects');
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({
        code: 'UNAUTHORIZED',
        details: { reason: 'missing_credentials' },
      });
      expect(res.body.error.message).toMatch(
        /^Missing Authorization header; send `Authorization: Bearer/,
      );
    });

    it('should answer 401 when the scheme is not Bearer', async () => {
      const res = await call(a, 'GET', '/v1/objects', { authorization: `Basic ${orgKey}` });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/Unsupported authorization scheme 'Basic'/);
    });

    it('should answer 401 when the API key is unknown', async () => {
      const res = await call(a, 'GET', '/v1/objects', bearer(generateApiKey('bearer').secret));
      expect(res.status).toBe(401);
      expect(res.body.error.message).toBe('Unknown API key');
    });

    it('should resolve an org-wide bearer key to its org', async () => {
      const res = await call(a, 'GET', '/v1/objects', bearer(orgKey));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        orgId: acme.id,
        orgKey: acme.key,
        userId: null,
        role: null,
        via: 'api_key',
        capabilities: ['objects'],
      });
    });

    it('should resolve a JWT to its user', async () => {
      const res = await call(a, 'GET', '/api/v1/me', bearer(adminJwt));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        userId: adminUser.id,
        role: 'admin',
        via: 'jwt',
        apiKeyId: null,
      });
    });

    it('should refuse the org private key with a message pointing to the api-key header', async () => {
      const res = await call(a, 'GET', '/v1/objects', bearer(orgPrivateKey));
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(
        /only accepted in the `api-key` header on \/api\/private/,
      );
    });

    it('should answer 401 when the JWT has expired', async () => {
      const expired = await new SignJWT({ org: acme.id, org_key: acme.key, role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(adminUser.id)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode(JWT_SECRET));
      const res = await call(a, 'GET', '/api/v1/me', bearer(expired));
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ details: { reason: 'token_expired' } });
      expect(res.body.error.message).toMatch(/^JWT expired at /);
    });

    it('should answer 401 when the JWT was tampered with', async () => {
      const [header, payload, signature] = memberJwt.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString(
        'base64url',
      );
      const res = await call(
        a,
        'GET',
        '/api/v1/admin-only',
        bearer(`${header}.${forged}.${signature}`),
      );
      expect(res.status).toBe(401);
      expect(res.body.error.message).toBe('JWT signature is invalid');
    });

    it('should answer 403 when a member calls an admin route', async () => {
      expect((await call(a, 'GET', '/api/v1/admin-only', bearer(adminJwt))).status).toBe(200);
      for (const token of [memberJwt, memberKey]) {
        const res = await call(a, 'GET', '/api/v1/admin-only', bearer(token));
        expect(res.status).toBe(403);
        expect(res.body.error.message).toMatch(/requires the admin role; user .* is a member/);
      }
    });

    it("should answer 403 with the Objects API's message when the org lacks the objects capability", async () => {
      const res = await call(a, 'GET', '/v1/objects', bearer(noObjectsKey));
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', message: DEVBOX_MESSAGE });
      expect((await call(a, 'GET', '/api/v1/me', bearer(noObjectsKey))).status).toBe(200);
    });

    it('should apply a capability change on every replica at once', async () => {
      expect((await call(b, 'GET', '/v1/objects', bearer(orgKey))).status).toBe(200); // cached on b
      await adminCall('PATCH', `/admin/orgs/${acme.id}`, { capabilities: [] });
      try {
        const res = await eventually(() => call(b, 'GET', '/v1/objects', bearer(orgKey)), 403);
        expect(res.body.error.message).toBe(DEVBOX_MESSAGE);
      } finally {
        await adminCall('PATCH', `/admin/orgs/${acme.id}`, { capabilities: ['objects'] });
      }
      await eventually(() => call(b, 'GET', '/v1/objects', bearer(orgKey)), 200);
    });
  });

  describe('org-key surface (/api/private)', () => {
    it('should resolve the org private key from the api-key header', async () => {
      const res = await call(a, 'GET', '/api/private/storage', { 'api-key': orgPrivateKey });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ orgId: acme.id, via: 'org_key', userId: null, role: null });
    });

    it('should answer 401 naming the api-key header when Authorization: Bearer is sent', async () => {
      for (const token of [orgPrivateKey, orgKey, adminJwt]) {
        const res = await call(a, 'GET', '/api/private/storage', bearer(token));
        expect(res.status).toBe(401);
        expect(res.body.error.message).toMatch(
          /does not accept the Authorization header.*`api-key` header/,
        );
      }
    });

    it('should answer 401 when the api-key header holds a bearer key', async () => {
      const res = await call(a, 'GET', '/api/private/storage', { 'api-key': orgKey });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/A bearer API key is not accepted on \/api\/private/);
    });
  });

  describe('revocation', () => {
    it('should refuse a revoked key at once on the revoking replica and on the others', async () => {
      const created = await adminCall('POST', `/admin/orgs/${acme.id}/api-keys`, {
        name: 'doomed',
      });
      const lookups = jest.spyOn(b.get(IdentityRepository), 'findApiKeyCredential');
      try {
        for (const app of [a, b, b]) {
          expect((await call(app, 'GET', '/v1/objects', bearer(created.secret))).status).toBe(200);
        }
        expect(lookups).toHaveBeenCalledTimes(1); // b served the second request from its cache

        const revoked = await call(a, 'POST', `/admin/api-keys/${created.id}/revoke`, operator);
        expect(revoked.status).toBe(200);
        expect(revoked.body.revokedAt).toEqual(expect.any(String));

        const onA = await call(a, 'GET', '/v1/objects', bearer(created.secret));
        expect(onA.status).toBe(401);
        expect(onA.body.error.message).toMatch(/^This API key was revoked at /);
        // b hears of it through Redis pub/sub: the message is in flight when the revoke returns.
        const started = Date.now();
        const onB = await eventually(
          () => call(b, 'GET', '/v1/objects', bearer(created.secret)),
          401,
        );
        expect(Date.now() - started).toBeLessThan(250);
        expect(onB.body.error.details).toEqual({ reason: 'revoked_key' });
      } finally {
        lookups.mockRestore();
      }
    });

    it("should refuse a deleted user's JWT and keys", async () => {
      const user = await adminCall('POST', `/admin/orgs/${acme.id}/users`, {
        email: 'leaver@acme.io',
        role: 'member',
      });
      const jwt = (await adminCall('POST', '/admin/tokens', { orgId: acme.id, userId: user.id }))
        .token;
      const key = (
        await adminCall('POST', `/admin/orgs/${acme.id}/api-keys`, { name: 'l', userId: user.id })
      ).secret;
      expect((await call(b, 'GET', '/api/v1/me', bearer(jwt))).status).toBe(200);
      expect((await call(b, 'GET', '/api/v1/me', bearer(key))).status).toBe(200);

      expect(
        (await call(a, 'DELETE', `/admin/orgs/${acme.id}/users/${user.id}`, operator)).status,
      ).toBe(204);
      const res = await eventually(() => call(b, 'GET', '/api/v1/me', bearer(jwt)), 401);
      expect(res.body.error.details).toEqual({ reason: 'unknown_user' });
      expect((await call(b, 'GET', '/api/v1/me', bearer(key))).status).toBe(401);
    });

    it('should report the link down and bypass caching when Redis is unreachable', async () => {
      const bus = new CredentialInvalidationService({
        redisUrl: 'redis://127.0.0.1:1',
        subscribe: true,
        timeoutMs: 200,
      });
      bus.onModuleInit();
      try {
        expect(await bus.waitUntilLive(500)).toBe(false);
        await expect(bus.publish({ type: 'org', orgId: acme.id })).resolves.toBe(false);
      } finally {
        await bus.close();
      }
    });
  });

  describe('admin endpoints', () => {
    it('should refuse anything but the operator token', async () => {
      const missing = await call(a, 'GET', '/admin/orgs');
      expect(missing.status).toBe(401);
      expect(missing.body.error.message).toMatch(/Missing Authorization header/);
      for (const token of [orgKey, adminJwt]) {
        const res = await call(a, 'GET', '/admin/orgs', bearer(token));
        expect(res.status).toBe(401);
        expect(res.body.error.message).toMatch(/accept only the operator token/);
      }
      const wrong = await call(a, 'GET', '/admin/orgs', bearer(`${OPERATOR_TOKEN}x`));
      expect(wrong).toMatchObject({
        status: 401,
        body: { error: { message: 'Invalid operator token' } },
      });
      const scheme = await call(a, 'GET', '/admin/orgs', { 'api-key': OPERATOR_TOKEN });
      expect(scheme.status).toBe(401);
    });

    it('should answer 409 for a duplicate org key or user email', async () => {
      const org = await call(a, 'POST', '/admin/orgs', operator, { key: acme.key, name: 'Again' });
      expect(org.status).toBe(409);
      expect(org.body.error).toMatchObject({ code: 'ORG_KEY_TAKEN' });
      const user = await call(a, 'POST', `/admin/orgs/${acme.id}/users`, operator, {
        email: 'ADMIN@acme.io',
        role: 'member',
      });
      expect(user.status).toBe(409);
      expect(user.body.error).toMatchObject({ code: 'USER_EMAIL_TAKEN' });
    });

    it('should answer 404 for unknown ids and 400 for bad input', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect((await call(a, 'GET', `/admin/orgs/${unknown}`, operator)).status).toBe(404);
      expect((await call(a, 'POST', `/admin/api-keys/${unknown}/revoke`, operator)).status).toBe(
        404,
      );
      const strangerKey = await call(a, 'POST', `/admin/orgs/${noObjects.id}/api-keys`, operator, {
        name: 'x',
        userId: adminUser.id, // a user of another org
      });
      expect(strangerKey.status).toBe(404);
      expect((await call(a, 'GET', '/admin/orgs/not-a-uuid', operator)).status).toBe(400);
      const bad = await call(a, 'POST', '/admin/orgs', operator, {
        key: 'Bad Key',
        name: 'x',
        x: 1,
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/key must be 2-63 lower-case/);
      expect(bad.body.error.message).toMatch(/property x should not exist/);
    });

    it('should list keys without their secrets', async () => {
      const details = await adminCall<{ users: { email: string }[]; apiKeys: object[] }>(
        'GET',
        `/admin/orgs/${acme.id}`,
      );
      expect(details.users.map((u) => u.email)).toContain('admin@acme.io');
      expect(details.apiKeys.length).toBeGreaterThanOrEqual(3);
      const text = JSON.stringify(details);
      expect(text).not.toMatch(/secret|sfp_live_[A-Za-z0-9_-]{43}/i);
    });
  });

  describe('admin CLI', () => {
    const cliEnv = () => ({ ...process.env, DATABASE_URL: dbUrl, JWT_SECRET, REDIS_URL });

    interface Demo {
      orgId: string;
      orgKey: string;
      userId: string;
      apiKey: string;
      orgPrivateKey: string;
      jwt: string;
    }

    async function demo(): Promise<Demo> {
      const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'cli', '--', 'demo'], {
        cwd: REPO_ROOT,
        env: cliEnv(),
      });
      return JSON.parse(stdout.trim().split('\n').pop()!) as Demo;
    }

    it('should create the demo org once and print working credentials on every run', async () => {
      const first = await demo();
      const second = await demo();
      expect(second).toMatchObject({ orgId: first.orgId, orgKey: 'demo', userId: first.userId });
      expect(second.apiKey).not.toBe(first.apiKey);
      for (const creds of [first, second]) {
        const key = await call(a, 'GET', '/v1/objects', bearer(creds.apiKey));
        expect(key.status).toBe(200);
        expect(key.body).toMatchObject({ orgKey: 'demo', via: 'api_key', role: 'admin' });
        const priv = await call(b, 'GET', '/api/private/storage', {
          'api-key': creds.orgPrivateKey,
        });
        expect(priv.status).toBe(200);
        const jwt = await call(b, 'GET', '/api/v1/admin-only', bearer(creds.jwt));
        expect(jwt.status).toBe(200);
        expect(jwt.body).toMatchObject({ userId: first.userId, via: 'jwt' });
      }
      const orgs = await adminCall<{ key: string }[]>('GET', '/admin/orgs');
      expect(orgs.filter((o) => o.key === 'demo')).toHaveLength(1);
    }, 60_000);

    it('should exit non-zero with a message on stderr for bad input', async () => {
      const run = promisify(execFile)(
        'npm',
        ['run', '-s', 'cli', '--', 'org', 'create', '--key', 'X', '--name', 'y'],
        {
          cwd: REPO_ROOT,
          env: cliEnv(),
        },
      );
      await expect(run).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/error: key must be 2-63 lower-case/),
      });
    }, 30_000);
  });
});

/** Retries `request` until it answers `status` (1 s at most); returns that reply. */
async function eventually(request: () => Promise<Reply>, status: number): Promise<Reply> {
  const deadline = Date.now() + 1_000;
  for (;;) {
    const res = await request();
    if (res.status === status || Date.now() > deadline) {
      expect(res.status).toBe(status);
      return res;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
