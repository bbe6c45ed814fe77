import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { orgFileKey, type ServicePrincipal } from '@lib/contracts';
import { type ControllerApp, startControllerApp } from '@lib/testing';
import { BytesController } from './bytes.controller';
import { BytesService } from './bytes.service';

const principal: ServicePrincipal = {
  orgId: randomUUID(),
  orgKey: 'acme',
  userId: null,
  role: null,
  actor: { type: 'system', id: 'object-metadata' },
  workflowId: null,
};

// Storage's byte operations over HTTP, in process: only object-metadata may call them, only on keys of the
// principal's org, and a malformed command never reaches S3.
describe(BytesController.name, () => {
  let sut: ControllerApp;
  const bytes = { copy: jest.fn(), delete: jest.fn(), deleteMany: jest.fn() };
  const post = (path: string, body: object, caller: 'object-metadata' | 'gateway') =>
    request(sut.app.getHttpServer())
      .post(path)
      .set('authorization', sut.bearer(caller, principal))
      .send(body);

  beforeAll(async () => {
    sut = await startControllerApp('storage', {
      controllers: [BytesController],
      providers: [{ provide: BytesService, useValue: bytes }],
    });
  });

  afterAll(() => sut?.app.close());
  afterEach(() => Object.values(bytes).forEach((fn) => fn.mockReset()));

  it('should copy for object-metadata within the org and answer what S3 stored', async () => {
    const [from, to] = [orgFileKey('acme'), orgFileKey('acme')];
    bytes.copy.mockResolvedValue({ sizeBytes: 5, etag: '"e"' });
    const res = await post('/internal/bytes/copy', { from, to, maxBytes: 10 }, 'object-metadata');
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 200,
      body: { sizeBytes: 5, etag: '"e"' },
    });
    expect(bytes.copy.mock.calls).toEqual([[from, to, 10]]);
  });

  it('should refuse the gateway, and keys of another org', async () => {
    const copy = { from: orgFileKey('acme'), to: orgFileKey('acme') };
    expect((await post('/internal/bytes/copy', copy, 'gateway')).status).toBe(403);
    const foreign = await post(
      '/internal/bytes/delete',
      { keys: [orgFileKey('acme'), orgFileKey('other')] },
      'object-metadata',
    );
    expect(foreign.status).toBe(403);
    expect(bytes.copy).not.toHaveBeenCalled();
    expect(bytes.deleteMany).not.toHaveBeenCalled();
  });

  it.each([
    ['no keys', { keys: [] }, 'keys'],
    ['over a thousand keys', { keys: Array.from({ length: 1001 }, (_, i) => `acme/${i}`) }, 'keys'],
    ['an unknown field', { keys: ['acme/a'], force: true }, 'force'],
  ])('should answer 400 to a delete with %s', async (_case, body, field) => {
    const res = await post('/internal/bytes/delete', body, 'object-metadata');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
    expect(bytes.deleteMany).not.toHaveBeenCalled();
  });
});
