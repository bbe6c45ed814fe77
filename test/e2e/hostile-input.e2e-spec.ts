import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { connect } from 'node:net';
import fc from 'fast-check';
import { Client } from 'pg';
import { request } from 'undici';
import { FLOW_LIMITS } from '@lib/contracts';
import { createS3Client } from '@lib/s3';
import { startTestPlatform, TestOrg, TestPlatform, waitFor } from '@lib/testing';
import {
  anyJsonBody,
  badJsonBody,
  encode,
  hostileHeaders,
  headerValue,
  hostileString,
  invalidOrgPath,
  multipartBody,
  queryString,
  RouteOp,
  routesOf,
} from '../support/hostile-input';
import { exchange, head } from '../support/raw-http';

// Every route of the gateway's own OpenAPI document gets at least 200 generated malformed
// requests (bodies, query strings, path params, headers, multipart parts). None may answer 5xx; every error is
// JSON naming the problem; and nothing changes: the database (every table of every service), the S3 bucket
// and the runs are the same afterwards. Oversized bodies and slow or truncated uploads are included.
// A failure prints fast-check's seed and path; rerun with HOSTILE_SEED=<seed> to reproduce it.

const SEED = Number(process.env.HOSTILE_SEED ?? 20261123);
const RUNS = Number(process.env.HOSTILE_RUNS ?? 200);
/** The largest JSON body any route takes (flow definitions, trigger payloads). */
const BODY_LIMIT = FLOW_LIMITS.bodyBytes;

interface Sent {
  method: string;
  url: string;
  headers: string[];
  body?: string | Buffer;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Everything a request could change: a digest of every table's rows and the bucket's file list. */
async function snapshot(t: TestPlatform): Promise<Record<string, string>> {
  const db = new Client({ connectionString: t.db.url });
  await db.connect();
  try {
    const tables = await db.query<{ name: string }>(
      `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
          AND table_name <> 'migrations' ORDER BY 1`,
    );
    const state: Record<string, string> = {};
    for (const { name } of tables.rows) {
      const { rows } = await db.query<{ n: string; digest: string | null }>(
        `SELECT count(*) AS n, md5(string_agg(t::text, ',' ORDER BY t::text)) AS digest FROM ${name} t`,
      );
      state[name] = `${rows[0].n}:${rows[0].digest ?? ''}`;
    }
    const s3 = createS3Client(t.s3.settings);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: t.s3.settings.bucket, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => `${o.Key}:${o.Size}:${o.ETag}`));
      token = page.NextContinuationToken;
    } while (token);
    s3.destroy();
    state['s3'] = keys.sort().join('\n');
    return state;
  } finally {
    await db.end();
  }
}

/**
 * The state once the platform is quiet: every outbox event published and every event the usage aggregator
 * consumes recorded as processed (so no consumer is still changing rows).
 */
