import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { validateEnv } from '@lib/config';
import fastify, { type FastifyInstance, type onRequestHookHandler } from 'fastify';
import { GatewayEnv } from '../config/gateway.env';
import { applyCors, isCorsPath } from './cors';

const PAGE = 'http://127.0.0.1:5173';
const OTHER = 'http://127.0.0.1:5174';

/** Refuses every request without a bearer credential, as the gateway's route hooks do before the body. */
const requireBearer: onRequestHookHandler = (request, reply, done) => {
  if (request.headers.authorization === undefined) {
    void reply.code(401).send({ error: { code: 'UNAUTHENTICATED' } });
    return;
  }
  done();
};

async function gateway(origins: string[]): Promise<FastifyInstance> {
  const app = fastify();
  // applyCors only registers a plugin: the Nest application's `register` is Fastify's.
  const nest = {
    register: (plugin: never, opts: never) => app.register(plugin, opts),
  } as unknown as NestFastifyApplication;
  await applyCors(nest, origins);
  for (const url of ['/v1/objects', '/v1/objects/:id', '/api/private/storage/:key', '/docs']) {
    app.get(url, { onRequest: requireBearer }, (_request, reply) =>
      reply.header('etag', '"e"').header('x-request-id', 'r-1').send({ ok: true }),
    );
  }
  app.post('/v1/objects', { onRequest: requireBearer }, () => ({ created: true }));
  await app.ready();
  return app;
}

const preflight = (url: string, origin: string, method = 'POST') => ({
  method: 'OPTIONS' as const,
  url,
  headers: {
    origin,
    'access-control-request-method': method,
    'access-control-request-headers': 'authorization,content-type',
  },
});

const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((name) => name.startsWith('access-control-'));

describe('gateway CORS', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await gateway([PAGE]);
  });

  afterAll(() => app.close());

  it('should answer a preflight of an allowed origin without credentials, before authentication', async () => {
    for (const url of ['/v1/objects', '/v1/objects/obj_1', '/api/private/storage/a.txt']) {
      const res = await app.inject(preflight(url, PAGE));
      expect({ url, status: res.statusCode }).toEqual({ url, status: 204 });
      expect(res.headers['access-control-allow-origin']).toBe(PAGE);
      expect(res.headers['access-control-allow-methods']).toContain('PUT');
      expect(String(res.headers['access-control-allow-headers']).split(', ')).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'api-key', 'x-request-id']),
      );
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
    }
  });

  it('should let the page read answers and their headers, errors included', async () => {
    const ok = await app.inject({
      url: '/v1/objects/obj_1',
      headers: { origin: PAGE, authorization: 'Bearer k' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(PAGE);
    expect(String(ok.headers['access-control-expose-headers']).split(', ')).toEqual(
      expect.arrayContaining(['x-request-id', 'etag', 'content-disposition']),
    );
    expect(ok.headers.vary).toMatch(/origin/i);

    const refused = await app.inject({
      method: 'POST',
      url: '/v1/objects',
      headers: { origin: PAGE },
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(PAGE);
  });

  it('should give no CORS header to another origin, and no answer to its preflight', async () => {
    const res = await app.inject(preflight('/v1/objects', OTHER));
    expect(res.statusCode).toBe(404);
    expect(corsHeaders(res.headers)).toEqual([]);

    const get = await app.inject({
      url: '/v1/objects/obj_1',
      headers: { origin: OTHER, authorization: 'Bearer k' },
    });
    expect(get.statusCode).toBe(200);
    expect(corsHeaders(get.headers)).toEqual([]);
  });

  it('should leave the routes outside the public API alone', async () => {
    const res = await app.inject(preflight('/docs', PAGE, 'GET'));
    expect(res.statusCode).toBe(404);
    expect(corsHeaders(res.headers)).toEqual([]);
    expect(isCorsPath('/v1/objects?limit=1')).toBe(true);
    expect(isCorsPath('/api/v1/flow/run')).toBe(true);
    expect(isCorsPath('/admin/orgs')).toBe(false);
    expect(isCorsPath('/v10/objects')).toBe(false);
    expect(isCorsPath('/health/ready')).toBe(false);
  });

  it('should answer no preflight at all without allowed origins', async () => {
    const off = await gateway([]);
    try {
      const res = await off.inject(preflight('/v1/objects', PAGE));
      expect(res.statusCode).toBe(404);
      expect(corsHeaders(res.headers)).toEqual([]);
    } finally {
      await off.close();
    }
  });

  it('should stop the gateway at boot on an invalid CORS_ALLOWED_ORIGINS, naming it', () => {
    const problems = (value: string) => {
      try {
        validateEnv(GatewayEnv)({ CORS_ALLOWED_ORIGINS: value });
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(problems('*')).toMatch(/CORS_ALLOWED_ORIGINS takes exact origins, not wildcards/);
    expect(problems('https://app.example.com/')).toMatch(/CORS_ALLOWED_ORIGINS must list origins/);
    expect(problems('https://app.example.com,http://127.0.0.1:5173')).not.toMatch(/CORS_/);
    expect(problems('')).not.toMatch(/CORS_/);
  });
});
