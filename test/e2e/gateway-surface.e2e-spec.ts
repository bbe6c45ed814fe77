import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { APP_NAMES, REPO_ROOT, startTestPlatform, TestOrg, TestPlatform } from '@lib/testing';

const run = promisify(execFile);

// What every app and the gateway promise regardless of feature: health, metrics, JSON errors, request ids,
// body limits, the OpenAPI document, and a refusal to boot on a bad environment.
describe('platform surface', () => {
  let t: TestPlatform;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestPlatform({ env: { BODY_LIMIT_BYTES: '4096' } });
    org = await t.createOrg();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it.each(APP_NAMES)('should serve health and Prometheus metrics when %s runs', async (app) => {
    const base = t.platform.urls[app];
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect(metrics).toContain('http_server_request_duration_seconds');
  });

  it('should answer an unknown route with a JSON 404 carrying the request id it was given', async () => {
    const res = await fetch(`${t.gatewayUrl}/no/such/route`, {
      headers: { 'x-request-id': 'req-e2e-1' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req-e2e-1');
    expect(await res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'Cannot GET /no/such/route', requestId: 'req-e2e-1' },
    });
  });

  it('should refuse a JSON body over the limit with 413 and malformed JSON with 400', async () => {
    const post = (body: string) =>
      fetch(`${t.gatewayUrl}/v1/objects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        body,
      });
    const big = await post(JSON.stringify({ name: 'x'.repeat(8192), content_type: 'text' }));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    const bad = await post('{"name": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });

  it('should name the field when a request body is invalid', async () => {
    const res = await fetch(`${t.gatewayUrl}/v1/objects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a', content_type: 'pdf', extra: 1 }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('content_type');
    expect(body.error.message).toContain('property extra should not exist');
  });

  it('should answer 401 with a JSON reason when credentials are missing', async () => {
    const res = await fetch(`${t.gatewayUrl}/v1/objects`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('should publish its OpenAPI document and Swagger UI', async () => {
    const doc = (await (await fetch(`${t.gatewayUrl}/docs-json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/objects', '/api/v1/objects/storage-usage', '/admin/orgs']),
    );
    const ui = await fetch(`${t.gatewayUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
  });

  it('should refuse to boot and name each bad variable when the environment is invalid', async () => {
    const main = join(REPO_ROOT, 'dist', 'apps', 'storage', 'src', 'main.js');
    const failure = await run(process.execPath, [main], {
      env: { PATH: process.env.PATH, PORT: 'eighty', S3_ACCESS_KEY_ID: 'key' },
      timeout: 20_000,
    }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('Invalid environment');
    expect(failure?.stderr).toContain('PORT');
    expect(failure?.stderr).toContain('S3_BUCKET');
    expect(failure?.stderr).toContain('S3_SECRET_ACCESS_KEY');
  });
});
