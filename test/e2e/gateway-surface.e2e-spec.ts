import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { newKeyToken, OBJECT_LIMITS } from '@lib/contracts';
import { APP_NAMES, REPO_ROOT, startTestPlatform, TestOrg, TestPlatform } from '@lib/testing';

const run = promisify(execFile);

/** The gateway's TRUST_PROXY as Kubernetes deploys it: the hops in front of it (the ingress). */
const DEPLOYED_TRUST_PROXY = (
  parse(readFileSync(join(REPO_ROOT, 'k8s', 'base', 'configmap.yaml'), 'utf8')) as {
    data: Record<string, string>;
  }
).data.TRUST_PROXY;
const DOWNLOAD_RATE_LIMIT = 3;

interface Schema {
  $ref?: string;
  example?: unknown;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
}

interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: unknown;
}

interface OpenApiOperation {
  summary?: string;
  security?: object[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType> }>;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, Schema> };
}

/** Every operation of the document: `METHOD /path`, its path, method and operation. */
const operationsOf = (doc: OpenApiDocument) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(
      ([method, op]) => [`${method.toUpperCase()} ${path}`, path, method, op] as const,
    ),
  );

/** A schema that gives its own example, or whose every property (or item) does. */
function schemaExampled(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): boolean {
  if (!schema || depth > 5) return false;
  if (schema.example !== undefined) return true;
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return schemaExampled(doc, doc.components.schemas[name], depth + 1);
  }
  if (schema.allOf) return schema.allOf.every((s) => schemaExampled(doc, s, depth + 1));
  if (schema.type === 'array') return schemaExampled(doc, schema.items, depth + 1);
  const properties = Object.values(schema.properties ?? {});
  return properties.length > 0 && properties.every((p) => schemaExampled(doc, p, depth + 1));
}

