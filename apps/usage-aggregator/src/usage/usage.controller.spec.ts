import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { ServicePrincipal } from '@lib/contracts';
import { type ControllerApp, startControllerApp } from '@lib/testing';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

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
  let sut: ControllerApp;
  const usage = { forOrg: jest.fn() };
  const get = (path: string) => request(sut.app.getHttpServer()).get(path);

  beforeAll(async () => {
    sut = await startControllerApp('usage-aggregator', {
      controllers: [UsageController],
      providers: [{ provide: UsageService, useValue: usage }],
    });
  });

  afterAll(() => sut?.app.close());
  afterEach(() => usage.forOrg.mockReset());

  it("should answer the gateway with the usage of its principal's org", async () => {
    const createdBy = randomUUID();
    usage.forOrg.mockResolvedValue({ orgKey: 'acme', totalBytes: 3 });
    const res = await get(`/internal/usage?createdBy=${createdBy}`).set(
      'authorization',
      sut.bearer('gateway', principal),
    );
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 200,
      body: { orgKey: 'acme', totalBytes: 3 },
    });
    expect(usage.forOrg.mock.calls).toEqual([[principal.orgId, createdBy]]);
  });

  it('should refuse a call without a service token, or from another service', async () => {
    expect((await get('/internal/usage')).status).toBe(401);
    const storage = await get('/internal/usage').set(
      'authorization',
      sut.bearer('storage', principal),
    );
    expect(storage.status).toBe(403);
    expect(usage.forOrg).not.toHaveBeenCalled();
  });

  it('should answer 400 naming createdBy when it is not a UUID', async () => {
    const res = await get('/internal/usage?createdBy=me').set(
      'authorization',
      sut.bearer('gateway', principal),
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('createdBy');
    expect(usage.forOrg).not.toHaveBeenCalled();
  });
});
