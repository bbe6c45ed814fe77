import fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { isManagementRequest, ManagementListener } from './management-listener';

describe(ManagementListener.name, () => {
  let app: FastifyInstance;
  let management: ManagementListener;
  let publicUrl: string;
  let managementUrl: string;

  beforeAll(async () => {
    app = fastify();
    management = new ManagementListener(app, { prefixes: ['/admin'] });
    const answer = (request: Parameters<typeof isManagementRequest>[0]) => ({
      management: isManagementRequest(request),
    });
    app.get('/metrics', answer);
    app.get('/admin/orgs/:id', answer);
    app.get('/administrators', answer);
    app.get('/v1/things', answer);
    app.get('/health/live', answer);
    await app.listen({ port: 0, host: '127.0.0.1' });
    await management.listen(0, '127.0.0.1');
    publicUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    managementUrl = `http://127.0.0.1:${management.port}`;
  });

  afterAll(() => app.close());

  const status = async (url: string) => (await fetch(url)).status;

  it('should serve /metrics and the operator routes on the management port only', async () => {
    for (const path of ['/metrics', '/admin/orgs/1', '/%61dmin/orgs/1', '/admin/orgs/1?x=/v1']) {
      expect({ path, status: await status(`${publicUrl}${path}`) }).toEqual({ path, status: 404 });
    }
    expect(await (await fetch(`${managementUrl}/metrics`)).json()).toEqual({ management: true });
    expect(await (await fetch(`${managementUrl}/admin/orgs/1`)).json()).toEqual({
      management: true,
    });
  });

  it('should serve the other routes on the public port only', async () => {
    expect(await (await fetch(`${publicUrl}/v1/things`)).json()).toEqual({ management: false });
    expect(await status(`${publicUrl}/administrators`)).toBe(200);
    expect(await status(`${managementUrl}/v1/things`)).toBe(404);
    expect(await status(`${managementUrl}/administrators`)).toBe(404);
  });

  it('should serve the probes on both', async () => {
    expect(await (await fetch(`${publicUrl}/health/live`)).json()).toEqual({ management: false });
    expect(await (await fetch(`${managementUrl}/health/live`)).json()).toEqual({
      management: true,
    });
  });

  it('should stop listening when the app closes', async () => {
    const other = fastify();
    const listener = new ManagementListener(other);
    other.get('/metrics', () => 'ok');
    await other.listen({ port: 0, host: '127.0.0.1' });
    await listener.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${listener.port}/metrics`;
    expect(await status(url)).toBe(200);

    await other.close();

    await expect(fetch(url)).rejects.toThrow();
  });
});
