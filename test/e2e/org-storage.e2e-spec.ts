import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Topic } from '@lib/contracts';
import { createS3Client } from '@lib/s3';
import {
  readTopics,
  startTestPlatform,
  TestOrg,
  TestPlatform,
  TopicReader,
  waitFor,
} from '@lib/testing';
import { Client } from 'pg';

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

interface Ok<T = Record<string, unknown>> {
  success: true;
  data: T;
}

interface Err {
  success: false;
  error: { code: string; message: string };
}

interface Entry {
  type: 'file' | 'folder';
  name: string;
  path: string;
  sizeBytes?: number;
  etag: string;
  objectKey?: string;
}

interface FileEvent {
  objectId: string;
  objectKey: string;
  path: string;
  change: string;
  version: number;
  sizeBytes: number;
  previousSizeBytes: number;
  actor: { type: string; id: string };
}

const MiB = 1024 * 1024;
const LIMIT = 10 * MiB;

// Org storage (`/api/private/storage`) end to end: the five apps as processes, the org private
// key in `api-key`, bytes streamed to the verifying local S3, events read back from Kafka.
describe('org storage', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let other: TestOrg;
  let reader: TopicReader;
  let s3: S3Client;
  let db: Client;

  async function api<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: {
      key?: string | null;
      json?: unknown;
      form?: FormData;
      headers?: Record<string, string>;
      raw?: string;
    } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const key = opts.key === undefined ? org.orgPrivateKey : opts.key;
    if (key !== null) headers['api-key'] = key;
    let body: string | FormData | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.form) body = opts.form;
    else if (opts.raw !== undefined) body = opts.raw;
    const res = await fetch(`${t.gatewayUrl}/api/private/storage${path}`, {
      method,
      headers,
      body,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* raw bytes (download) */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  const form = (name: string, bytes: Buffer | string, path?: string, pathFirst = true) => {
    const f = new FormData();
    if (path !== undefined && pathFirst) f.append('path', path);
    f.append('file', new Blob([bytes]), name);
    if (path !== undefined && !pathFirst) f.append('path', path);
    return f;
  };

  const upload = (
    name: string,
    bytes: Buffer | string,
    path?: string,
    opts: { key?: string; headers?: Record<string, string>; pathFirst?: boolean } = {},
  ) =>
    api<Ok<Entry & { created: boolean }>>('POST', '/upload', {
      form: form(name, bytes, path, opts.pathFirst),
      key: opts.key,
      headers: opts.headers,
    });

  const q = (path: string) => `?path=${encodeURIComponent(path)}`;

  const s3Keys = async (prefix: string) =>
    (
      await s3.send(new ListObjectsV2Command({ Bucket: t.s3.settings.bucket, Prefix: prefix }))
    ).Contents?.map((o) => o.Key!) ?? [];

  const fileRows = async (orgId: string) =>
    (
      await db.query<{ id: string; name: string; object_key: string; version: number }>(
        'SELECT id, name, object_key, version FROM object_metadata.org_files WHERE org_id = $1',
        [orgId],
      )
    ).rows;

  const waitEvent = async (objectId: string, change: string, count = 1) =>
    (
      await reader.waitFor(
        (m) =>
          m.key === objectId && (JSON.parse(m.value) as { data: FileEvent }).data.change === change,
        count,
      )
    ).map((m) => (JSON.parse(m.value) as { data: FileEvent }).data);

  const idsOf = async (orgId: string, names: string[]) => {
    const rows = await fileRows(orgId);
    return names.map((name) => rows.find((r) => r.name === name)!.id);
  };
  const idOf = async (orgId: string, name: string) => (await idsOf(orgId, [name]))[0];

  beforeAll(async () => {
    t = await startTestPlatform();
    [org, other] = await Promise.all([t.createOrg(), t.createOrg()]);
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

  describe('upload, list, meta, download', () => {
    it('should store a new file at the root with 201, an ETag and a created event', async () => {
      const res = await upload('hello.txt', 'hello world');
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        success: true,
        data: expect.objectContaining({
          type: 'file',
          name: 'hello.txt',
          path: 'hello.txt',
          sizeBytes: 11,
          created: true,
        }),
      });
      expect(res.headers.get('etag')).toBe(res.body.data.etag);
      const id = await idOf(org.orgId, 'hello.txt');
      const [event] = await waitEvent(id, 'created');
      expect(event).toMatchObject({
        path: 'hello.txt',
        sizeBytes: 11,
        previousSizeBytes: 0,
        version: 1,
        actor: { type: 'api_key' },
      });
    });

    it('should overwrite with 200, last write wins, publish overwritten and purge the old bytes', async () => {
      await upload('over.txt', 'first version');
      const id = await idOf(org.orgId, 'over.txt');
      const firstKey = (await fileRows(org.orgId)).find((r) => r.id === id)!.object_key;
      const res = await upload('over.txt', 'second');
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ path: 'over.txt', sizeBytes: 6, created: false });
      const [event] = await waitEvent(id, 'overwritten');
      expect(event).toMatchObject({
        path: 'over.txt',
        sizeBytes: 6,
        previousSizeBytes: 13,
        version: 2,
      });
      const dl = await api<string>('GET', `/download${q('over.txt')}`);
      expect(dl.body).toBe('second');
      await waitFor(
        'the replaced bytes to be purged',
        async () => !(await s3Keys(org.orgKey)).includes(firstKey),
      );
    });

    it('should put the file in the `path` folder, creating it, whether `path` comes before or after the file', async () => {
      const before = await upload('a.txt', 'A', 'docs/2026');
      const after = await upload('b.txt', 'BB', 'docs/2026', { pathFirst: false });
      expect(before.status).toBe(201);
      expect(after.status).toBe(201);
      expect(before.body.data.path).toBe('docs/2026/a.txt');
      expect(after.body.data.path).toBe('docs/2026/b.txt');
      const list = await api<Ok<{ path: string; entries: Entry[] }>>('GET', `/${q('docs/2026')}`);
      expect(list.status).toBe(200);
      expect(list.body.data.path).toBe('docs/2026');
      expect(list.body.data.entries.map((e) => [e.type, e.path])).toEqual([
        ['file', 'docs/2026/a.txt'],
        ['file', 'docs/2026/b.txt'],
      ]);
    });

    it('should list the root by default, folders first', async () => {
      const res = await api<Ok<{ path: string; entries: Entry[] }>>('GET', '/');
      expect(res.status).toBe(200);
      expect(res.body.data.path).toBe('/');
      const names = res.body.data.entries.map((e) => `${e.type}:${e.name}`);
      expect(names[0]).toBe('folder:docs');
      expect(names).toEqual(expect.arrayContaining(['file:hello.txt', 'file:over.txt']));
      const slash = await api<Ok<{ path: string }>>('GET', `/${q('/')}`);
      expect(slash.body.data.path).toBe('/');
    });

    it('should list a folder a page at a time through the cursor, and 400 a bad limit or cursor', async () => {
      for (const name of ['p1.txt', 'p2.txt', 'p3.txt']) await upload(name, 'x', 'paged');
      await api('POST', '/folder', { json: { name: 'sub', path: 'paged' } });
      type Page = Ok<{ entries: Entry[]; hasMore: boolean; nextCursor: string | null }>;
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: Page } = await api<Page>(
          'GET',
          `/${q('paged')}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        names.push(...page.body.data.entries.map((e) => e.name));
        cursor = page.body.data.nextCursor;
        expect(page.body.data.hasMore).toBe(cursor !== null);
      } while (cursor);
      expect(names).toEqual(['sub', 'p1.txt', 'p2.txt', 'p3.txt']);

      for (const [query, field] of [
        ['&limit=0', 'limit'],
        ['&limit=5001', 'limit'],
        ['&limit=two', 'limit'],
        ['&cursor=bm9wZQ', 'cursor'],
        ['&cursor=%2F%2F', 'cursor'],
      ]) {
        const res = await api<Err>('GET', `/${q('paged')}${query}`);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(JSON.stringify(res.body.error)).toContain(field);
      }
    });

    it('should answer 404 when listing a missing folder or a file', async () => {
      for (const path of ['nope', 'hello.txt', 'docs/nope']) {
        const res = await api<Err>('GET', `/${q(path)}`);
        expect(res.status).toBe(404);
        expect(res.body.success).toBe(false);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
    });

    it('should answer a file’s meta with its ETag, 400 for a folder and 404 when missing', async () => {
      const res = await api<Ok<Entry>>('GET', `/meta${q('docs/2026/a.txt')}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ path: 'docs/2026/a.txt', sizeBytes: 1 });
      expect(res.headers.get('etag')).toBe(res.body.data.etag);
      expect((await api('GET', `/meta${q('docs')}`)).status).toBe(400);
      expect((await api('GET', `/meta${q('/')}`)).status).toBe(400);
      expect((await api('GET', `/meta${q('docs/zzz.txt')}`)).status).toBe(404);
      expect((await api('GET', '/meta')).status).toBe(400);
    });

    it('should download a file’s exact bytes, 400 for a folder and 404 when missing', async () => {
      const bytes = randomBytes(200_000);
      await upload('blob.bin', bytes, 'bin');
      const res = await fetch(`${t.gatewayUrl}/api/private/storage/download${q('bin/blob.bin')}`, {
        headers: { 'api-key': org.orgPrivateKey },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain('blob.bin');
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
      expect((await api('GET', `/download${q('bin')}`)).status).toBe(400);
      expect((await api('GET', `/download${q('bin/none')}`)).status).toBe(404);
    });

    it('should give a file a public download key that serves its bytes, and stops at its delete', async () => {
      const bytes = randomBytes(5_000);
      const stored = await upload('shared report.pdf', bytes, 'public');
      const { objectKey } = stored.body.data;
      expect(objectKey).toMatch(new RegExp(`^${org.orgKey}/files/[A-Za-z0-9_-]{32}$`));
      const meta = await api<Ok<Entry>>('GET', `/meta${q('public/shared report.pdf')}`);
      expect(meta.body.data.objectKey).toBe(objectKey);
      const download = `${t.gatewayUrl}/api/v1/objects/download?objectKey=${encodeURIComponent(objectKey!)}`;

      const redirect = await fetch(download, { redirect: 'manual' });
      expect(redirect.status).toBe(302);
      const signed = await fetch(redirect.headers.get('location')!);
      expect(signed.headers.get('content-disposition')).toBe(
        'attachment; filename="shared report.pdf"',
      );
      expect(Buffer.from(await signed.arrayBuffer()).equals(bytes)).toBe(true);

      expect((await api('DELETE', `/file${q('public/shared report.pdf')}`)).status).toBe(200);
      expect((await fetch(download, { redirect: 'manual' })).status).toBe(404);
    });

    it('should refuse an upload without a file, or not multipart, with 400', async () => {
      const noFile = new FormData();
      noFile.append('path', 'x');
      const res = await api<Err>('POST', '/upload', { form: noFile });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('file');
      const json = await api<Err>('POST', '/upload', { json: { file: 'x' } });
      expect(json.status).toBe(400);
      const extra = new FormData();
      extra.append('other', 'x');
      extra.append('file', new Blob(['x']), 'x.txt');
      expect((await api('POST', '/upload', { form: extra })).status).toBe(400);
    });

    it('should accept exactly 10 MiB', async () => {
      const res = await upload('ten.bin', Buffer.alloc(LIMIT, 1), 'big');
      expect(res.status).toBe(201);
      expect(res.body.data.sizeBytes).toBe(LIMIT);
    });

    it('should store each of 8 concurrent 10 MiB uploads in one PutObject, never a multipart upload', async () => {
      /** The gateway's `s3_operations_total` for one S3 operation, all statuses. */
      const s3Operations = async (operation: string) => {
        const text = await (await fetch(`${t.platform.managementUrls.gateway}/metrics`)).text();
        return text
          .split('\n')
          .filter(
            (l) => l.startsWith('s3_operations_total{') && l.includes(`operation="${operation}"`),
          )
          .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      };
      const before = {
        put: await s3Operations('PutObjectCommand'),
        part: await s3Operations('UploadPartCommand'),
      };
      // 80 MiB at once, more than the gateway's 64 MiB write budget: each upload declares its length, so
      // each reserves it whole in its turn (growing part by part, those whose next part was not free went
      // multipart).
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          upload(`concurrent-${i}.bin`, Buffer.alloc(LIMIT, i), 'big-concurrent'),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
      expect({
        put: (await s3Operations('PutObjectCommand')) - before.put,
        part: (await s3Operations('UploadPartCommand')) - before.part,
      }).toEqual({ put: 8, part: 0 });
    });

    it('should cut an upload over 10 MiB with 413 and leave no row and no S3 object', async () => {
      const lone = await t.createOrg();
      const res = await upload('huge.bin', Buffer.alloc(LIMIT + 1, 2), undefined, {
        key: lone.orgPrivateKey,
      });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
      expect(await fileRows(lone.orgId)).toEqual([]);
      expect(await s3Keys(`${lone.orgKey}/`)).toEqual([]);
      // The connection and the service are fine afterwards.
      expect((await upload('small.txt', 'ok', undefined, { key: lone.orgPrivateKey })).status).toBe(
        201,
      );
    });
  });

  describe('folders, rename, move, delete', () => {
    it('should create a folder and answer its canonical path; 409 when it exists; 404 without a parent', async () => {
      const res = await api<Ok<{ path: string }>>('POST', '/folder', {
        json: { name: 'projects' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        success: true,
        data: expect.objectContaining({ path: 'projects' }),
      });
      const nested = await api<Ok<{ path: string }>>('POST', '/folder', {
        json: { name: 'alpha', path: 'projects' },
      });
      expect(nested.body.data.path).toBe('projects/alpha');
      const again = await api<Err>('POST', '/folder', { json: { name: 'projects' } });
      expect(again.status).toBe(409);
      expect(again.body.success).toBe(false);
      expect((await api('POST', '/folder', { json: { name: 'x', path: 'no/such' } })).status).toBe(
        404,
      );
      expect((await api('POST', '/folder', { json: { name: 'hello.txt' } })).status).toBe(409);
      expect((await api('POST', '/folder', { json: { name: 'x', extra: 1 } })).status).toBe(400);
    });

    it('should rename a file in place with a moved event, and 409 when the name is taken', async () => {
      await upload('r1.txt', 'r1', 'ren');
      await upload('r2.txt', 'r2', 'ren');
      const id = await idOf(org.orgId, 'r1.txt');
      const res = await api<Ok<{ path: string; previousPath: string }>>('POST', '/rename', {
        json: { path: 'ren/r1.txt', new_name: 'renamed.txt' },
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ path: 'ren/renamed.txt', previousPath: 'ren/r1.txt' });
      const [event] = await waitEvent(id, 'moved');
      expect(event).toMatchObject({
        path: 'ren/renamed.txt',
        sizeBytes: 2,
        previousSizeBytes: 2,
        version: 2,
      });
      const clash = await api<Err>('POST', '/rename', {
        json: { path: 'ren/r2.txt', new_name: 'renamed.txt' },
      });
      expect(clash.status).toBe(409);
      expect(
        (await api('POST', '/rename', { json: { path: 'ren/none', new_name: 'x' } })).status,
      ).toBe(404);
      expect((await api('POST', '/rename', { json: { path: '/', new_name: 'x' } })).status).toBe(
        400,
      );
    });

    it('should rename a folder with one row change and publish moved for every file inside, with new paths', async () => {
      await upload('f1.txt', '1', 'tree/sub');
      await upload('f2.txt', '22', 'tree/sub/deeper');
      await upload('f3.txt', '333', 'tree');
      const ids = await idsOf(org.orgId, ['f1.txt', 'f2.txt', 'f3.txt']);
      const res = await api<Ok<{ path: string }>>('POST', '/rename', {
        json: { path: 'tree', new_name: 'forest' },
      });
      expect(res.status).toBe(200);
      expect(res.body.data.path).toBe('forest');
      const paths = await Promise.all(ids.map(async (id) => (await waitEvent(id, 'moved'))[0]));
      expect(paths.map((e) => [e.path, e.version, e.sizeBytes, e.previousSizeBytes])).toEqual([
        ['forest/sub/f1.txt', 2, 1, 1],
        ['forest/sub/deeper/f2.txt', 2, 2, 2],
        ['forest/f3.txt', 2, 3, 3],
      ]);
      const meta = await api<Ok<Entry>>('GET', `/meta${q('forest/sub/deeper/f2.txt')}`);
      expect(meta.status).toBe(200);
      expect((await api('GET', `/${q('tree')}`)).status).toBe(404);
    });

    it('should move a file or a folder into dest_path, 409 on a conflict, 400 into itself', async () => {
      await upload('m.txt', 'move me', 'mv/src');
      await api('POST', '/folder', { json: { name: 'dst', path: 'mv' } });
      const id = await idOf(org.orgId, 'm.txt');
      const res = await api<Ok<{ path: string }>>('POST', '/move', {
        json: { source_path: 'mv/src/m.txt', dest_path: 'mv/dst' },
      });
      expect(res.status).toBe(200);
      expect(res.body.data.path).toBe('mv/dst/m.txt');
      expect((await waitEvent(id, 'moved'))[0].path).toBe('mv/dst/m.txt');
      await upload('m.txt', 'again', 'mv/src');
      const clash = await api<Err>('POST', '/move', {
        json: { source_path: 'mv/src/m.txt', dest_path: 'mv/dst' },
      });
      expect(clash.status).toBe(409);
      const folder = await api<Ok<{ path: string }>>('POST', '/move', {
        json: { source_path: 'mv/src', dest_path: 'mv/dst' },
      });
      expect(folder.body.data.path).toBe('mv/dst/src');
      const into = await api<Err>('POST', '/move', {
        json: { source_path: 'mv/dst', dest_path: 'mv/dst/src' },
      });
      expect(into.status).toBe(400);
      expect(into.body.error.message).toContain('into itself');
      expect(
        (await api('POST', '/move', { json: { source_path: 'mv/dst', dest_path: 'mv/dst' } }))
          .status,
      ).toBe(400);
      expect(
        (await api('POST', '/move', { json: { source_path: 'mv/dst', dest_path: 'mv/none' } }))
          .status,
      ).toBe(404);
      expect(
        (await api('POST', '/move', { json: { source_path: 'mv/none', dest_path: 'mv' } })).status,
      ).toBe(404);
      expect(
        (await api('POST', '/move', { json: { source_path: 'mv/dst', dest_path: 'hello.txt' } }))
          .status,
      ).toBe(400);
      expect(
        (await api('POST', '/move', { json: { source_path: '/', dest_path: 'mv' } })).status,
      ).toBe(400);
    });

    it('should delete a file, then a folder with a deleted event per file and its bytes; the root is a 400', async () => {
      await upload('d1.txt', 'one', 'del/x');
      await upload('d2.txt', 'two!', 'del/x/y');
      await upload('d3.txt', 'three', 'del');
      const [d1, d2, d3] = await idsOf(org.orgId, ['d1.txt', 'd2.txt', 'd3.txt']);
      const keys = (await fileRows(org.orgId))
        .filter((r) => [d1, d2, d3].includes(r.id))
        .map((r) => r.object_key);
      const one = await api<Ok<{ path: string }>>('DELETE', `/file${q('del/d3.txt')}`);
      expect(one.status).toBe(200);
      expect(one.body.data.path).toBe('del/d3.txt');
      expect((await waitEvent(d3, 'deleted'))[0]).toMatchObject({
        sizeBytes: 0,
        previousSizeBytes: 5,
        path: 'del/d3.txt',
      });
      const all = await api<Ok<{ deletedFiles: number; deletedFolders: number }>>(
        'DELETE',
        `/file${q('del')}`,
      );
      expect(all.status).toBe(200);
      expect(all.body.data).toMatchObject({ path: 'del', deletedFiles: 2, deletedFolders: 3 });
      expect((await waitEvent(d1, 'deleted'))[0].path).toBe('del/x/d1.txt');
      expect((await waitEvent(d2, 'deleted'))[0]).toMatchObject({
        path: 'del/x/y/d2.txt',
        previousSizeBytes: 4,
      });
      await waitFor('the deleted bytes to be purged', async () => {
        const left = await s3Keys(org.orgKey);
        return keys.every((k) => !left.includes(k));
      });
      expect((await api('GET', `/${q('del')}`)).status).toBe(404);
      expect((await api('DELETE', `/file${q('del')}`)).status).toBe(404);
      expect((await api('DELETE', `/file${q('/')}`)).status).toBe(400);
      expect((await api('DELETE', '/file?path=')).status).toBe(400);
    });
  });

  describe('extensions: If-Match, copy, stats', () => {
    it('should honour If-Match on upload, rename, move and delete (412 on mismatch)', async () => {
      const first = await upload('cond.txt', 'v1', 'cond');
      const etag = first.body.data.etag;
      const stale = await upload('cond.txt', 'v2', 'cond', { headers: { 'if-match': '"nope"' } });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({ success: false, error: { code: 'PRECONDITION_FAILED' } });
      const fresh = await upload('cond.txt', 'v2', 'cond', { headers: { 'if-match': etag } });
      expect(fresh.status).toBe(200);
      const etag2 = fresh.body.data.etag;
      expect(etag2).not.toBe(etag);
      const h = (tag: string) => ({ 'if-match': tag });
      expect(
        (
          await api('POST', '/rename', {
            json: { path: 'cond/cond.txt', new_name: 'c.txt' },
            headers: h(etag),
          })
        ).status,
      ).toBe(412);
      const renamed = await api<Ok<{ etag: string }>>('POST', '/rename', {
        json: { path: 'cond/cond.txt', new_name: 'c.txt' },
        headers: h(etag2),
      });
      expect(renamed.status).toBe(200);
      await api('POST', '/folder', { json: { name: 'cond2' } });
      expect(
        (
          await api('POST', '/move', {
            json: { source_path: 'cond/c.txt', dest_path: 'cond2' },
            headers: h(etag2),
          })
        ).status,
      ).toBe(412);
      const moved = await api<Ok<{ etag: string }>>('POST', '/move', {
        json: { source_path: 'cond/c.txt', dest_path: 'cond2' },
        headers: h(renamed.body.data.etag),
      });
      expect(moved.status).toBe(200);
      expect((await api('DELETE', `/file${q('cond2/c.txt')}`, { headers: h(etag2) })).status).toBe(
        412,
      );
      expect(
        (await api('DELETE', `/file${q('cond2/c.txt')}`, { headers: h(moved.body.data.etag) }))
          .status,
      ).toBe(200);
      // Folders have ETags too (in listings): a stale one refuses the folder's rename.
      const root = await api<Ok<{ entries: Entry[] }>>('GET', '/');
      const folderTag = root.body.data.entries.find((e) => e.path === 'cond2')!.etag;
      expect(
        (
          await api('POST', '/rename', {
            json: { path: 'cond2', new_name: 'cond3' },
            headers: h(etag),
          })
        ).status,
      ).toBe(412);
      expect(
        (
          await api('POST', '/rename', {
            json: { path: 'cond2', new_name: 'cond3' },
            headers: h(folderTag),
          })
        ).status,
      ).toBe(200);
      // If-Match on a file that does not exist: 412 (RFC 9110), and nothing is stored.
      expect((await upload('new.txt', 'x', 'cond', { headers: h('*') })).status).toBe(412);
      expect((await api('GET', `/meta${q('cond/new.txt')}`)).status).toBe(404);
    });

    it('should copy a file with new bytes and a created event; 409 when the target exists', async () => {
      await upload('orig.txt', 'original', 'cp');
      const res = await api<Ok<{ path: string }>>('POST', '/copy', {
        json: { source_path: 'cp/orig.txt', dest_path: 'cp', new_name: 'copy.txt' },
      });
      expect(res.status).toBe(200);
      expect(res.body.data.path).toBe('cp/copy.txt');
      const dl = await api<string>('GET', `/download${q('cp/copy.txt')}`);
      expect(dl.body).toBe('original');
      const copyId = await idOf(org.orgId, 'copy.txt');
      expect((await waitEvent(copyId, 'created'))[0]).toMatchObject({
        path: 'cp/copy.txt',
        sizeBytes: 8,
      });
      expect(
        (
          await api('POST', '/copy', {
            json: { source_path: 'cp/orig.txt', dest_path: 'cp', new_name: 'copy.txt' },
          })
        ).status,
      ).toBe(409);
      expect(
        (await api('POST', '/copy', { json: { source_path: 'cp', dest_path: '/' } })).status,
      ).toBe(400);
    });

    it('should answer recursive stats of a folder', async () => {
      await upload('s1.bin', Buffer.alloc(100), 'st');
      await upload('s2.bin', Buffer.alloc(50), 'st/a');
      await upload('s3.bin', Buffer.alloc(7), 'st/a/b');
      const res = await api<Ok<{ bytes: number; files: number; folders: number }>>(
        'GET',
        `/stats${q('st')}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ path: 'st', bytes: 157, files: 3, folders: 2 });
      await api('POST', '/move', { json: { source_path: 'st/a/b', dest_path: '/' } });
      const after = await api<Ok<{ bytes: number; files: number }>>('GET', `/stats${q('st')}`);
      expect(after.body.data).toMatchObject({ bytes: 150, files: 2, folders: 1 });
      expect((await api('GET', `/stats${q('nope')}`)).status).toBe(404);
    });
  });

  describe('authentication and tenancy', () => {
    it('should refuse a Bearer credential with 401 telling to use the api-key header', async () => {
      for (const bearer of [org.apiKey, org.orgPrivateKey, org.adminJwt]) {
        const res = await api<Err>('GET', '/', {
          key: null,
          headers: { authorization: `Bearer ${bearer}` },
        });
        expect(res.status).toBe(401);
        expect(res.body.success).toBe(false);
        expect(res.body.error.message).toContain('api-key');
      }
      expect((await api('GET', '/', { key: org.apiKey })).status).toBe(401);
      expect((await api('GET', '/', { key: null })).status).toBe(401);
    });

    it('should never show another org’s files', async () => {
      const mine = await api<Ok<{ entries: Entry[] }>>('GET', '/', { key: other.orgPrivateKey });
      expect(mine.status).toBe(200);
      expect(mine.body.data.entries).toEqual([]);
      expect(
        (await api('GET', `/meta${q('hello.txt')}`, { key: other.orgPrivateKey })).status,
      ).toBe(404);
      expect(
        (await api('GET', `/download${q('hello.txt')}`, { key: other.orgPrivateKey })).status,
      ).toBe(404);
      expect(
        (await api('DELETE', `/file${q('hello.txt')}`, { key: other.orgPrivateKey })).status,
      ).toBe(404);
      expect(
        (
          await api('POST', '/rename', {
            key: other.orgPrivateKey,
            json: { path: 'hello.txt', new_name: 'x' },
          })
        ).status,
      ).toBe(404);
      expect((await api('GET', `/${q('docs')}`, { key: other.orgPrivateKey })).status).toBe(404);
      expect((await api('GET', `/meta${q('hello.txt')}`)).status).toBe(200);
    });

    it('should refuse a revoked org key at once', async () => {
      const key = await t.admin<{ id: string; secret: string }>(
        'POST',
        `/admin/orgs/${org.orgId}/private-keys`,
        { name: 'temp' },
      );
      expect((await api('GET', '/', { key: key.secret })).status).toBe(200);
      await t.admin('POST', `/admin/api-keys/${key.id}/revoke`);
      const res = await api<Err>('GET', '/', { key: key.secret });
      expect(res.status).toBe(401);
      expect(res.body.success).toBe(false);
    });
  });

  describe('hostile paths', () => {
    // Every entry is refused with 400 wherever a path or a name goes; none may create, read or touch
    // anything, in this org or elsewhere.
    const corpus: string[] = [
      '..',
      '.',
      '../',
      '../etc/passwd',
      '../../../../etc/passwd',
      'a/../b',
      'a/..',
      'a/b/../../..',
      './a',
      'a/./b',
      '/etc/passwd',
      '/a',
      '//a',
      'a//b',
      'a/',
      '....//x',
      'a\\b',
      '..\\..\\windows\\win.ini',
      'C:\\x',
      'a\u0000b',
      '\u0000',
      'x.txt\u0000.jpg',
      'a\nb',
      'a\rb',
      'a\tb',
      '\u001b[31mred',
      'a\u007fb',
      'a\u0085b',
      '%2e%2e',
      '%2E%2E/x',
      'a/%2e%2e/b',
      '..%2f..%2fetc',
      '%2f',
      'a%2fb',
      '%5c',
      'a%5c..',
      '%00',
      '%252e%252e',
      'x'.repeat(256),
      'é'.repeat(128),
      `ok/${'y'.repeat(300)}`,
      'a/'.repeat(520) + 'a',
      ('abcd/'.repeat(210) + 'z').slice(0, 1050),
      'e\u0301',
      'cafe\u0301.txt',
      'A\u030a',
      '\u212b',
      '\u2126',
      'docs/cafe\u0301',
      'a\u202eb',
      'a\u200bb',
      '\ufeffa',
      'a\u2028b',
      ' leading',
      'trailing ',
      '   ',
      'a/ /b',
      '\ud800',
      'x\udc00y',
    ];

    const queryable = (v: string) => {
      try {
        return encodeURIComponent(v);
      } catch {
        return null; // a lone surrogate cannot be put in a URL; the JSON routes still carry it
      }
    };

    it('should hold at least 50 hostile paths', () => {
      expect(corpus.length).toBeGreaterThanOrEqual(50);
    });

    it('should refuse every hostile path with 400 on every route, creating and leaking nothing', async () => {
      const rowsBefore = (await fileRows(org.orgId)).length;
      const folders = async () =>
        Number(
          (
            await db.query<{ n: string }>(
              'SELECT count(*) AS n FROM object_metadata.org_folders WHERE org_id = $1',
              [org.orgId],
            )
          ).rows[0].n,
        );
      const foldersBefore = await folders();
      const failures: string[] = [];
      const expect400 = async (what: string, res: Promise<Answer<unknown>>) => {
        const r = await res;
        const body = r.body as Err;
        if (r.status !== 400 || body?.success !== false || !body.error?.message) {
          failures.push(`${what} → ${r.status} ${JSON.stringify(r.body)}`);
        }
      };
      for (const bad of corpus) {
        const label = JSON.stringify(bad);
        const enc = queryable(bad);
        if (enc !== null) {
          const qs = `?path=${enc}`;
          await expect400(`list ${label}`, api('GET', `/${qs}`));
          await expect400(`meta ${label}`, api('GET', `/meta${qs}`));
          await expect400(`download ${label}`, api('GET', `/download${qs}`));
          await expect400(`delete ${label}`, api('DELETE', `/file${qs}`));
          await expect400(`stats ${label}`, api('GET', `/stats${qs}`));
        }
        await expect400(
          `folder path ${label}`,
          api('POST', '/folder', { json: { name: 'x', path: bad } }),
        );
        await expect400(`folder name ${label}`, api('POST', '/folder', { json: { name: bad } }));
        await expect400(
          `rename path ${label}`,
          api('POST', '/rename', { json: { path: bad, new_name: 'x' } }),
        );
        await expect400(
          `rename new_name ${label}`,
          api('POST', '/rename', { json: { path: 'hello.txt', new_name: bad } }),
        );
        await expect400(
          `move source ${label}`,
          api('POST', '/move', { json: { source_path: bad, dest_path: 'docs' } }),
        );
        await expect400(
          `move dest ${label}`,
          api('POST', '/move', { json: { source_path: 'hello.txt', dest_path: bad } }),
        );
        await expect400(
          `copy source ${label}`,
          api('POST', '/copy', { json: { source_path: bad, dest_path: 'docs' } }),
        );
        await expect400(
          `copy dest ${label}`,
          api('POST', '/copy', { json: { source_path: 'hello.txt', dest_path: bad } }),
        );
        await expect400(`upload path ${label}`, upload('ok.txt', 'x', bad));
        await expect400(
          `upload path after file ${label}`,
          upload('ok.txt', 'x', bad, { pathFirst: false }),
        );
        if (!/[\r\n"\ud800-\udfff]/.test(bad)) {
          // (multipart escapes CR, LF and quotes in file names; lone surrogates cannot be encoded)
          await expect400(`upload filename ${label}`, upload(bad, 'x'));
        }
      }
      expect(failures).toEqual([]);
      expect((await fileRows(org.orgId)).length).toBe(rowsBefore);
      expect(await folders()).toBe(foldersBefore);
      // Bytes stored before a late `path` field was refused were removed again: every object of the
      // org is a file of the org.
      const rowKeys = new Set((await fileRows(org.orgId)).map((r) => r.object_key));
      expect((await s3Keys(`${org.orgKey}/`)).filter((k) => !rowKeys.has(k))).toEqual([]);
      const keys = await s3Keys('');
      expect(keys.filter((k) => !/^[a-z0-9-]+\/files\/[A-Za-z0-9_-]{32}$/.test(k))).toEqual([]);
    });
  });
});
