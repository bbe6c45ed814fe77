import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { startTestPlatform, TestOrg, TestPlatform, waitFor } from '@lib/testing';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Scheme = 'bearer' | 'api-key' | 'operator';

interface OpenApiDocument {
  paths: Record<string, Partial<Record<Method, { operationId?: string; security?: object[] }>>>;
}

/** One operation of the document, with the request that would be valid for org A. */
interface Operation {
  method: Method;
  template: string;
  scheme: Scheme;
  request: RequestShape;
}

interface RequestShape {
  path: string;
  body?: unknown;
  form?: () => FormData;
  headers?: Record<string, string>;
  /**
   * What org B gets for it: 404 (it names org A's resource), its own normal answer (2xx), or, for an
   * operation this file does not know yet, anything but a 401/403/5xx (a 404, or a 400 from validation).
   */
  crossOrg?: 404 | 'own' | 'any';
}

interface Answer {
  status: number;
  text: string;
  json: unknown;
}

/**
 * Operations served without credentials, on purpose. Health, metrics and the docs are not in the document.
 * Anything else without a security scheme fails the suite: a new route must say how it is protected.
 */
const PUBLIC_OPERATIONS = new Set([
  // Public download: the object key is the capability (rate limited per IP, answers a presigned redirect).
  'GET /api/v1/objects/download',
]);

/** Routes that need the org admin role, with the request a member must be refused (403). */
const ADMIN_ONLY = (memberUserId: string) => [
  {
    op: 'GET /api/v1/objects/storage-usage',
    path: `/api/v1/objects/storage-usage?createdBy=${memberUserId}`,
  },
];

/** A workflow whose runs wait for one upload on edge `in`. */
const FLOW = {
  Flow: { DataWells: [{ Edge: 'in', Store: 's3-bucket', Source: 'upload', Key: 'input.txt' }] },
};
/** What a token scoped to another workflow would put in its place, to receive its future inputs. */
const STOLEN_FLOW = {
  Flow: { DataWells: [{ Edge: 'in', Store: 's3-bucket', Source: 'upload', Key: 'stolen.txt' }] },
};

const JWT_SECRET = randomBytes(32).toString('base64url');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const unb64 = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString()) as object;