async function settled(t: TestPlatform): Promise<Record<string, string>> {
  const db = new Client({ connectionString: t.db.url });
  await db.connect();
  try {
    await waitFor(
      'every outbox event published and consumed',
      async () => {
        const { rows } = await db.query<{ pending: string; published: string; processed: string }>(
          `SELECT
             (SELECT count(*) FROM flow.outbox WHERE published_at IS NULL)
               + (SELECT count(*) FROM object_metadata.outbox WHERE published_at IS NULL) AS pending,
             (SELECT count(*) FROM flow.outbox WHERE topic IN ('storage_file.updated', 'run.created'))
               + (SELECT count(*) FROM object_metadata.outbox
                   WHERE topic IN ('storage_file.updated', 'run.created')) AS published,
             (SELECT count(*) FROM usage.processed_events) AS processed`,
        );
        const r = rows[0];
        return r.pending === '0' && r.published === r.processed;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } finally {
    await db.end();
  }
  return snapshot(t);
}

async function send(base: string, req: Sent): Promise<Answer> {
  const res = await request(`${base}${req.url}`, {
    method: req.method as 'GET',
    headers: req.headers,
    body: req.body,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text };
}

/** The assertions every hostile request must pass; returns a reason when one fails. */
function judge(
  route: RouteOp,
  ans: Answer,
  mustRefuse: boolean,
  names?: string[],
): string | undefined {
  if (ans.status >= 500) return `answered ${ans.status}`;
  if (mustRefuse && ans.status < 400) return `accepted a malformed request with ${ans.status}`;
  if (ans.status < 400) return undefined;
  if (!ans.contentType.includes('application/json'))
    return `error is not JSON (${ans.contentType})`;
  let body: { success?: boolean; error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(ans.text) as typeof body;
  } catch {
    return 'error body does not parse as JSON';
  }
  const { code, message } = body.error ?? {};
  if (typeof code !== 'string' || !code) return 'error has no code';
  if (typeof message !== 'string' || message.trim().length < 3) return 'error has no message';
  if (names?.length && ans.status === 400 && code === 'VALIDATION_FAILED') {
    if (!names.some((n) => message.includes(n)))
      return `400 names none of the fields ${JSON.stringify(names)}`;
  }
  if (route.path.startsWith('/api/private/') && body.success !== false)
    return 'no success:false envelope';
  return undefined;
}

describe('hostile input', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let routes: RouteOp[];
  let before: Record<string, string>;
  /** Real values of path params, used when the body is the defect (so validation past the path is reached). */
  let valid: Record<string, string>;

  /** Where a route answers: the gateway's operator API on its management port, the rest on the public one. */
  const baseOf = (path: string) =>
    path.startsWith('/admin') ? t.platform.managementUrls.gateway : t.gatewayUrl;

  const credentials = (auth: string): string[] => {
    switch (auth) {
      case 'bearer':
        return ['authorization', `Bearer ${org.apiKey}`];
      case 'api-key':
        return ['api-key', org.orgPrivateKey];
      case 'operator':
        return ['authorization', `Bearer ${t.operatorToken}`];
      default:
        return [];
    }
  };

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        // Hundreds of public downloads: a limit of our own, and counters of our own, so that suites run
        // after this one (same client address, same Redis) are not throttled by them.
        DOWNLOAD_RATE_LIMIT: '10000000',
        RATE_LIMIT_PREFIX: `hostile-${randomBytes(4).toString('hex')}`,
      },
    });
    org = await t.createOrg();
    const gw = t.gatewayUrl;
    const bearer = { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' };
    const doc = await (await fetch(`${gw}/docs-json`)).json();
    routes = routesOf(doc as Parameters<typeof routesOf>[0]);

    // Fixtures: an object, a folder with a file, a workflow with a run waiting for an upload.
    const object = (await (
      await fetch(`${gw}/v1/objects`, {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify({ name: 'fixture.txt', content_type: 'text', metadata: { k1: 'v1' } }),
      })
    ).json()) as { id: string };
    const form = new FormData();
    form.append('path', 'docs');
    form.append('file', new Blob(['fixture bytes']), 'a.txt');
    const uploaded = await fetch(`${gw}/api/private/storage/upload`, {
      method: 'POST',
      headers: { 'api-key': org.orgPrivateKey },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const run = (await (
      await fetch(`${gw}/api/v1/flow/hostile-flow`, {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify({
          Flow: {
            DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'in.txt' }],
            Steps: [{ ID: 'pack', Type: 'archive', Inputs: ['in'] }],
            StartingStepID: 'pack',
          },
        }),
      })
    ).json()) as { ID: string; WorkflowID: string; Status: string };
    expect(run.Status).toBe('WAITING');
    valid = {
      id: object.id,
      key: 'k1',
      runId: run.ID,
      flowRunID: run.ID,
      edgeName: 'in',
      name: 'hostile-flow',
      workflowId: run.WorkflowID,
      orgId: org.orgId,
      userId: org.memberUserId,
    };
    before = await settled(t);
  });

  /**
   * The state equals the one before the suite. An aborted upload's S3 multipart upload is removed by the
   * storage service just after the client got its answer, so this waits (bounded) for cleanups to land,
   * then compares (showing the difference if one is left).
   */
  const expectUnchanged = async () => {
    let last: Record<string, string> = {};
    await waitFor(
      'the state to equal the one before',
      async () => {
        last = await settled(t);
        return JSON.stringify(last) === JSON.stringify(before);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch(() => undefined);
    expect(last).toEqual(before);
  };

  afterAll(async () => {
    await t?.stop();
  });

  it('should cover every route of the OpenAPI document', () => {
    // A sanity floor: the document lists every surface (objects, org storage, usage, flows, uploads, admin).
    expect(routes.length).toBeGreaterThanOrEqual(39);
    expect(routes.filter((r) => r.multipart).length).toBe(3);
  });

  /** One arbitrary malformed request for a route; `mustRefuse` when it certainly carries a defect. */
  const requestFor = (
    route: RouteOp,
  ): fc.Arbitrary<{ req: Sent; mustRefuse: boolean; names?: string[] }> => {
    const safe = route.method === 'GET';
    const freeForm =
      route.bodyFields !== undefined &&
      route.bodyFields.length === 0 &&
      route.path.includes('trigger');
    const hasBody = route.bodyFields !== undefined || route.multipart;
    // The defect: hostile path params, or (when the route takes a body) a bad body with real path params.
    const pathDefect =
      route.pathParams.length === 0
        ? fc.constant(false)
        : !hasBody
          ? fc.constant(true)
          : fc.boolean();
    const fields = route.path.includes('/flow/') ? ['Flow'] : (route.bodyFields ?? []);
    return pathDefect.chain((hostilePath) => {
      const pathValues = fc.tuple(
        ...route.pathParams.map((p) =>
          hostilePath || route.pathParams.length === 0
            ? hostileString.map((s) => (s === valid[p] ? `${s}x` : s))
            : fc.constant(valid[p]),
        ),
      );
      const queryPairs = fc.array(
        fc.tuple(
          route.queryParams.length
            ? fc.oneof(fc.constantFrom(...route.queryParams), hostileString)
            : hostileString,
          hostileString,
        ),
        { maxLength: 4 },
      );
      const forcedQuery: fc.Arbitrary<[string, string][]> =
        route.method === 'DELETE' && route.requiredQuery.includes('path')
          ? invalidOrgPath.map((p) => [['path', p]])
          : fc.constant([]);
      const rawQuery = fc.option(
        fc.constantFrom(
          '%',
          '%zz',
          '&&=',
          '=x',
          'a[b]=1',
          'a[__proto__][x]=1',
          'x=%00',
          '%E0%A4%A',
        ),
        {
          nil: undefined,
        },
      );
      const plainCredentials = credentials(route.auth);
      const auth = fc.oneof(
        { weight: 9, arbitrary: fc.constant(plainCredentials) },
        fc.tuple(fc.constantFrom('authorization', 'api-key'), headerValue).map(([k, v]) => [k, v]),
        fc.constant([...credentials(route.auth), ...credentials(route.auth)]),
      );
      let body: fc.Arbitrary<{
        body?: string | Buffer;
        contentType?: string;
        certain: boolean;
        names?: string[];
      }>;
      if (route.multipart) {
        const fieldsOf = route.path === '/api/v1/upload' ? ['workflow_id'] : ['path'];
        const forced: [string, fc.Arbitrary<string>] | undefined =
          route.path === '/api/private/storage/upload' ? ['path', invalidOrgPath] : undefined;
        // With real path params (a waiting run's edge) only a broken multipart body is sent.
        body = multipartBody(fieldsOf, {
          forced,
          brokenOnly: route.pathParams.length > 0 && !hostilePath,
        }).map((m) => ({
          body: m.body,
          contentType: m.contentType,
          certain: m.certain || forced !== undefined || route.path === '/api/v1/upload',
        }));
      } else if (route.bodyFields !== undefined) {
        const bad = freeForm
          ? fc
              .constantFrom('{', '[1,', '{"a":}', '\u0000', 'nul')
              .map((b) => ({ body: b, contentType: 'application/json' }))
          : badJsonBody(fields);
        body = (hostilePath ? anyJsonBody(fields) : bad).map((b) => ({
          ...b,
          certain: !hostilePath,
        }));
      } else {
        body = fc.constant({ certain: false });
      }
      return fc
        .tuple(pathValues, queryPairs, forcedQuery, rawQuery, auth, body, hostileHeaders)
        .map(([pv, qp, fq, raw, creds, b, extra]) => {
          let url = route.path;
          route.pathParams.forEach((p, i) => {
            url = url.replace(`{${p}}`, pv[i] === valid[p] ? pv[i] : encode(pv[i]));
          });
          url += queryString([...fq, ...qp], raw);
          const headers = [
            ...creds,
            ...(b.contentType ? ['content-type', b.contentType] : []),
            ...extra.flat(),
          ];
          const mustRefuse = !safe && (hostilePath || b.certain || fq.length > 0);
          // A body that reaches field validation (nothing else in the request stops it first) must have its
          // 400 name a field it sent.
          const stoppedEarlier =
            hostilePath ||
            creds !== plainCredentials ||
            extra.some(([k]) => ['content-type', 'content-encoding', 'if-match'].includes(k));
          const names = stoppedEarlier ? undefined : b.names;
          return { req: { method: route.method, url, headers, body: b.body }, mustRefuse, names };
        });
    });
  };

  it(`should answer ${RUNS} malformed requests to every route with a JSON 4xx and change nothing`, async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const out = await fc.check(
        fc.asyncProperty(requestFor(route), async ({ req, mustRefuse, names }) => {
          const ans = await send(baseOf(route.path), req);
          const why = judge(route, ans, mustRefuse, names);
          if (why) throw new Error(`${why}: ${ans.text.slice(0, 300)}`);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      if (out.failed) {
        const [example] = out.counterexample ?? [];
        const error =
          (out.errorInstance as Error | undefined)?.message ?? String(out.errorInstance);
        failures.push(
          `${route.method} ${route.path} (seed ${out.seed}, path ${out.counterexamplePath}): ${error}\n` +
            `  request: ${JSON.stringify(example).slice(0, 600)}`,
        );
      }
    }
    expect(failures).toEqual([]);
    await expectUnchanged();
  });

  it('should refuse an oversized JSON body on every JSON route with a JSON 413', async () => {
    // Announced and never sent: the gateway refuses the body by its length and closes the connection (a
    // client still writing a megabyte then may see EPIPE before the answer), so the answer is read off the
    // socket.
    for (const route of routes.filter((r) => r.bodyFields !== undefined)) {
      const url = route.path.replace(/\{([^}]+)\}/g, (_, p: string) => valid[p]);
      const [name, value] = credentials(route.auth);
      const raw = await exchange(baseOf(url), (socket) =>
        socket.write(
          head(
            `${route.method} ${url} HTTP/1.1`,
            'host: gateway',
            'connection: close',
            ...(name === undefined ? [] : [`${name}: ${value}`]),
            'content-type: application/json',
            `content-length: ${BODY_LIMIT + 20}`,
          ),
        ),
      );
      const ans = {
        status: raw.status,
        contentType: raw.headers['content-type'] ?? '',
        text: raw.body,
      };
      expect({ route: route.path, status: ans.status }).toEqual({ route: route.path, status: 413 });
      expect(judge(route, ans, true)).toBeUndefined();
    }
    await expectUnchanged();
  });

  it('should answer a request line over the header size limit with a JSON 431 in its surface envelope', async () => {
    const long = 'a'.repeat(20_000);
    const objects = await send(t.gatewayUrl, {
      method: 'GET',
      url: `/v1/objects?name=${long}`,
      headers: credentials('bearer'),
    });
    expect(objects.status).toBe(431);
    expect(JSON.parse(objects.text)).toEqual({
      error: { code: 'HEADERS_TOO_LARGE', message: expect.stringContaining('size limit') },
    });
    const storage = await send(t.gatewayUrl, {
      method: 'GET',
      url: `/api/private/storage/meta?path=${long}`,
      headers: credentials('api-key'),
    });
    expect(storage.status).toBe(431);
    expect(JSON.parse(storage.text)).toMatchObject({
      success: false,
      error: { code: 'HEADERS_TOO_LARGE' },
    });
  });

  it('should refuse a multipart body on every route but the uploads, rather than run anything', async () => {
    // Routes whose JSON body is optional (Objects API complete and delete, flows, trigger) would otherwise
    // take it for no body at all and act.
    const targets = routes.filter(
      (r) => r.method !== 'GET' && !r.multipart && (r.auth === 'bearer' || r.auth === 'api-key'),
    );
    expect(targets.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/objects/{id}/complete',
        'POST /v1/objects/{id}/delete',
        'POST /api/v1/flow/{name}',
        'POST /api/private/trigger/{workflowId}',
      ]),
    );
    for (const route of targets) {
      const url = route.path.replace(/\{([^}]+)\}/g, (_, p: string) => valid[p]);
      const ans = await send(t.gatewayUrl, {
        method: route.method,
        url,
        headers: [...credentials(route.auth), 'content-type', 'multipart/form-data; boundary=zz'],
        body: 'true',
      });
      expect({ route: `${route.method} ${route.path}`, status: ans.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 415,
      });
      expect(judge(route, ans, true)).toBeUndefined();
    }
    await expectUnchanged();
  });

  it('should answer 400 at once to a multipart body that ends inside the file part, on every upload route', async () => {
    const b = 'cut';
    const body =
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n` +
      'Content-Type: text/plain\r\n\r\nhalf a fi';
    const targets: [string, string][] = [
      ['/api/private/storage/upload', 'api-key'],
      ['/api/v1/upload', 'bearer'],
      // The run's edge is looked up (awaited) before the file part is read: the cut must not hang it.
      [`/api/v1/upload/${valid.runId}/in`, 'bearer'],
    ];
    for (const [url, auth] of targets) {
      const route = routes.find((r) => r.multipart && url.startsWith(r.path.split('{')[0]))!;
      const ans = await send(t.gatewayUrl, {
        method: 'POST',
        url,
        headers: [...credentials(auth), 'content-type', `multipart/form-data; boundary=${b}`],
        body,
      });
      expect({ url, status: ans.status }).toEqual({ url, status: 400 });
      expect(judge(route, ans, true)).toBeUndefined();
    }
    await expectUnchanged();
  });

  it('should refuse prototype-named fields and lone surrogates with a 400 naming the field', async () => {
    const cases: [string, unknown, string][] = [
      [
        `/admin/orgs/${org.orgId}/private-keys`,
        { name: 'k', valueOf: 'x' },
        'property valueOf should not exist',
      ],
      [
        `/admin/orgs/${org.orgId}/users`,
        { email: '\ud800', role: 'member' },
        'email must be well-formed',
      ],
    ];
    for (const [url, payload, message] of cases) {
      const ans = await send(baseOf(url), {
        method: 'POST',
        url,
        headers: [...credentials('operator'), 'content-type', 'application/json'],
        body: JSON.stringify(payload),
      });
      expect(ans.status).toBe(400);
      expect(JSON.parse(ans.text)).toMatchObject({
        error: { code: 'VALIDATION_FAILED', message: expect.stringContaining(message) },
      });
    }
    await expectUnchanged();
  });

  it('should refuse an org storage upload over 10 MiB with a JSON 413 and store nothing', async () => {
    const form = new FormData();
    form.append('path', 'big');
    form.append('file', new Blob([Buffer.alloc(10 * 1024 * 1024 + 1, 1)]), 'big.bin');
    const res = await fetch(`${t.gatewayUrl}/api/private/storage/upload`, {
      method: 'POST',
      headers: { 'api-key': org.orgPrivateKey },
      body: form,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ success: false, error: { code: expect.any(String) } });
    await expectUnchanged();
  });

  /**
   * A raw HTTP client that announces `declared` bytes, sends `sent` of them in `chunks` pieces (a slow client
   * dribbles them), then closes the connection without the rest. The server must neither keep the partial
   * upload nor hang: it stays healthy and nothing changes.
   */
  const truncated = async (
    path: string,
    headers: Record<string, string>,
    payload: Buffer,
    chunks: number,
  ): Promise<void> => {
    const socket = connect(Number(new URL(t.gatewayUrl).port), '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const head = [
      `POST ${path} HTTP/1.1`,
      'host: 127.0.0.1',
      `content-length: ${payload.length * 4}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    socket.write(head);
    const size = Math.ceil(payload.length / chunks);
    for (let i = 0; i < payload.length; i += size) {
      socket.write(payload.subarray(i, i + size));
      // A slow client: the next piece comes a little later (the server must just wait for it).
      if (chunks > 1) await new Promise((r) => setTimeout(r, 50));
    }
    socket.destroy();
    await closed;
  };

  it('should keep nothing of uploads and bodies that stop midway, slow or fast, and stay healthy', async () => {
    const b = 'trunc';
    const multipart = (fields: Record<string, string>) =>
      Buffer.concat([
        ...Object.entries(fields).map(([k, v]) =>
          Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
        ),
        Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="t.bin"\r\n`),
        Buffer.from('Content-Type: application/octet-stream\r\n\r\n'),
        Buffer.alloc(256 * 1024, 7),
      ]);
    const ct = { 'content-type': `multipart/form-data; boundary=${b}` };
    const cases: [string, Record<string, string>, Buffer][] = [
      [
        '/api/private/storage/upload',
        { 'api-key': org.orgPrivateKey, ...ct },
        multipart({ path: 'docs' }),
      ],
      [
        '/api/v1/upload',
        { authorization: `Bearer ${org.apiKey}`, ...ct },
        multipart({ workflow_id: valid.workflowId }),
      ],
      [
        `/api/v1/upload/${valid.runId}/in`,
        { authorization: `Bearer ${org.apiKey}`, ...ct },
        multipart({}),
      ],
      [
        '/v1/objects',
        { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        Buffer.from('{"name":"half.txt","content_type":"te'),
      ],
    ];
    for (const [path, headers, payload] of cases) {
      await truncated(path, headers, payload, 1);
      await truncated(path, headers, payload, 8);
    }
    expect((await fetch(`${t.gatewayUrl}/health/ready`)).status).toBe(200);
    await expectUnchanged();
  });
});
