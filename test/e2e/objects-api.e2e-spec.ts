import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { JobName, Topic } from '@lib/contracts';
import { jobIdFor } from '@lib/queue';
import { createS3Client } from '@lib/s3';
import {
  s3ObjectExists,
  readTopics,
  REPO_ROOT,
  startTestPlatform,
  TEST_REDIS_URL,
  TestOrg,
  TestPlatform,
  TopicReader,
  waitFor,
} from '@lib/testing';
import Redis from 'ioredis';
import { Client } from 'pg';
import { OpenApiContract } from '../support/openapi-contract';

interface ObjectView {
  id: string;
  name: string;
  state: string;
  size_bytes: number | null;
  content_type: string;
  create_time_ms: number;
  delete_after_time_ms: number | null;
  metadata: Record<string, string> | null;
  upload_url?: string | null;
}

interface ListView {
  objects: ObjectView[];
  has_more: boolean;
  total_count?: number | null;
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

interface FileEvent {
  objectId: string;
  objectKey: string;
  change: string;
  version: number;
  sizeBytes: number;
  previousSizeBytes: number;
  actor: { type: string; id: string };
}

interface Answer<T> {
  status: number;
  body: T;
}

const UNKNOWN_ID = 'obj_0190000000007000800000000000beef';

/** The Objects API's OpenAPI document: the public contract. */
const CONTRACT_FILE = join(REPO_ROOT, 'docs', 'api', 'objects-api.openapi.json');

/** Ids that name no object, in every format but the one of object ids (as they go in a URL path). */
const FOREIGN_IDS: [string, string][] = [
  ['a made-up name', 'obj_doesnotexist'],
  ['a number', '123'],
  ['a UUID', '0196f3c2-a1b0-7c4d-9e8f-0a1b2c3d4e5f'],
  ['300 characters', 'a'.repeat(300)],
  ['unicode', encodeURIComponent('obj_é😀')],
  ['an encoded NUL', '%00'],
  ['SQL', encodeURIComponent("obj_' OR 1=1 --")],
  ['a short object id', 'obj_123'],
  ['an upper-case prefix', `OBJ_${UNKNOWN_ID.slice(4)}`],
  ['a digit too many', `${UNKNOWN_ID}0`],
  ['one letter', 'x'],
  ['a route name', 'metadata'],
];

/** Every operation on one object, as `[method, path]`. */
const idRoutes = (id: string): [string, string][] => [
  ['GET', `/v1/objects/${id}`],
  ['POST', `/v1/objects/${id}/complete`],
  ['POST', `/v1/objects/${id}/delete`],
  ['GET', `/v1/objects/${id}/download`],
  ['POST', `/v1/objects/${id}/publish`],
  ['POST', `/v1/objects/${id}/unpublish`],
];

interface GatewayOperation {
  operationId: string;
  responses: Record<string, unknown>;
}

interface GatewayDocument {
  paths: Record<string, Record<string, GatewayOperation>>;
}

/** The Objects API operations of the gateway's own document. */
const objectsOperations = (doc: GatewayDocument) =>
  Object.entries(doc.paths)
    .filter(([path]) => path === '/v1/objects' || path.startsWith('/v1/objects/'))
    .flatMap(([, item]) => Object.values(item));

// The Objects API end to end through the gateway, with a plain HTTP client: every response of every
// request below is checked against its OpenAPI document (docs/api/objects-api.openapi.json), success and
// errors.
describe('Objects API', () => {
  const contract = OpenApiContract.load(CONTRACT_FILE, {
    // Authentication applies to every operation, documented there or not. Any other status beyond the
    // document must be one the gateway documents for the operation in its own (`/docs-json`, below).
    generalErrorStatuses: [401, 403],
    extensions: ['publish', 'unpublish'].map((action) => ({
      method: 'post' as const,
      path: `/v1/objects/{id}/${action}`,
      operationId: `${action}Object`,
      responses: { 200: 'ObjectView', 404: null },
    })),
  });
  let t: TestPlatform;
  let org: TestOrg;
  let other: TestOrg;
  let noCapability: TestOrg;
  let reader: TopicReader;
  let s3: S3Client;
  let db: Client;
  /** The gateway's own OpenAPI document. */
  let gatewayDoc: GatewayDocument;

  /** One request to the gateway; its answer must honour the OpenAPI contract. */
  async function api<T = ErrorBody>(
    method: string,
    path: string,
    opts: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const key = opts.key === undefined ? org.apiKey : opts.key;
    const headers: Record<string, string> = { ...opts.headers };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${t.gatewayUrl}${path}`, {
      method,
      headers,
      body:
        opts.body === undefined
          ? undefined
          : typeof opts.body === 'string'
            ? opts.body
            : JSON.stringify(opts.body),
    });
    const text = await res.text();
    const body = (text ? JSON.parse(text) : undefined) as T;
    contract.assertResponse(method, path, res.status, body);
    return { status: res.status, body };
  }

  const create = async (params: Record<string, unknown>, key?: string) => {
    const res = await api<ObjectView>('POST', '/v1/objects', { body: params, key });
    expect(res.status).toBe(200);
    return res.body;
  };

  const put = async (url: string, bytes: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'PUT', body: bytes, headers });
    expect(res.status).toBe(200);
  };

  const objectKeyOf = async (id: string) =>
    (
      await db.query<{ object_key: string }>(
        'SELECT object_key FROM object_metadata.objects WHERE id = $1',
        [id],
      )
    ).rows[0].object_key;

  const bytesExist = (key: string) => s3ObjectExists(s3, t.s3.settings.bucket, key);

  const rowCount = async (orgId: string) =>
    Number(
      (
        await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM object_metadata.objects WHERE org_id = $1',
          [orgId],
        )
      ).rows[0].n,
    );

  const isChange = (id: string, change: string) => (m: { key: string | null; value: string }) =>
    m.key === id && (JSON.parse(m.value) as { data: FileEvent }).data.change === change;

  const eventsOf = (id: string) =>
    reader.messages
      .filter((m) => m.key === id)
      .map((m) => (JSON.parse(m.value) as { data: FileEvent }).data);

  beforeAll(async () => {
    t = await startTestPlatform({ env: { TTL_RECONCILE_INTERVAL_MS: '500' } });
    [org, other, noCapability] = await Promise.all([
      t.createOrg(),
      t.createOrg(),
      t.createOrg({ capabilities: [] }),
    ]);
    gatewayDoc = (await (await fetch(`${t.gatewayUrl}/docs-json`)).json()) as GatewayDocument;
    for (const op of objectsOperations(gatewayDoc)) {
      contract.allowErrorStatuses(op.operationId, Object.keys(op.responses).map(Number));
    }
    reader = await readTopics(t.kafka.brokers, [Topic.StorageFileUpdated]);
    s3 = createS3Client(t.s3.settings);
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    s3?.destroy();
    await reader?.stop();
    await t?.stop();
  });

  describe('lifecycle', () => {
    it('should take an object from create to delete with a plain PUT and publish each change', async () => {
      const created = await create({
        name: 'report.txt',
        content_type: 'text',
        metadata: { team: 'blue' },
      });
      expect(created).toMatchObject({
        name: 'report.txt',
        state: 'UPLOADING',
        size_bytes: null,
        content_type: 'text',
        delete_after_time_ms: null,
        metadata: { team: 'blue' },
      });
      expect(created.id).toMatch(/^obj_[0-9a-f]{32}$/);
      expect(typeof created.upload_url).toBe('string');

      await put(created.upload_url!, 'hello, objects'); // no headers at all
      const completed = await api<ObjectView>('POST', `/v1/objects/${created.id}/complete`);
      expect(completed.status).toBe(200);
      expect(completed.body).toMatchObject({ state: 'READ_ONLY', size_bytes: 14 });
      expect(completed.body.upload_url).toBeUndefined();

      const got = await api<ObjectView>('GET', `/v1/objects/${created.id}`);
      expect(got.body).toEqual({ ...completed.body });

      const download = await api<{ download_url: string }>(
        'GET',
        `/v1/objects/${created.id}/download`,
      );
      expect(download.status).toBe(200);
      expect(await (await fetch(download.body.download_url)).text()).toBe('hello, objects');

      const objectKey = await objectKeyOf(created.id);
      expect(await bytesExist(objectKey)).toBe(true);
      const deleted = await api<ObjectView>('POST', `/v1/objects/${created.id}/delete`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ id: created.id, state: 'DELETED', size_bytes: 14 });
      expect(await bytesExist(objectKey)).toBe(false);

      const refused = await api('GET', `/v1/objects/${created.id}/download`);
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain('DELETED');

      await reader.waitFor((m) => m.key === created.id, 3);
      expect(eventsOf(created.id)).toEqual([
        expect.objectContaining({ change: 'created', version: 1, sizeBytes: 0 }),
        expect.objectContaining({
          change: 'overwritten',
          version: 2,
          sizeBytes: 14,
          previousSizeBytes: 0,
        }),
        expect.objectContaining({
          change: 'deleted',
          version: 3,
          sizeBytes: 0,
          previousSizeBytes: 14,
          actor: { type: 'user', id: org.adminUserId },
        }),
      ]);
    });

    it('should accept an upload sent with a Content-Type header and a JSON complete without a body', async () => {
      const created = await create({ name: 'data.bin', content_type: 'binary' });
      await put(created.upload_url!, 'binary-ish', { 'content-type': 'application/octet-stream' });
      // Many clients send the JSON content type with an empty body: the optional body is absent.
      const completed = await api<ObjectView>('POST', `/v1/objects/${created.id}/complete`, {
        headers: { 'content-type': 'application/json' },
      });
      expect(completed.status).toBe(200);
      expect(completed.body).toMatchObject({ state: 'READ_ONLY', size_bytes: 10 });
      const { body } = await api<{ download_url: string }>(
        'GET',
        `/v1/objects/${created.id}/download?duration_seconds=60`,
      );
      expect(await (await fetch(body.download_url)).text()).toBe('binary-ish');
    });

    it('should remove the bytes through a retried purge job when S3 fails the delete', async () => {
      const created = await create({ name: 'stubborn.txt', content_type: 'text' });
      await put(created.upload_url!, 'still here');
      await api('POST', `/v1/objects/${created.id}/complete`);
      const objectKey = await objectKeyOf(created.id);
      // Six failures: the inline delete's three SDK attempts, then the purge job's first run; its retry
      // (after the default backoff) goes through.
      const fault = t.s3.injectFault({
        operation: 'DELETE',
        keyPrefix: objectKey,
        status: 503,
        count: 6,
      });
      try {
        const deleted = await api<ObjectView>('POST', `/v1/objects/${created.id}/delete`);
        expect(deleted.status).toBe(200);
        expect(deleted.body.state).toBe('DELETED');
        expect(fault.hits).toBeGreaterThanOrEqual(3);
        const purgePending = async () =>
          (
            await db.query<{ purge_pending: boolean }>(
              'SELECT purge_pending FROM object_metadata.objects WHERE id = $1',
              [created.id],
            )
          ).rows[0]?.purge_pending;
        // The job removes the bytes, then clears the flag: wait for both.
        await waitFor(
          'the purge job to remove the bytes and clear purge_pending',
          async () => !(await bytesExist(objectKey)) && (await purgePending()) === false,
        );
        expect(fault.hits).toBe(6);
      } finally {
        fault.remove();
      }
    });

    it('should refuse to complete an object with no bytes and leave it UPLOADING', async () => {
      const created = await create({ name: 'empty.txt', content_type: 'text' });
      const res = await api('POST', `/v1/objects/${created.id}/complete`, { body: {} });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'OBJECT_NOT_UPLOADED' });
      expect(res.body.error.message).toContain('upload_url');
      const got = await api<ObjectView>('GET', `/v1/objects/${created.id}`);
      expect(got.body).toMatchObject({ state: 'UPLOADING', size_bytes: null });
      expect(eventsOf(created.id).filter((e) => e.change !== 'created')).toEqual([]);
    });

    it('should answer 409 when an object is completed twice', async () => {
      const created = await create({ name: 'twice.txt', content_type: 'text' });
      await put(created.upload_url!, 'x');
      expect((await api('POST', `/v1/objects/${created.id}/complete`)).status).toBe(200);
      const again = await api('POST', `/v1/objects/${created.id}/complete`);
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain('READ_ONLY');
    });

    it('should answer the DELETED view again when an object is deleted twice', async () => {
      const created = await create({ name: 'gone.txt', content_type: 'text' });
      expect((await api('POST', `/v1/objects/${created.id}/delete`)).status).toBe(200);
      const again = await api<ObjectView>('POST', `/v1/objects/${created.id}/delete`);
      expect(again.status).toBe(200);
      expect(again.body.state).toBe('DELETED');
      await reader.waitFor((m) => m.key === created.id, 2);
      expect(eventsOf(created.id).map((e) => e.change)).toEqual(['created', 'deleted']);
    });
  });

  describe('list', () => {
    let lister: TestOrg;
    let ids: string[];

    beforeAll(async () => {
      lister = await t.createOrg();
      ids = [];
      for (let i = 0; i < 23; i++) {
        const o = await create(
          { name: `${i % 2 ? 'Report' : 'photo'}-${i}.dat`, content_type: i % 3 ? 'text' : 'gzip' },
          lister.apiKey,
        );
        ids.unshift(o.id); // newest first
      }
      await api('POST', `/v1/objects/${ids[0]}/delete`, { key: lister.apiKey });
    });

    const list = (query: string) =>
      api<ListView>('GET', `/v1/objects${query}`, { key: lister.apiKey });

    it('should page newest first, 20 by default, with an exact has_more and total_count', async () => {
      const first = await list('');
      expect(first.status).toBe(200);
      expect(first.body.objects.map((o) => o.id)).toEqual(ids.slice(1, 21));
      expect(first.body).toMatchObject({ has_more: true, total_count: 22 });
      const second = await list(`?starting_after=${ids[20]}`);
      expect(second.body.objects.map((o) => o.id)).toEqual(ids.slice(21));
      expect(second.body).toMatchObject({ has_more: false, total_count: 22 });
      const exact = await list('?limit=22');
      expect(exact.body).toMatchObject({ has_more: false });
      expect(exact.body.objects).toHaveLength(22);
    });

    it('should skip the count when include_total_count is false', async () => {
      const page = await list('?limit=1&include_total_count=false');
      expect(page.body.objects).toHaveLength(1);
      expect(page.body).not.toHaveProperty('total_count');
      expect(page.body.has_more).toBe(true);
    });

    it('should filter by name, content type, state and search, combined', async () => {
      const names = async (query: string) =>
        (await list(`${query}&limit=100`)).body.objects.map((o) => o.name).sort();
      expect(await names('?name=REPORT-1')).toEqual([
        'Report-1.dat',
        'Report-11.dat',
        'Report-13.dat',
        'Report-15.dat',
        'Report-17.dat',
        'Report-19.dat',
      ]);
      expect(await names('?content_type=gzip')).toHaveLength(8); // i % 3 == 0 among 0..21
      expect(await names('?state=DELETED')).toEqual(['photo-22.dat']);
      expect(await names('?state=UPLOADING')).toHaveLength(22);
      expect(await names(`?search=${ids[5]}`)).toEqual(['Report-17.dat']);
      expect(await names('?search=photo-2&content_type=text')).toEqual([
        'photo-2.dat',
        'photo-20.dat',
      ]);
      // The OpenAPI document's list parameters allow empty values: they mean "not given".
      expect(await names('?name=&state=')).toHaveLength(22);
    });
  });

  describe('list_public and publishing', () => {
    it('should list an object across orgs while it is published, and never once deleted', async () => {
      const created = await create({ name: 'shared-dataset.tar', content_type: 'tar' });
      const isListed = async () =>
        (
          await api<ListView>('GET', '/v1/objects/list_public?limit=5000&search=shared-dataset', {
            key: other.apiKey,
          })
        ).body.objects.some((o) => o.id === created.id);
      expect(await isListed()).toBe(false);

      const published = await api<ObjectView>('POST', `/v1/objects/${created.id}/publish`);
      expect(published.status).toBe(200);
      expect(published.body.id).toBe(created.id);
      expect(await isListed()).toBe(true);
      // Only the owner may (un)publish.
      expect(
        (await api('POST', `/v1/objects/${created.id}/unpublish`, { key: other.apiKey })).status,
      ).toBe(404);

      expect((await api('POST', `/v1/objects/${created.id}/unpublish`)).status).toBe(200);
      expect(await isListed()).toBe(false);

      await api('POST', `/v1/objects/${created.id}/publish`);
      await api('POST', `/v1/objects/${created.id}/delete`);
      expect(await isListed()).toBe(false);
      const again = await api('POST', `/v1/objects/${created.id}/publish`);
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('OBJECT_DELETED');
    });
  });

  describe('metadata keys and values', () => {
    let meta: TestOrg;

    beforeAll(async () => {
      meta = await t.createOrg();
      await create(
        { name: 'a', content_type: 'text', metadata: { team: 'red', env: 'prod' } },
        meta.apiKey,
      );
      await create({ name: 'b', content_type: 'text', metadata: { team: 'blue' } }, meta.apiKey);
      await create(
        { name: 'c', content_type: 'text', metadata: { team: 'red', 'a/b c': 'x' } },
        meta.apiKey,
      );
      const gone = await create(
        { name: 'd', content_type: 'text', metadata: { team: 'green', legacy: 'yes' } },
        meta.apiKey,
      );
      await api('POST', `/v1/objects/${gone.id}/delete`, { key: meta.apiKey });
    });

    it("should answer the distinct keys of the org's live objects", async () => {
      const res = await api<{ keys: string[] }>('GET', '/v1/objects/metadata/keys', {
        key: meta.apiKey,
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ keys: ['a/b c', 'env', 'team'] });
    });

    it('should answer the distinct values of one key, and none for an unknown key', async () => {
      const values = (key: string) =>
        api<{ key: string; values: string[] }>(
          'GET',
          `/v1/objects/metadata/keys/${encodeURIComponent(key)}/values`,
          { key: meta.apiKey },
        );
      expect((await values('team')).body).toEqual({ key: 'team', values: ['blue', 'red'] });
      expect((await values('a/b c')).body).toEqual({ key: 'a/b c', values: ['x'] });
      expect((await values('legacy')).body).toEqual({ key: 'legacy', values: [] });
    });

    it('should refuse an invalid key with 400', async () => {
      for (const key of ['k'.repeat(257), 'bad%01key']) {
        const res = await api('GET', `/v1/objects/metadata/keys/${key}/values`, {
          key: meta.apiKey,
        });
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain('key');
      }
    });
  });

  describe('isolation and authentication', () => {
    let mine: ObjectView;

    const routes = (id: string): [string, string][] => [
      ['POST', '/v1/objects'],
      ['GET', '/v1/objects'],
      ['GET', '/v1/objects/list_public'],
      ['GET', '/v1/objects/metadata/keys'],
      ['GET', '/v1/objects/metadata/keys/team/values'],
      ['GET', `/v1/objects/${id}`],
      ['POST', `/v1/objects/${id}/complete`],
      ['POST', `/v1/objects/${id}/delete`],
      ['GET', `/v1/objects/${id}/download`],
      ['POST', `/v1/objects/${id}/publish`],
      ['POST', `/v1/objects/${id}/unpublish`],
    ];

    beforeAll(async () => {
      mine = await create({ name: 'private.txt', content_type: 'text', metadata: { secret: 's' } });
      await put(mine.upload_url!, 'private');
    });

    it('should answer 404 to another org on every operation on an object, and change nothing', async () => {
      for (const [method, path] of routes(mine.id).slice(5)) {
        const res = await api(method, path, { key: other.apiKey });
        expect([method, path, res.status]).toEqual([method, path, 404]);
        expect(res.body.error.message).toContain(mine.id);
      }
      expect((await api('GET', `/v1/objects/${UNKNOWN_ID}`)).status).toBe(404);
      const otherList = await api<ListView>('GET', '/v1/objects?limit=5000', { key: other.apiKey });
      expect(otherList.body.objects.map((o) => o.id)).not.toContain(mine.id);
      const otherKeys = await api<{ keys: string[] }>('GET', '/v1/objects/metadata/keys', {
        key: other.apiKey,
      });
      expect(otherKeys.body.keys).not.toContain('secret');
      expect((await api<ObjectView>('GET', `/v1/objects/${mine.id}`)).body.state).toBe('UPLOADING');
    });

    it('should answer 401 without credentials or with an invalid bearer, on every operation', async () => {
      for (const [method, path] of routes(mine.id)) {
        for (const key of [null, 'sfp_live_not-a-real-key', 'garbage']) {
          const res = await api(method, path, { key });
          expect([method, path, key, res.status]).toEqual([method, path, key, 401]);
          expect(res.body.error.code).toBe('UNAUTHORIZED');
        }
      }
    });

    it('should answer 403 to an org without the objects capability, on every operation', async () => {
      for (const [method, path] of routes(mine.id)) {
        const res = await api(method, path, { key: noCapability.apiKey });
        expect([method, path, res.status]).toEqual([method, path, 403]);
        expect(res.body.error.message).toBe('Forbidden. Account does not have devbox capability');
      }
    });
  });

  describe('bad input', () => {
    const longMetadata = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    const cases: [string, unknown, string][] = [
      ['an unknown field', { name: 'a', content_type: 'text', public: true }, 'public'],
      [
        'an org of its own choosing',
        { name: 'a', content_type: 'text', orgId: '00000000-0000-4000-8000-000000000000' },
        'orgId',
      ],
      ['no name', { content_type: 'text' }, 'name'],
      ['a numeric name', { name: 42, content_type: 'text' }, 'name'],
      ['an empty name', { name: '', content_type: 'text' }, 'name'],
      ['a name over 1024 bytes', { name: 'é'.repeat(513), content_type: 'text' }, 'name'],
      ['a name with NUL', { name: 'a\u0000b', content_type: 'text' }, 'name'],
      ['no content_type', { name: 'a' }, 'content_type'],
      ['an unknown content_type', { name: 'a', content_type: 'pdf' }, 'content_type'],
      ['metadata that is a string', { name: 'a', content_type: 'text', metadata: 'x' }, 'metadata'],
      [
        'metadata that is an array',
        { name: 'a', content_type: 'text', metadata: ['x'] },
        'metadata',
      ],
      [
        'a numeric metadata value',
        { name: 'a', content_type: 'text', metadata: { a: 1 } },
        'metadata',
      ],
      [
        'a nested metadata value',
        { name: 'a', content_type: 'text', metadata: { a: {} } },
        'metadata',
      ],
      [
        '65 metadata entries',
        { name: 'a', content_type: 'text', metadata: longMetadata },
        'metadata',
      ],
      [
        'a metadata value over 4 KiB',
        { name: 'a', content_type: 'text', metadata: { a: 'v'.repeat(4097) } },
        'metadata',
      ],
      [
        'a metadata key over 256 bytes',
        { name: 'a', content_type: 'text', metadata: { ['k'.repeat(257)]: 'v' } },
        'metadata',
      ],
      [
        'an empty metadata key',
        { name: 'a', content_type: 'text', metadata: { '': 'v' } },
        'metadata',
      ],
      ['ttl_ms 0', { name: 'a', content_type: 'text', ttl_ms: 0 }, 'ttl_ms'],
      ['ttl_ms -1', { name: 'a', content_type: 'text', ttl_ms: -1 }, 'ttl_ms'],
      ['ttl_ms over a year', { name: 'a', content_type: 'text', ttl_ms: 31_536_000_001 }, 'ttl_ms'],
      ['a fractional ttl_ms', { name: 'a', content_type: 'text', ttl_ms: 1.5 }, 'ttl_ms'],
      ['ttl_ms as a string', { name: 'a', content_type: 'text', ttl_ms: '1000' }, 'ttl_ms'],
      ['a JSON array body', [], 'name'],
      ['a JSON string body', '"name"', ''],
    ];

    it.each(cases)(
      'should refuse a create with %s, naming the field, and write nothing',
      async (_what, body, field) => {
        const before = await rowCount(org.orgId);
        const res = await api('POST', '/v1/objects', {
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_FAILED');
        expect(res.body.error.message).toContain(field);
        expect(await rowCount(org.orgId)).toBe(before);
      },
    );

    it('should accept the documented limits exactly', async () => {
      const metadata = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v']));
      const o = await create({
        name: 'é'.repeat(512),
        content_type: 'unspecified',
        metadata,
        ttl_ms: 31_536_000_000,
      });
      expect(o.delete_after_time_ms).toBe(o.create_time_ms + 31_536_000_000);
      expect(
        (await api('GET', `/v1/objects/${o.id}/download?duration_seconds=604800`)).status,
      ).toBe(200);
      expect(
        (await create({ name: 'n', content_type: 'text', metadata: null, ttl_ms: null })).metadata,
      ).toBeNull();
    });

    it.each(['0', '-1', '604801', 'abc', '1.5', ''])(
      'should refuse duration_seconds=%s naming it',
      async (value) => {
        const o = await create({ name: 'd', content_type: 'text' });
        const res = await api('GET', `/v1/objects/${o.id}/download?duration_seconds=${value}`);
        if (value === '') {
          expect(res.status).toBe(200); // empty means "not given": the default hour
          return;
        }
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain('duration_seconds');
      },
    );

    it.each([
      ['limit=0', 'limit'],
      ['limit=5001', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['starting_after=obj_1', 'starting_after'],
      ['content_type=pdf', 'content_type'],
      ['state=GONE', 'state'],
      ['include_total_count=yes', 'include_total_count'],
      ['name=%00', 'name'],
      ['unknown=1', 'unknown'],
    ])('should refuse a list with %s naming the parameter', async (query, field) => {
      for (const path of ['/v1/objects', '/v1/objects/list_public']) {
        const res = await api('GET', `${path}?${query}`);
        expect([path, res.status]).toEqual([path, 400]);
        expect(res.body.error.message).toContain(field);
      }
    });

    it('should accept limit 5000', async () => {
      expect((await api('GET', '/v1/objects?limit=5000')).status).toBe(200);
    });

    it.each(FOREIGN_IDS)(
      'should answer 404 to an unknown id in a foreign format (%s) on every operation on an object',
      async (_what, id) => {
        for (const [method, path] of idRoutes(id)) {
          const res = await api(method, path);
          expect([method, path, res.status]).toEqual([method, path, 404]);
          expect(res.body.error.code).toBe('OBJECT_NOT_FOUND');
        }
        // Whatever else the request holds: the id is looked at first.
        for (const action of ['complete', 'delete', 'publish']) {
          const res = await api('POST', `/v1/objects/${id}/${action}`, { body: { force: true } });
          expect([action, res.status]).toEqual([action, 404]);
        }
        const download = await api('GET', `/v1/objects/${id}/download?duration_seconds=0`);
        expect(download.status).toBe(404);
      },
    );

    it('should answer 404 to a well-formed unknown id on every operation on an object', async () => {
      for (const [method, path] of idRoutes(UNKNOWN_ID)) {
        const res = await api(method, path);
        expect([method, path, res.status]).toEqual([method, path, 404]);
        expect(res.body.error).toMatchObject({
          code: 'OBJECT_NOT_FOUND',
          message: `object ${UNKNOWN_ID} not found`,
        });
      }
    });

    it('should answer 401 before 404 to an unknown id without credentials', async () => {
      for (const [method, path] of idRoutes('obj_doesnotexist')) {
        expect([method, path, (await api(method, path, { key: null })).status]).toEqual([
          method,
          path,
          401,
        ]);
      }
    });

    it('should refuse a complete or delete body with fields', async () => {
      const o = await create({ name: 'b', content_type: 'text' });
      for (const action of ['complete', 'delete']) {
        const res = await api('POST', `/v1/objects/${o.id}/${action}`, { body: { force: true } });
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain('force');
      }
      expect((await api<ObjectView>('GET', `/v1/objects/${o.id}`)).body.state).toBe('UPLOADING');
    });
  });

  describe('TTL', () => {
    it('should delete the bytes, mark the object DELETED and publish expired at its deadline', async () => {
      const o = await create({ name: 'short-lived.txt', content_type: 'text', ttl_ms: 1_500 });
      expect(o.delete_after_time_ms).toBe(o.create_time_ms + 1_500);
      await put(o.upload_url!, 'ephemeral');
      expect((await api('POST', `/v1/objects/${o.id}/complete`)).status).toBe(200);
      const objectKey = await objectKeyOf(o.id);

      const [expired] = await reader.waitFor(isChange(o.id, 'expired'));
      expect((JSON.parse(expired.value) as { data: FileEvent }).data).toMatchObject({
        change: 'expired',
        version: 3,
        sizeBytes: 0,
        previousSizeBytes: 9,
        actor: { type: 'system', id: 'ttl-expiry' },
      });
      const got = await api<ObjectView>('GET', `/v1/objects/${o.id}`);
      expect(got.body).toMatchObject({
        state: 'DELETED',
        delete_after_time_ms: o.delete_after_time_ms,
      });
      await waitFor('the expired bytes to be gone', async () => !(await bytesExist(objectKey)));
      expect((await api('GET', `/v1/objects/${o.id}/download`)).status).toBe(400);
    });

    it('should expire an object at its deadline from Postgres alone: no job of its own, Redis flushed meanwhile', async () => {
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const o = await create({ name: 'flushed.txt', content_type: 'text', ttl_ms: 3_000 });
        const jobKey = `${t.redisPrefix}:ttl-expiry:${jobIdFor(JobName.ObjectExpire, o.id)}`;
        expect(await redis.exists(jobKey)).toBe(0);
        await t.flushRedis(); // every key of this suite's prefix: queues, jobs, worker state

        await reader.waitFor(isChange(o.id, 'expired'));
        expect((await api<ObjectView>('GET', `/v1/objects/${o.id}`)).body.state).toBe('DELETED');
      } finally {
        redis.disconnect();
      }
    });

    it('should not expire an object deleted before its deadline a second time', async () => {
      const o = await create({ name: 'deleted-first.txt', content_type: 'text', ttl_ms: 1_000 });
      expect((await api('POST', `/v1/objects/${o.id}/delete`)).status).toBe(200);
      // A sentinel due later has expired: so would have the deleted one.
      const sentinel = await create({ name: 'sentinel.txt', content_type: 'text', ttl_ms: 2_000 });
      await reader.waitFor(isChange(sentinel.id, 'expired'));
      await reader.waitFor((m) => m.key === o.id, 2);
      expect(eventsOf(o.id).map((e) => e.change)).toEqual(['created', 'deleted']);
    });
  });

  describe('wire format', () => {
    it("should document in the gateway's own OpenAPI document every status the Objects API documents", () => {
      const contractDoc = JSON.parse(readFileSync(CONTRACT_FILE, 'utf8')) as GatewayDocument;
      const gateway = new Map(objectsOperations(gatewayDoc).map((op) => [op.operationId, op]));
      const missing = objectsOperations(contractDoc).flatMap((op) =>
        Object.keys(op.responses)
          .filter((status) => !(status in (gateway.get(op.operationId)?.responses ?? {})))
          .map((status) => `${op.operationId} ${status}`),
      );
      expect(missing).toEqual([]);
      // And no id operation documents a 400 for its id alone (getObject takes nothing else).
      expect(Object.keys(gateway.get('getObject')?.responses ?? {})).not.toContain('400');
    });

    it('should have validated a response of every operation and every documented schema', () => {
      const missing = contract.schemaResponses().filter((r) => !contract.checked.has(r));
      expect(missing).toEqual([]);
      // And error answers of the operations that document them.
      expect([...contract.checked]).toEqual(
        expect.arrayContaining([
          'getObject 404',
          'completeObject 409',
          'completeObject 404',
          'deleteObject 404',
          'generateDownloadUrl 400',
          'generateDownloadUrl 404',
          'getObjectMetadataValues 400',
          'createObject 400',
          'createObject 401',
          'createObject 403',
          'listObjects 401',
          'listObjects 403',
        ]),
      );
    });
  });
});
