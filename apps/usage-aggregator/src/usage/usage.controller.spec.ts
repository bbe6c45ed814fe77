import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Global, Module } from '@nestjs/common';
import request from 'supertest';
import { PlatformConfig } from '@lib/config';
import type { ServicePrincipal } from '@lib/contracts';
import { generateServiceKeys, ServiceTokens, ServiceTokensModule } from '@lib/internal-http';
import { startControllerApp } from '@lib/testing';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

const keys = generateServiceKeys();
const tokensOf = (service: 'gateway' | 'storage') =>
  ServiceTokens.fromEnv(service, {
    SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys[service],
    SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
  });
/** The app's config as ServiceTokensModule reads it: its keys. */
@Global()
@Module({
  providers: [
    {
      provide: PlatformConfig,
      useValue: {
        serviceTokens: {
          privateKey: keys.privateKeys['usage-aggregator'],
          publicKeys: keys.publicKeys,
        },
      },
    },
  ],
  exports: [PlatformConfig],
})
class ServiceTokensConfigModule {}

const principal: ServicePrincipal = {
  orgId: randomUUID(),
  orgKey: 'acme',
  userId: randomUUID(),
  role: 'admin',
  actor: { type: 'user', id: 'u' },
  workflowId: null,
};

// The storage usage route's HTTP layer in process: who may call it, what it accepts, what it answers.
describe(UsageController.name, () => {
  let app: NestFastifyApplication;
  const usage = { forOrg: jest.fn() };
  const bearer = (service: 'gateway' | 'storage') =>
    `Bearer ${tokensOf(service).sign('usage-aggregator', principal)}`;

  beforeAll(async () => {
    app = await startControllerApp({
      imports: [ServiceTokensConfigModule, ServiceTokensModule.forApp('usage-aggregator')],
      controllers: [UsageController],
      providers: [{ provide: UsageService, useValue: usage }],
    });
  });

  afterAll(() => app?.close());
  afterEach(() => usage.forOrg.mockReset());

  it("should answer the gateway with the usage of its principal's org", async () => {
    const createdBy = randomUUID();
    usage.forOrg.mockResolvedValue({ orgKey: 'acme', totalBytes: 3 });
    const res = await request(app.getHttpServer())
      .get(`/internal/usage?createdBy=${createdBy}`)
      .set('authorization', bearer('gateway'));
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 200,
      body: { orgKey: 'acme', totalBytes: 3 },
    });
    expect(usage.forOrg.mock.calls).toEqual([[principal.orgId, createdBy]]);
  });

  it('should refuse a call without a service token, or from another service', async () => {
    const none = await request(app.getHttpServer()).get('/internal/usage');
    expect(none.status).toBe(401);
    const storage = await request(app.getHttpServer())
      .get('/internal/usage')
      .set('authorization', bearer('storage'));
    expect(storage.status).toBe(403);
    expect(usage.forOrg).not.toHaveBeenCalled();
  });

  it('should answer 400 naming createdBy when it is not a UUID', async () => {
    const res = await request(app.getHttpServer())
      .get('/internal/usage?createdBy=me')
      .set('authorization', bearer('gateway'));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('createdBy');
    expect(usage.forOrg).not.toHaveBeenCalled();
  });
});