// What every app and the gateway promise regardless of feature: health, metrics, JSON errors, request ids,
// body limits, the OpenAPI document, the management port, the client address behind the ingress, and a
// refusal to boot on a bad environment.
describe('platform surface', () => {
  let t: TestPlatform;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        TRUST_PROXY: DEPLOYED_TRUST_PROXY,
        DOWNLOAD_RATE_LIMIT: String(DOWNLOAD_RATE_LIMIT),
        DOWNLOAD_RATE_WINDOW_SECONDS: '3600',
      },
    });
    org = await t.createOrg();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it.each(APP_NAMES)(
    'should serve probes on its public port, details and metrics on its management port when %s runs',
    async (app) => {
      const [base, management] = [t.platform.urls[app], t.platform.managementUrls[app]];
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok' });
      const detailed = await fetch(`${management}/health/ready`);
      expect(detailed.status).toBe(200);
      expect(await detailed.json()).toMatchObject({ status: 'ok', checks: expect.any(Object) });
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      const metrics = await (await fetch(`${management}/metrics`)).text();
      expect(metrics).toContain('process_cpu_seconds_total');
      expect(metrics).toContain('http_server_request_duration_seconds');
      // Each app's own failure modes: its Postgres pool, its outbox, its consumer, its S3 operations.
      const series: Record<string, string[]> = {
        gateway: [],
        'object-metadata': [
          'db_pool_connections',
          'db_pool_waiting_queries',
          'outbox_backlog_events',
          'bullmq_queue_jobs',
        ],
        storage: ['s3_operations_total'],
        'flow-orchestrator': [
          'db_pool_waiting_queries',
          'outbox_oldest_event_age_seconds',
          'bullmq_queue_jobs',
        ],
        'usage-aggregator': ['db_pool_connections', 'events_consumer_consuming'],
      };
      for (const name of series[app]) expect(metrics).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    },
  );

  describe('management port', () => {
    const operator = () => ({ authorization: `Bearer ${t.operatorToken}` });
    const orgCount = async () => (await t.admin<unknown[]>('GET', '/admin/orgs')).length;

    it('should answer 404 to the operator API on the public port, with or without the operator token', async () => {
      const before = await orgCount();
      for (const path of [
        '/admin/orgs',
        `/admin/orgs/${org.orgId}`,
        '/%61dmin/orgs',
        '/admin/orgs/',
      ]) {
        for (const headers of [{}, operator()]) {
          const res = await fetch(`${t.gatewayUrl}${path}`, { headers });
          expect({ path, status: res.status }).toEqual({ path, status: 404 });
          expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
        }
      }
      const create = await fetch(`${t.gatewayUrl}/admin/orgs`, {
        method: 'POST',
        headers: { ...operator(), 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'sneaky', name: 'sneaky' }),
      });
      expect(create.status).toBe(404);
      expect(await orgCount()).toBe(before);
    });

    it('should serve the operator API on the management port, to the operator token only', async () => {
      const management = t.platform.managementUrls.gateway;
      const orgs = await fetch(`${management}/admin/orgs`, { headers: operator() });
      expect(orgs.status).toBe(200);
      expect(await orgs.json()).toContainEqual(expect.objectContaining({ id: org.orgId }));
      expect((await fetch(`${management}/admin/orgs`)).status).toBe(401);
      const orgCredentials = { authorization: `Bearer ${org.apiKey}` };
      expect((await fetch(`${management}/admin/orgs`, { headers: orgCredentials })).status).toBe(
        401,
      );
      // The management port serves nothing of the public API.
      expect((await fetch(`${management}/v1/objects`, { headers: orgCredentials })).status).toBe(
        404,
      );
    });
  });

  describe('client address behind the ingress (TRUST_PROXY as k8s/ deploys it)', () => {
    // The test stands for the ingress: each of the `hops` trusted proxies appends the address it received
    // the request from to X-Forwarded-For, so the client's is the one `hops` places from the right; what the
    // client wrote itself is further left.
    const hops = Number(DEPLOYED_TRUST_PROXY);
    const download = (clientWrote: string, client: string) =>
      fetch(
        `${t.gatewayUrl}/api/v1/objects/download?objectKey=${org.orgKey}/files/${newKeyToken()}`,
        {
          headers: {
            'x-forwarded-for': [
              clientWrote,
              client,
              ...Array.from({ length: hops - 1 }, (_, i) => `10.0.0.${i + 1}`),
            ].join(', '),
          },
        },
      );

    it('should trust a hop count of proxies', () => {
      expect(DEPLOYED_TRUST_PROXY).toMatch(/^[1-9]$/);
    });

    it("should count each client's downloads at the address the ingress saw, whatever it wrote itself", async () => {
      for (let i = 0; i < DOWNLOAD_RATE_LIMIT; i++) {
        expect((await download(`198.51.100.${i}`, '203.0.113.7')).status).toBe(404);
      }
      const limited = await download('198.51.100.99', '203.0.113.7');
      expect(limited.status).toBe(429);
      expect(await limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      // Another client behind the same ingress has downloads of its own.
      expect((await download('203.0.113.7', '203.0.113.8')).status).toBe(404);
    });
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
    const big = await post(
      JSON.stringify({ name: 'x'.repeat(OBJECT_LIMITS.createBodyBytes), content_type: 'text' }),
    );
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

  describe('OpenAPI document (/docs-json)', () => {
    let doc: OpenApiDocument;

    beforeAll(async () => {
      doc = (await (await fetch(`${t.gatewayUrl}/docs-json`)).json()) as OpenApiDocument;
    });

    it('should be a valid OpenAPI document', async () => {
      // The parser dereferences in place: it gets a copy.
      await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toMatchObject({
        openapi: doc.openapi,
      });
    });

    it('should give every operation a summary and document its 4xx answers with the JSON error body', () => {
      const ajv = new Ajv({ strict: false });
      const problems: string[] = [];
      for (const [key, path, method, op] of operationsOf(doc)) {
        const statuses = Object.keys(op.responses).map(Number);
        if (!op.summary?.trim()) problems.push(`${key}: no summary`);
        if (!statuses.some((s) => s >= 400 && s < 500)) problems.push(`${key}: no 4xx answer`);
        if ((op.security ?? []).length > 0 && !statuses.includes(401)) {
          problems.push(`${key}: guarded, but no 401`);
        }
        if (['post', 'put', 'patch'].includes(method)) {
          for (const status of [400, 413]) {
            if (!statuses.includes(status)) problems.push(`${key}: takes a body, but no ${status}`);
          }
        }
        if ((op.parameters ?? []).some((p) => p.in === 'path')) {
          if (!statuses.includes(400) && !statuses.includes(404)) {
            problems.push(`${key}: has a path parameter, but neither 400 nor 404`);
          }
        }
        // Org storage (and its triggers) wrap errors in their own envelope; every other route does not.
        const schema = path.startsWith('/api/private/') ? 'OrgStorageError' : 'Error';
        for (const status of statuses.filter((s) => s >= 400)) {
          const json = op.responses[status].content?.['application/json'];
          if (json?.schema?.$ref !== `#/components/schemas/${schema}`) {
            problems.push(`${key} ${status}: body is not the ${schema} schema`);
          } else if (!ajv.validate(doc.components.schemas[schema], json.example)) {
            problems.push(
              `${key} ${status}: example does not match ${schema}: ${ajv.errorsText()}`,
            );
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('should give an example of every JSON request body and success answer', () => {
      const problems: string[] = [];
      const exampled = (media: MediaType | undefined): boolean =>
        media === undefined ||
        media.example !== undefined ||
        media.examples !== undefined ||
        schemaExampled(doc, media.schema);
      for (const [key, , , op] of operationsOf(doc)) {
        if (!exampled(op.requestBody?.content?.['application/json'])) {
          problems.push(`${key}: request body without an example`);
        }
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 300 && !exampled(response.content?.['application/json'])) {
            problems.push(`${key} ${status}: answer without an example`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
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
