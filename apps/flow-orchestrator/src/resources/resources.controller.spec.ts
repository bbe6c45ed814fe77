import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { ServicePrincipal } from '@lib/contracts';
import { type ControllerApp, startControllerApp } from '@lib/testing';
import { ResourcesController } from './resources.controller';
import { ResourcesService } from './resources.service';

const principal: ServicePrincipal = {
  orgId: randomUUID(),
  orgKey: 'acme',
  userId: randomUUID(),
  role: 'member',
  actor: { type: 'user', id: 'u' },
  workflowId: null,
};

// The resource URL route over HTTP, in process: the gateway's call reaches the service with its principal;
// anything else is refused before it.
describe(ResourcesController.name, () => {
  let sut: ControllerApp;
  const resources = { downloadUrl: jest.fn() };
  const post = (body: object, caller: 'gateway' | 'object-metadata' = 'gateway') =>
    request(sut.app.getHttpServer())
      .post('/internal/resources/download-url')
      .set('authorization', sut.bearer(caller, principal))
      .send(body);

  beforeAll(async () => {
    sut = await startControllerApp('flow-orchestrator', {
      controllers: [ResourcesController],
      providers: [{ provide: ResourcesService, useValue: resources }],
    });
  });

  afterAll(() => sut?.app.close());
  afterEach(() => resources.downloadUrl.mockReset());

  it("should hand the gateway's resource URI and principal to the service", async () => {
    const uri = 'workflow://wf_1/artifacts/a.txt';
    resources.downloadUrl.mockResolvedValue({ download_url: 'https://s3/a', filename: 'a.txt' });
    const res = await post({ resourceUri: uri });
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 200,
      body: { download_url: 'https://s3/a', filename: 'a.txt' },
    });
    expect(resources.downloadUrl.mock.calls).toEqual([[principal, uri]]);
  });

  it.each([
    ['no resourceUri', {}, 'resourceUri'],
    ['a number', { resourceUri: 7 }, 'resourceUri'],
    [
      'a URI over 2048 characters',
      { resourceUri: `workflow://${'a'.repeat(2048)}` },
      'resourceUri',
    ],
  ])('should answer 400 to %s', async (_case, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
    expect(resources.downloadUrl).not.toHaveBeenCalled();
  });

  it('should refuse another service', async () => {
    expect((await post({ resourceUri: 'workflow://x' }, 'object-metadata')).status).toBe(403);
    expect(resources.downloadUrl).not.toHaveBeenCalled();
  });
});