// Every operation of the gateway's own OpenAPI document (a new route is covered without
// editing this file) against missing, wrong-scheme, expired, tampered, other-org and under-privileged
// credentials; each answer is 401/403/404 with a JSON error and nothing of org A changes.
describe('authorization matrix (every operation of /docs-json)', () => {
  let t: TestPlatform;
  let a: TestOrg;
  let b: TestOrg;
  /** An org without the `objects` capability. */
  let c: TestOrg;
  let operations: Operation[];
  /** Org A's identifiers that must never appear in an answer to someone else (unless they sent it). */
  let secrets: string[];
  /** Org A's admin, in a session scoped to org A's workflow `workflowName`. */
  let scopedJwt: string;
  let db: Client;
  const token = randomBytes(4).toString('hex');
  const fileName = `authz-${token}.txt`;
  const metaValue = `org-a-secret-${token}`;
  const workflowName = `authz-${token}`;
  const otherWorkflowName = `authz-other-${token}`;
  const ids = {
    objectId: '',
    objectKey: '',
    fileEtag: '',
    workflowId: '',
    doneRunId: '',
    waitingRunId: '',
    /** A waiting run of `workflowName` the scoped session uploads into. */
    spareRunId: '',
    otherWorkflowId: '',
    /** A waiting run of `otherWorkflowName`. */
    otherRunId: '',
  };
  let snapshot: {
    object: string;
    file: string;
    orgs: number;
    runs: string[];
    workflows: string;
  };

  async function send(
    method: string,
    req: RequestShape,
    auth: Record<string, string> = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...req.headers, ...auth };
    let body: string | FormData | undefined;
    if (req.form) body = req.form();
    else if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    // The operator API answers on the gateway's management port only.
    const base = req.path.startsWith('/admin') ? t.platform.managementUrls.gateway : t.gatewayUrl;
    const res = await fetch(`${base}${req.path}`, {
      method: method.toUpperCase(),
      headers,
      body,
      redirect: 'manual',
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  }

  const bearer = (v: string) => ({ authorization: `Bearer ${v}` });
  const orgKey = (v: string) => ({ 'api-key': v });
  const sign = (claims: Record<string, unknown>, exp: number, secret = JWT_SECRET) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));
  const now = () => Math.floor(Date.now() / 1000);
  const adminClaims = () => ({
    sub: a.adminUserId,
    org: a.orgId,
    org_key: a.orgKey,
    role: 'admin',
  });

  /** The error body of the route's prefix: `/api/private` has org storage's envelope, the rest the platform's. */
  function jsonErrorProblem(op: Operation, res: Answer): string | null {
    const body = res.json as
      { success?: boolean; error?: { code?: unknown; message?: unknown } } | undefined;
    if (!body?.error) return `no JSON error body: ${res.text.slice(0, 200)}`;
    if (typeof body.error.code !== 'string' || typeof body.error.message !== 'string') {
      return `error without code/message: ${res.text.slice(0, 200)}`;
    }
    if (op.template.startsWith('/api/private/') && body.success !== false) {
      return `no {success:false} envelope: ${res.text.slice(0, 200)}`;
    }
    return null;
  }

  const errorReason = (res: Answer) =>
    (res.json as { error?: { details?: { reason?: string } } } | undefined)?.error?.details?.reason;

  /** Runs `attempt` on every operation it applies to; returns one line per answer that is not `expected`. */
  async function matrix(
    name: string,
    applies: (op: Operation) => boolean,
    attempt: (op: Operation) => Record<string, string>,
    expected: number,
    reason?: string,
  ): Promise<string[]> {
    const failures: string[] = [];
    let tried = 0;
    for (const op of operations.filter(applies)) {
      tried++;
      const res = await send(op.method, op.request, attempt(op));
      const label = `${name}: ${op.method.toUpperCase()} ${op.template}`;
      if (res.status !== expected) {
        failures.push(`${label} → ${res.status} (expected ${expected}) ${res.text.slice(0, 200)}`);
        continue;
      }
      const problem = jsonErrorProblem(op, res);
      if (problem) failures.push(`${label} → ${problem}`);
      else if (reason !== undefined && errorReason(res) !== reason) {
        failures.push(`${label} → reason ${errorReason(res)} (expected ${reason})`);
      }
    }
    if (tried === 0) failures.push(`${name}: no operation tried`);
    return failures;
  }

  const isPublic = (op: Operation) =>
    PUBLIC_OPERATIONS.has(`${op.method.toUpperCase()} ${op.template}`);
  const guarded = (op: Operation) => !isPublic(op);
  const orgRoute = (op: Operation) => op.scheme !== 'operator';

  const opKey = (op: Operation) => `${op.method} ${op.template}`;

  /** A multipart body: `fields`, then a small file. */
  const fileForm =
    (fields: Record<string, string> = {}) =>
    () => {
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) f.append(k, v);
      f.append('file', new Blob(['authz bytes'], { type: 'text/plain' }), 'authz.txt');
      return f;
    };

  /** The request for each operation that would succeed for org A; anything else gets a generic one. */
  function requestFor(method: Method, template: string): RequestShape {
    const file = encodeURIComponent(fileName);
    const known: Record<string, RequestShape> = {
      'post /v1/objects': {
        path: '/v1/objects',
        body: { name: 'authz-b.txt', content_type: 'text' },
        crossOrg: 'own',
      },
      'get /v1/objects': { path: `/v1/objects?search=${ids.objectId}`, crossOrg: 'own' },
      'get /v1/objects/list_public': { path: '/v1/objects/list_public', crossOrg: 'own' },
      'get /v1/objects/metadata/keys': { path: '/v1/objects/metadata/keys', crossOrg: 'own' },
      'get /v1/objects/metadata/keys/{key}/values': {
        path: '/v1/objects/metadata/keys/authz_team/values',
        crossOrg: 'own',
      },
      'get /v1/objects/{id}': { path: `/v1/objects/${ids.objectId}`, crossOrg: 404 },
      ...Object.fromEntries(
        ['complete', 'delete', 'publish', 'unpublish'].map((step) => [
          `post /v1/objects/{id}/${step}`,
          { path: `/v1/objects/${ids.objectId}/${step}`, crossOrg: 404 as const },
        ]),
      ),
      'get /api/v1/flow/status/{runId}': {
        path: `/api/v1/flow/status/${ids.doneRunId}`,
        crossOrg: 404,
      },
      'get /v1/objects/{id}/download': {
        path: `/v1/objects/${ids.objectId}/download?duration_seconds=60`,
        crossOrg: 404,
      },
      'get /api/v1/objects/storage-usage': {
        path: `/api/v1/objects/storage-usage?createdBy=${a.adminUserId}`,
        crossOrg: 'own',
      },
      'post /api/v1/flow/{name}': {
        path: `/api/v1/flow/${workflowName}`,
        body: FLOW,
        crossOrg: 'own',
      },
      'post /api/v1/resources/download-url': {
        path: '/api/v1/resources/download-url',
        body: { resource_uri: `workflow://${ids.workflowId}/uploads/input.txt` },
        crossOrg: 404,
      },
      'post /api/v1/upload': {
        path: '/api/v1/upload',
        form: fileForm({ workflow_id: ids.workflowId }),
        crossOrg: 404,
      },
      'post /api/v1/upload/{flowRunID}/{edgeName}': {
        path: `/api/v1/upload/${ids.waitingRunId}/in`,
        form: fileForm(),
        crossOrg: 404,
      },
      'get /api/private/storage': { path: '/api/private/storage', crossOrg: 'own' },
      'post /api/private/storage/upload': {
        path: '/api/private/storage/upload',
        form: fileForm(),
        crossOrg: 'own',
      },
      'get /api/private/storage/meta': {
        path: `/api/private/storage/meta?path=${file}`,
        crossOrg: 404,
      },
      'delete /api/private/storage/file': {
        path: `/api/private/storage/file?path=${file}`,
        headers: { 'if-match': ids.fileEtag },
        crossOrg: 404,
      },
      'get /api/private/storage/download': {
        path: `/api/private/storage/download?path=${file}`,
        crossOrg: 404,
      },
      'post /api/private/storage/folder': {
        path: '/api/private/storage/folder',
        body: { name: `authz-b-${token}` },
        crossOrg: 'own',
      },
      'post /api/private/storage/rename': {
        path: '/api/private/storage/rename',
        body: { path: fileName, new_name: 'renamed.txt' },
        crossOrg: 404,
      },
      'post /api/private/storage/move': {
        path: '/api/private/storage/move',
        body: { source_path: fileName, dest_path: 'moved' },
        crossOrg: 404,
      },
      'post /api/private/storage/copy': {
        path: '/api/private/storage/copy',
        body: { source_path: fileName, dest_path: 'copied' },
        crossOrg: 404,
      },
      'get /api/private/storage/stats': { path: '/api/private/storage/stats', crossOrg: 'own' },
      'post /api/private/trigger/{workflowId}': {
        path: `/api/private/trigger/${ids.workflowId}`,
        body: {},
        crossOrg: 404,
      },
      'post /admin/orgs': { path: '/admin/orgs', body: { key: `authz-x-${token}`, name: 'x' } },
      'patch /admin/orgs/{orgId}': {
        path: `/admin/orgs/${a.orgId}`,
        body: { capabilities: [] },
      },
      'post /admin/orgs/{orgId}/users': {
        path: `/admin/orgs/${a.orgId}/users`,
        body: { email: `x-${token}@test.local`, role: 'admin' },
      },
      'post /admin/orgs/{orgId}/api-keys': {
        path: `/admin/orgs/${a.orgId}/api-keys`,
        body: { name: 'x', userId: a.adminUserId },
      },
      'post /admin/orgs/{orgId}/private-keys': {
        path: `/admin/orgs/${a.orgId}/private-keys`,
        body: { name: 'x' },
      },
      'post /admin/tokens': {
        path: '/admin/tokens',
        body: { orgId: a.orgId, userId: a.adminUserId },
      },
    };
    const shape = known[`${method} ${template}`];
    if (shape) return shape;
    // A generic request (an operation added after this file): path parameters filled with org A's real
    // ids by name, or a made-up id; no body. Every credential case still applies to it.
    const values: Record<string, string> = {
      id: template.startsWith('/admin/api-keys') ? a.apiKeyId : ids.objectId,
      orgId: a.orgId,
      userId: a.memberUserId,
      runId: ids.doneRunId,
      flowRunID: ids.waitingRunId,
      workflowId: ids.workflowId,
      name: workflowName,
      key: 'authz_team',
      edgeName: 'in',
    };
    const path = template.replace(/\{([^}]+)\}/g, (_m, p: string) =>
      encodeURIComponent(values[p] ?? randomUUID()),
    );
    return { path, crossOrg: 'any' };
  }

  /**
   * The operations a token scoped to one workflow may use (`@WorkflowScoped`), each with its request on the
   * session's workflow (allowed) and the requests on another workflow of the same org, or on one that does
   * not exist, that it is refused (403). Every other operation acts on the whole org and refuses the token.
   */
  function workflowRequests(): Record<string, { own: RequestShape; others: RequestShape[] }> {
    const uri = (workflowId: string) => ({
      resource_uri: `workflow://${workflowId}/uploads/input.txt`,
    });
    return {
      'post /api/v1/flow/{name}': {
        own: { path: `/api/v1/flow/${workflowName}`, body: FLOW },
        others: [
          // Replace workflow B's definition, run B's stored one, define a new workflow.
          { path: `/api/v1/flow/${otherWorkflowName}`, body: STOLEN_FLOW },
          { path: `/api/v1/flow/${otherWorkflowName}` },
          { path: `/api/v1/flow/authz-new-${token}`, body: FLOW },
        ],
      },
      'get /api/v1/flow/status/{runId}': {
        own: { path: `/api/v1/flow/status/${ids.doneRunId}` },
        others: [
          { path: `/api/v1/flow/status/${ids.otherRunId}` },
          { path: `/api/v1/flow/status/${randomUUID()}` },
        ],
      },
      'post /api/v1/upload': {
        own: { path: '/api/v1/upload', form: fileForm({ workflow_id: ids.workflowId }) },
        others: [
          { path: '/api/v1/upload', form: fileForm({ workflow_id: ids.otherWorkflowId }) },
          { path: '/api/v1/upload', form: fileForm({ workflow_id: randomUUID() }) },
        ],
      },
      'post /api/v1/upload/{flowRunID}/{edgeName}': {
        own: { path: `/api/v1/upload/${ids.spareRunId}/in`, form: fileForm() },
        others: [
          { path: `/api/v1/upload/${ids.otherRunId}/in`, form: fileForm() },
          { path: `/api/v1/upload/${randomUUID()}/in`, form: fileForm() },
        ],
      },
      'post /api/v1/resources/download-url': {
        own: { path: '/api/v1/resources/download-url', body: uri(ids.workflowId) },
        others: [
          { path: '/api/v1/resources/download-url', body: uri(ids.otherWorkflowId) },
          { path: '/api/v1/resources/download-url', body: uri(randomUUID()) },
        ],
      },
    };
  }

  async function orgAState() {
    const object = await send('get', { path: `/v1/objects/${ids.objectId}` }, bearer(a.apiKey));
    const file = await send(
      'get',
      { path: `/api/private/storage/meta?path=${encodeURIComponent(fileName)}` },
      orgKey(a.orgPrivateKey),
    );
    const orgs = await t.admin<unknown[] | { orgs: unknown[] }>('GET', '/admin/orgs');
    const runs = [];
    for (const id of [ids.doneRunId, ids.waitingRunId, ids.otherRunId]) {
      const run = await send('get', { path: `/api/v1/flow/status/${id}` }, bearer(a.apiKey));
      runs.push(`${run.status} ${(run.json as { Status: string }).Status}`);
    }
    expect([object.status, file.status]).toEqual([200, 200]);
    const workflows = await db.query(
      'SELECT name, flow FROM flow.workflows WHERE org_id = $1 ORDER BY name',
      [a.orgId],
    );
    return {
      object: object.text,
      file: file.text,
      orgs: Array.isArray(orgs) ? orgs.length : orgs.orgs.length,
      runs,
      workflows: JSON.stringify(workflows.rows),
    };
  }

  beforeAll(async () => {
    t = await startTestPlatform({ env: { JWT_SECRET } });
    db = new Client({ connectionString: t.db.url });
    await db.connect();
    [a, b, c] = await Promise.all([
      t.createOrg(),
      t.createOrg(),
      t.createOrg({ capabilities: [] }),
    ]);

    // Org A's resources: an object with bytes, an org storage file, a workflow with a finished run (with
    // an input) and a run waiting for its upload.
    const created = await send(
      'post',
      {
        path: '/v1/objects',
        body: {
          name: 'authz.txt',
          content_type: 'text',
          metadata: { authz_team: metaValue },
        },
      },
      bearer(a.apiKey),
    );
    expect([created.status, created.text]).toEqual([200, expect.any(String)]);
    const object = created.json as { id: string; upload_url: string };
    ids.objectId = object.id;
    expect((await fetch(object.upload_url, { method: 'PUT', body: 'object bytes' })).status).toBe(
      200,
    );
    const completed = await send(
      'post',
      { path: `/v1/objects/${ids.objectId}/complete` },
      bearer(a.apiKey),
    );
    expect([completed.status, completed.text]).toEqual([200, expect.any(String)]);

    const form = new FormData();
    form.append('file', new Blob(['org file bytes']), fileName);
    const uploaded = await send(
      'post',
      { path: '/api/private/storage/upload', form: () => form },
      orgKey(a.orgPrivateKey),
    );
    expect([uploaded.status, uploaded.text]).toEqual([201, expect.any(String)]);
    const entry = (uploaded.json as { data: { etag: string; objectKey: string } }).data;
    ids.fileEtag = entry.etag;
    ids.objectKey = entry.objectKey;

    const startRun = async (name = workflowName) => {
      const res = await send(
        'post',
        { path: `/api/v1/flow/${name}`, body: FLOW },
        bearer(a.apiKey),
      );
      expect([res.status, res.text]).toEqual([200, expect.any(String)]);
      return res.json as { ID: string; WorkflowID: string; WaitingURLs: { PutURL: string }[] };
    };
    const done = await startRun();
    ids.workflowId = done.WorkflowID;
    ids.doneRunId = done.ID;
    expect(
      (await fetch(done.WaitingURLs[0].PutURL, { method: 'PUT', body: 'run input' })).status,
    ).toBe(200);
    await waitFor(
      'the first run to complete',
      async () => {
        const res = await send(
          'get',
          { path: `/api/v1/flow/status/${ids.doneRunId}` },
          bearer(a.apiKey),
        );
        return (res.json as { Status: string }).Status === 'COMPLETE';
      },
      { timeoutMs: 60_000 },
    );
    ids.waitingRunId = (await startRun()).ID;
    ids.spareRunId = (await startRun()).ID;
    const other = await startRun(otherWorkflowName);
    ids.otherWorkflowId = other.WorkflowID;
    ids.otherRunId = other.ID;
    scopedJwt = (
      await t.admin<{ token: string }>('POST', '/admin/tokens', {
        orgId: a.orgId,
        userId: a.adminUserId,
        workflowId: ids.workflowId,
      })
    ).token;

    secrets = [
      a.orgId,
      a.orgKey,
      a.adminUserId,
      a.memberUserId,
      a.apiKeyId,
      metaValue,
      fileName,
      ids.objectId,
      ids.objectKey,
      ids.workflowId,
      ids.doneRunId,
      ids.waitingRunId,
      ids.spareRunId,
      ids.otherWorkflowId,
      ids.otherRunId,
    ];

    const doc = (await (await fetch(`${t.gatewayUrl}/docs-json`)).json()) as OpenApiDocument;
    operations = [];
    const unguarded: string[] = [];
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops) as [Method, { security?: object[] }][]) {
        const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
        const key = `${method.toUpperCase()} ${template}`;
        if (schemes.length !== 1 && !PUBLIC_OPERATIONS.has(key)) {
          unguarded.push(`${key} (security: ${JSON.stringify(op.security ?? null)})`);
          continue;
        }
        operations.push({
          method,
          template,
          scheme: (schemes[0] ?? 'bearer') as Scheme,
          request: requestFor(method, template),
        });
      }
    }
    // Fail loudly: every operation declares exactly one scheme, or is on the explicit public list.
    expect(unguarded).toEqual([]);
    snapshot = await orgAState();
  });

  afterAll(async () => {
    await db?.end();
    await t?.stop();
  });

  it('should cover every operation of the document, each with a known scheme', () => {
    expect(operations.length).toBeGreaterThanOrEqual(39);
    expect(
      operations.filter((op) => !['bearer', 'api-key', 'operator'].includes(op.scheme)),
    ).toEqual([]);
    // The explicit public list holds only operations that exist (a stale entry hides nothing).
    for (const key of PUBLIC_OPERATIONS) {
      expect(operations.map((op) => `${op.method.toUpperCase()} ${op.template}`)).toContain(key);
    }
  });

  it('should answer 401 with a JSON error to every guarded operation without credentials', async () => {
    expect(await matrix('no credentials', guarded, () => ({}), 401)).toEqual([]);
  });

  it('should answer 401 to every wrong scheme or wrong kind of credential', async () => {
    const wrong: Record<Scheme, [string, () => Record<string, string>][]> = {
      bearer: [
        ['org private key in api-key', () => orgKey(a.orgPrivateKey)],
        ['org private key as Bearer', () => bearer(a.orgPrivateKey)],
        ['Basic scheme', () => ({ authorization: `Basic ${b64('user:pass')}` })],
        ['operator token as Bearer', () => bearer(t.operatorToken)],
        ['Bearer without a token', () => ({ authorization: 'Bearer' })],
      ],
      'api-key': [
        ['bearer key as Bearer', () => bearer(a.apiKey)],
        ['admin JWT as Bearer', () => bearer(a.adminJwt)],
        ['bearer key in api-key', () => orgKey(a.apiKey)],
        ['JWT in api-key', () => orgKey(a.adminJwt)],
        ['"Bearer <org key>" in api-key', () => orgKey(`Bearer ${a.orgPrivateKey}`)],
        ['operator token in api-key', () => orgKey(t.operatorToken)],
      ],
      operator: [
        ['org bearer key', () => bearer(a.apiKey)],
        ['org admin JWT', () => bearer(a.adminJwt)],
        ['org private key as Bearer', () => bearer(a.orgPrivateKey)],
        ['org private key in api-key', () => orgKey(a.orgPrivateKey)],
        ['operator token in api-key', () => orgKey(t.operatorToken)],
        ['another token', () => bearer(randomBytes(32).toString('base64url'))],
      ],
    };
    const failures: string[] = [];
    for (const scheme of Object.keys(wrong) as Scheme[]) {
      for (const [name, creds] of wrong[scheme]) {
        failures.push(
          ...(await matrix(
            name,
            (op) => guarded(op) && op.scheme === scheme,
            () => creds(),
            401,
          )),
        );
      }
    }
    expect(failures).toEqual([]);
  });

  it('should answer 401 to an expired JWT, and the same JWT unexpired is accepted (control)', async () => {
    const expired = await sign(adminClaims(), now() - 120);
    const bearerRoutes = (op: Operation) => guarded(op) && op.scheme !== 'api-key';
    expect(await matrix('expired JWT', bearerRoutes, () => bearer(expired), 401)).toEqual([]);
    const res = await send('get', { path: '/v1/objects' }, bearer(expired));
    expect((res.json as { error: { message: string } }).error.message).toContain('expired');
    const fresh = await sign(adminClaims(), now() + 600);
    expect((await send('get', { path: '/v1/objects' }, bearer(fresh))).status).toBe(200);
  });

  it('should answer 401 to a JWT tampered in its signature, payload, algorithm or key', async () => {
    const [h, p, s] = a.memberJwt.split('.');
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    const payload = unb64(p);
    const variants: [string, string][] = [
      ['signature changed', `${h}.${p}.${flip(s[0])}${s.slice(1)}`],
      ['signature removed', `${h}.${p}.`],
      ['member promoted to admin', `${h}.${b64({ ...payload, role: 'admin' })}.${s}`],
      [
        'org switched to org B',
        `${h}.${b64({ ...payload, org: b.orgId, org_key: b.orgKey })}.${s}`,
      ],
      ['expiry extended', `${h}.${b64({ ...payload, exp: now() + 86_400 })}.${s}`],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`],
      ['signed with another secret', await sign(adminClaims(), now() + 600, 'x'.repeat(40))],
      // Correctly signed, but the user is org A's while the claims say org B.
      [
        'claims of another org',
        await sign({ ...adminClaims(), org: b.orgId, org_key: b.orgKey }, now() + 600),
      ],
      ['org_key of another org', await sign({ ...adminClaims(), org_key: b.orgKey }, now() + 600)],
    ];
    const failures: string[] = [];
    for (const [name, jwt] of variants) {
      failures.push(
        ...(await matrix(
          name,
          (op) => guarded(op) && op.scheme !== 'api-key',
          () => bearer(jwt),
          401,
        )),
      );
    }
    expect(failures).toEqual([]);
  });

  it("should answer 401 to a revoked bearer key, a revoked private key and a deleted user's JWT", async () => {
    const user = await t.admin<{ id: string }>('POST', `/admin/orgs/${a.orgId}/users`, {
      email: `gone-${token}@test.local`,
      role: 'admin',
    });
    const key = await t.admin<{ id: string; secret: string }>(
      'POST',
      `/admin/orgs/${a.orgId}/api-keys`,
      { name: 'to-revoke', userId: a.adminUserId },
    );
    const privateKey = await t.admin<{ id: string; secret: string }>(
      'POST',
      `/admin/orgs/${a.orgId}/private-keys`,
      { name: 'to-revoke' },
    );
    const { token: jwt } = await t.admin<{ token: string }>('POST', '/admin/tokens', {
      orgId: a.orgId,
      userId: user.id,
    });
    // Each works first, so each sits in the gateway's credential cache when it is withdrawn.
    for (const creds of [bearer(key.secret), bearer(jwt)]) {
      expect((await send('get', { path: '/v1/objects' }, creds)).status).toBe(200);
    }
    const list = { path: '/api/private/storage' };
    expect((await send('get', list, orgKey(privateKey.secret))).status).toBe(200);
    await t.admin('POST', `/admin/api-keys/${key.id}/revoke`);
    await t.admin('POST', `/admin/api-keys/${privateKey.id}/revoke`);
    const deleted = await send(
      'delete',
      { path: `/admin/orgs/${a.orgId}/users/${user.id}` },
      bearer(t.operatorToken),
    );
    expect(deleted.status).toBe(204);

    const bearerRoutes = (op: Operation) => guarded(op) && op.scheme === 'bearer';
    const failures = [
      ...(await matrix('revoked bearer key', bearerRoutes, () => bearer(key.secret), 401)),
      ...(await matrix('deleted user JWT', bearerRoutes, () => bearer(jwt), 401)),
      ...(await matrix(
        'revoked private key',
        (op) => guarded(op) && op.scheme === 'api-key',
        () => orgKey(privateKey.secret),
        401,
      )),
    ];
    expect(failures).toEqual([]);
  });

  it("should answer 404 to org B on org A's ids (never 403), and its own answer on collections", async () => {
    const failures: string[] = [];
    const credentialsOfB = (op: Operation): [string, Record<string, string>][] =>
      op.scheme === 'api-key'
        ? [['org B private key', orgKey(b.orgPrivateKey)]]
        : [
            ['org B bearer key', bearer(b.apiKey)],
            ['org B admin JWT', bearer(b.adminJwt)],
          ];
    for (const op of operations.filter((o) => guarded(o) && orgRoute(o))) {
      for (const [who, creds] of credentialsOfB(op)) {
        const label = `${who}: ${op.method.toUpperCase()} ${op.template}`;
        const res = await send(op.method, op.request, creds);
        const expected = op.request.crossOrg ?? 'own';
        if (expected === 404) {
          if (res.status !== 404) {
            failures.push(`${label} → ${res.status} (expected 404) ${res.text.slice(0, 200)}`);
            continue;
          }
          const problem = jsonErrorProblem(op, res);
          if (problem) failures.push(`${label} → ${problem}`);
        } else if (expected === 'own' && (res.status < 200 || res.status > 299)) {
          failures.push(
            `${label} → ${res.status} (expected its own 2xx) ${res.text.slice(0, 200)}`,
          );
        } else if (expected === 'any' && ([401, 403].includes(res.status) || res.status >= 500)) {
          failures.push(
            `${label} → ${res.status} (expected 2xx, 400 or 404) ${res.text.slice(0, 200)}`,
          );
        }
        // What org B sent may come back (an error naming its input); nothing else of org A may.
        const fields = op.request.form ? [...op.request.form().values()].map(String) : [];
        const sent = [op.request.path, JSON.stringify(op.request.body ?? ''), ...fields].join(' ');
        // A 2xx answer contains none of org A's identifiers, even those org B asked for (a search).
        const ok = res.status >= 200 && res.status < 300;
        const leaked = secrets.filter((s) => (ok || !sent.includes(s)) && res.text.includes(s));
        if (leaked.length) failures.push(`${label} → leaks org A's ${leaked.join(', ')}`);
      }
    }
    expect(failures).toEqual([]);
    // Control: org A's own credentials read the same ids (they are real, so the 404s above are isolation).
    for (const op of operations.filter(
      (o) => orgRoute(o) && o.request.crossOrg === 404 && o.method === 'get',
    )) {
      const res = await send(
        op.method,
        op.request,
        op.scheme === 'api-key' ? orgKey(a.orgPrivateKey) : bearer(a.apiKey),
      );
      expect([`${op.method} ${op.template}`, res.status]).toEqual([
        `${op.method} ${op.template}`,
        200,
      ]);
    }
  });

  it("should answer the capability's 403 to an org without it, the same for org A's ids as for none", async () => {
    const objectsApi = (op: Operation) => guarded(op) && op.template.startsWith('/v1/objects');
    expect(await matrix('org without objects', objectsApi, () => bearer(c.apiKey), 403)).toEqual(
      [],
    );
    // No existence oracle: an unknown id gets exactly the answer org A's real id got.
    const known = await send('get', { path: `/v1/objects/${ids.objectId}` }, bearer(c.apiKey));
    const unknown = await send(
      'get',
      { path: '/v1/objects/obj_0190000000007000800000000000beef' },
      bearer(c.apiKey),
    );
    const strip = (r: Answer) => ({
      status: r.status,
      error: { ...(r.json as { error: object }).error, requestId: undefined },
    });
    expect(strip(known)).toEqual(strip(unknown));
    expect(known.json).toMatchObject({
      error: { code: 'FORBIDDEN', message: 'Forbidden. Account does not have devbox capability' },
    });
  });

  it("should answer 404 to org B on org A's published object, which only list_public shows", async () => {
    const created = await send(
      'post',
      { path: '/v1/objects', body: { name: `public-${token}.txt`, content_type: 'text' } },
      bearer(a.apiKey),
    );
    const { id, upload_url } = created.json as { id: string; upload_url: string };
    expect((await fetch(upload_url, { method: 'PUT', body: 'public bytes' })).status).toBe(200);
    for (const step of ['complete', 'publish']) {
      const res = await send('post', { path: `/v1/objects/${id}/${step}` }, bearer(a.apiKey));
      expect([step, res.status]).toEqual([step, 200]);
    }
    for (const [method, path] of [
      ['get', `/v1/objects/${id}`],
      ['get', `/v1/objects/${id}/download`],
      ['post', `/v1/objects/${id}/unpublish`],
      ['post', `/v1/objects/${id}/publish`],
      ['post', `/v1/objects/${id}/delete`],
    ]) {
      const res = await send(method, { path }, bearer(b.apiKey));
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    const listed = await send(
      'get',
      { path: `/v1/objects/list_public?search=${id}` },
      bearer(b.apiKey),
    );
    expect((listed.json as { objects: { id: string; state: string }[] }).objects).toEqual([
      expect.objectContaining({ id, state: 'READ_ONLY' }),
    ]);
  });

  it("should answer org B's workflow-scoped sessions 404 on org A's workflow, or the scope's 403 for any id", async () => {
    const session = async (workflowId: string) =>
      (
        await t.admin<{ token: string }>('POST', '/admin/tokens', {
          orgId: b.orgId,
          userId: b.adminUserId,
          workflowId,
        })
      ).token;
    const ask = async (jwt: string, workflowId: string) => {
      const res = await send(
        'post',
        {
          path: '/api/v1/resources/download-url',
          body: { resource_uri: `workflow://${workflowId}/uploads/input.txt` },
        },
        bearer(jwt),
      );
      return { status: res.status, code: (res.json as { error: { code: string } }).error.code };
    };
    // Scoped to org A's workflow id: the scope matches, the org does not → 404.
    expect(await ask(await session(ids.workflowId), ids.workflowId)).toMatchObject({
      status: 404,
    });
    // Scoped to another workflow: the scope's 403, the same for org A's real id and a made-up one.
    const other = await session(`wf-b-${token}`);
    const real = await ask(other, ids.workflowId);
    expect(real.status).toBe(403);
    expect(await ask(other, `wf-none-${token}`)).toEqual(real);
  });

  it('should answer 403 to a member where a route needs an org admin, and 200 to the admin', async () => {
    const memberKey = await t.admin<{ secret: string }>('POST', `/admin/orgs/${a.orgId}/api-keys`, {
      name: 'member key',
      userId: a.memberUserId,
    });
    // A member's JWT, a member's JWT claiming admin (signed: the directory's role wins), a member's key.
    const members = {
      'member JWT': a.memberJwt,
      'member JWT claiming admin': await sign(
        { sub: a.memberUserId, org: a.orgId, org_key: a.orgKey, role: 'admin' },
        now() + 600,
      ),
      'member API key': memberKey.secret,
    };
    for (const { op, path } of ADMIN_ONLY(a.memberUserId)) {
      expect(operations.map((o) => `${o.method.toUpperCase()} ${o.template}`)).toContain(op);
      for (const [who, credential] of Object.entries(members)) {
        const res = await send('get', { path }, bearer(credential));
        expect([who, res.status]).toEqual([who, 403]);
        expect(res.json).toMatchObject({ error: { code: 'FORBIDDEN' } });
      }
      expect((await send('get', { path }, bearer(a.adminJwt))).status).toBe(200);
    }
  });

  it('should answer 401 on every operator-only route to org credentials of any kind', async () => {
    const failures: string[] = [];
    for (const [name, creds] of [
      ['org A admin JWT', () => bearer(a.adminJwt)],
      ['org A bearer key', () => bearer(a.apiKey)],
      ['org A member JWT', () => bearer(a.memberJwt)],
    ] as const) {
      failures.push(
        ...(await matrix(
          name,
          (op) => op.scheme === 'operator',
          () => creds(),
          401,
        )),
      );
    }
    expect(failures).toEqual([]);
  });

  it('should refuse a workflow-scoped token with 403 on every operation that acts on the whole org', async () => {
    const actsOnWorkflow = (op: Operation) => opKey(op) in workflowRequests();
    const failures = [
      ...(await matrix(
        'scoped JWT',
        (op) => guarded(op) && op.scheme === 'bearer' && !actsOnWorkflow(op),
        () => bearer(scopedJwt),
        403,
        'outside_workflow_scope',
      )),
      // A JWT, scoped or not, is no credential for org storage, triggers and operator routes.
      ...(await matrix(
        'scoped JWT as Bearer',
        (op) => guarded(op) && op.scheme !== 'bearer',
        () => bearer(scopedJwt),
        401,
      )),
      ...(await matrix(
        'scoped JWT in api-key',
        (op) => guarded(op) && op.scheme === 'api-key',
        () => orgKey(scopedJwt),
        401,
      )),
    ];
    expect(failures).toEqual([]);
    const res = await send('get', { path: '/v1/objects' }, bearer(scopedJwt));
    expect((res.json as { error: { message: string } }).error.message).toBe(
      `This token is scoped to workflow ${ids.workflowId}: it may act only on that workflow, its ` +
        'runs and their files, not on the whole organization',
    );
  });

  it('should let a workflow-scoped token act on its own workflow, its runs and their files', async () => {
    const failures: string[] = [];
    for (const [key, { own }] of Object.entries(workflowRequests())) {
      expect(operations.map(opKey)).toContain(key);
      const res = await send(key.split(' ')[0], own, bearer(scopedJwt));
      if (res.status < 200 || res.status > 299) {
        failures.push(`${key} ${own.path} → ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('should refuse a workflow-scoped token with 403 on another workflow, its runs and their files', async () => {
    const failures: string[] = [];
    for (const op of operations.filter((o) => opKey(o) in workflowRequests())) {
      for (const other of workflowRequests()[opKey(op)].others) {
        const res = await send(op.method, other, bearer(scopedJwt));
        const label = `${opKey(op)} ${other.path} ${JSON.stringify(other.body ?? '')}`;
        if (res.status !== 403) {
          failures.push(`${label} → ${res.status} (expected 403) ${res.text.slice(0, 200)}`);
          continue;
        }
        const problem = jsonErrorProblem(op, res);
        if (problem) failures.push(`${label} → ${problem}`);
      }
    }
    expect(failures).toEqual([]);
    // A run of workflow B named by its id alone: refused exactly as a run that does not exist.
    const refusal = async (runId: string) => {
      const res = await send('get', { path: `/api/v1/flow/status/${runId}` }, bearer(scopedJwt));
      const { error } = res.json as { error: { code: string; message: string; details: object } };
      return {
        status: res.status,
        code: error.code,
        details: error.details,
        message: error.message.replace(runId, '<run>'),
      };
    };
    expect(await refusal(ids.otherRunId)).toEqual(await refusal(randomUUID()));
    // Workflow B keeps its definition and its run waits as before; no workflow was added.
    expect(await orgAState()).toEqual(snapshot);
  });

  it('should leave org A exactly as it was after every refused request', async () => {
    expect(await orgAState()).toEqual(snapshot);
    // Org A's credentials all still work (no key revoked, no user deleted, capabilities unchanged).
    for (const creds of [bearer(a.apiKey), bearer(a.adminJwt), bearer(a.memberJwt)]) {
      expect((await send('get', { path: '/v1/objects' }, creds)).status).toBe(200);
    }
    const list = await send('get', { path: '/api/private/storage' }, orgKey(a.orgPrivateKey));
    expect(list.status).toBe(200);
    expect(
      (list.json as { data: { name: string }[] | { items: { name: string }[] } }).data,
    ).toEqual(expect.anything());
    expect(list.text).toContain(fileName);
    expect(list.text).not.toContain('renamed.txt');
  });
});
