import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Topic } from '@lib/contracts';
import { readTopics, TopicReader, waitFor } from '@lib/testing';
import {
  bytesOf,
  objectsClient,
  orgStorageClient,
  type Answer,
  type FaultPlatform,
  startFaultPlatform,
} from '../../support/fault-load';
import { expectUsageIsTruth } from '../../support/usage-truth';

/** Every operation S3 could fail when bytes are written. */
const WRITES = ['PUT', 'CREATE_MULTIPART', 'UPLOAD_PART', 'COMPLETE_MULTIPART'] as const;

// Fault family 3: the local S3 fails (500 InternalError or 503 SlowDown, injected) during upload, complete,
// copy and delete. The client gets a clear 5xx JSON error naming the failure, never a success that is not
// true; no record claims bytes that S3 does not hold; once S3 is healthy again the same calls succeed, and
// usage still equals the truth of the records.
describe('fault: S3 failing during upload, complete, copy and delete', () => {
  let f: FaultPlatform;
  let reader: TopicReader;

  beforeAll(async () => {
    f = await startFaultPlatform({
      apps: ['object-metadata', 'storage', 'usage-aggregator', 'gateway'],
      env: { TTL_RECONCILE_INTERVAL_MS: '500', ORG_FILE_PURGE_INTERVAL_MS: '500' },
    });
    reader = await readTopics(f.t.kafka.brokers, [Topic.StorageFileUpdated]);
  });

  afterEach(() => f.t.s3.clearFaults());

  afterAll(async () => {
    await reader?.stop();
    await f?.stop();
  });

  const s3Keys = async (prefix: string) =>
    (
      await f.s3.send(new ListObjectsV2Command({ Bucket: f.t.s3.settings.bucket, Prefix: prefix }))
    ).Contents?.map((o) => o.Key!) ?? [];

  /** A 5xx JSON error in the route's envelope, with a code and a message. */
  const expectServerError = (res: Answer, envelope: 'private' | 'v1') => {
    expect({ status: res.status >= 500 && res.status <= 599, body: res.body }).toMatchObject({
      status: true,
      body: envelope === 'private' ? { success: false, error: {} } : { error: {} },
    });
    const { error } = res.body as { error: { code: string; message: string } };
    expect(typeof error.code).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
  };

  /** Every org file record points at bytes S3 holds; every completed object too. */
  const expectRecordsHaveBytes = async () => {
    const { rows } = await f.db.query<{ object_key: string }>(
      `SELECT object_key FROM object_metadata.org_files WHERE org_id = $1
       UNION ALL
       SELECT object_key FROM object_metadata.objects WHERE org_id = $1 AND state = 'READ_ONLY'`,
      [f.org.orgId],
    );
    for (const { object_key } of rows) expect(await f.bytesExist(object_key)).toBe(true);
  };

  describe('org storage', () => {
    it('should answer a 5xx and store nothing when S3 fails the upload', async () => {
      const storage = orgStorageClient(f.t, f.org);
      const fault = f.t.s3.injectFault({
        operation: WRITES,
        keyPrefix: `${f.org.orgKey}/files/`,
        status: 503,
      });
      const res = await storage.upload('broken.bin', bytesOf(2_000), 'up');
      expect(fault.hits).toBeGreaterThan(0);
      expectServerError(res, 'private');
      expect((await storage.meta('up/broken.bin')).status).toBe(404);
      await expectRecordsHaveBytes();

      f.t.s3.clearFaults();
      const again = await storage.upload('broken.bin', 'now it works', 'up');
      expect(again.status).toBe(201);
      expect(await (await storage.download('up/broken.bin')).text()).toBe('now it works');
    });

    it('should answer a 5xx and keep the old bytes when S3 fails an overwrite', async () => {
      const storage = orgStorageClient(f.t, f.org);
      expect((await storage.upload('keep.txt', 'old bytes', 'over')).status).toBe(201);
      f.t.s3.injectFault({ operation: WRITES, keyPrefix: `${f.org.orgKey}/files/`, status: 500 });
      expectServerError(await storage.upload('keep.txt', 'new bytes', 'over'), 'private');
      f.t.s3.clearFaults();
      expect(await (await storage.download('over/keep.txt')).text()).toBe('old bytes');
      await expectRecordsHaveBytes();
    });

    it('should answer a 5xx and create no copy when S3 fails the copy', async () => {
      const storage = orgStorageClient(f.t, f.org);
      expect((await storage.upload('src.txt', 'copy me', 'cp')).status).toBe(201);
      const fault = f.t.s3.injectFault({ operation: 'COPY', status: 503 });
      const res = await storage.copy('cp/src.txt', 'cp', 'dst.txt');
      expect(fault.hits).toBeGreaterThan(0);
      expectServerError(res, 'private');
      expect((await storage.meta('cp/dst.txt')).status).toBe(404);
      await expectRecordsHaveBytes();

      f.t.s3.clearFaults();
      const copied = await storage.copy('cp/src.txt', 'cp', 'dst.txt');
      expect(copied.status).toBe(200);
      expect(await (await storage.download('cp/dst.txt')).text()).toBe('copy me');
    });

    it('should answer a 503 JSON error when S3 keeps failing the GET of a download, the bytes through a failure or two, and once it recovers', async () => {
      const storage = orgStorageClient(f.t, f.org);
      const up = await storage.upload('read.txt', 'read me', 'get');
      expect(up.status).toBe(201);
      const publicStream = () =>
        fetch(
          `${f.t.gatewayUrl}/api/v1/objects/download?stream=true&objectKey=${encodeURIComponent(up.body.data.objectKey)}`,
        );
      const fault = f.t.s3.injectFault({
        operation: 'GET',
        keyPrefix: `${f.org.orgKey}/files/`,
        status: 500,
      });
      for (const res of [await storage.download('get/read.txt'), await publicStream()]) {
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.message).toMatch(/S3/);
      }
      expect(fault.hits).toBeGreaterThanOrEqual(2);

      f.t.s3.clearFaults();
      expect(await (await storage.download('get/read.txt')).text()).toBe('read me');
      expect(await (await publicStream()).text()).toBe('read me');

      // A failure or two in a row is absorbed: the GET is sent again (3 attempts, like the SDK's calls).
      for (const download of [() => storage.download('get/read.txt'), publicStream]) {
        const transient = f.t.s3.injectFault({
          operation: 'GET',
          keyPrefix: `${f.org.orgKey}/files/`,
          status: 503,
          count: 2,
        });
        const res = await download();
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('read me');
        expect(transient.hits).toBe(2);
      }
    });

    it('should never claim a deleted file exists, and remove its bytes once S3 recovers', async () => {
      const storage = orgStorageClient(f.t, f.org);
      const up = await storage.upload('gone.txt', 'delete me', 'del');
      expect(up.status).toBe(201);
      const objectKey = up.body.data.objectKey;
      f.t.s3.injectFault({ operation: ['DELETE', 'DELETE_OBJECTS'], status: 503 });
      const res = await storage.remove('del/gone.txt');
      if (res.status >= 500) {
        // Refused: the file is still there, with its bytes.
        expectServerError(res, 'private');
        expect(await (await storage.download('del/gone.txt')).text()).toBe('delete me');
      } else {
        // Accepted: the file is gone at once; its bytes are purged after S3 recovers.
        expect(res.status).toBe(200);
        expect((await storage.meta('del/gone.txt')).status).toBe(404);
        f.t.s3.clearFaults();
        await waitFor(
          'the deleted file’s bytes to be purged',
          async () => !(await f.bytesExist(objectKey)),
          {
            timeoutMs: 60_000,
            intervalMs: 200,
          },
        );
      }
      await expectRecordsHaveBytes();
    });

    it('should answer a 5xx JSON error when S3 fails a download', async () => {
      const storage = orgStorageClient(f.t, f.org);
      expect((await storage.upload('read.txt', 'read me', 'rd')).status).toBe(201);
      f.t.s3.injectFault({
        operation: ['GET', 'HEAD'],
        keyPrefix: `${f.org.orgKey}/`,
        status: 500,
      });
      const res = await storage.download('rd/read.txt');
      const text = await res.text();
      expectServerError({ status: res.status, body: JSON.parse(text) as unknown }, 'private');
    });
  });

  describe('Objects API', () => {
    it('should answer a 5xx on complete when S3 fails, leave the object UPLOADING, then complete', async () => {
      const objects = objectsClient(f.t, f.org);
      const created = await objects.create({ name: 'c.txt', content_type: 'text' });
      expect(await objects.put(created.body.upload_url!, 'complete me')).toBe(200);
      const fault = f.t.s3.injectFault({
        operation: ['HEAD', 'GET'],
        keyPrefix: `${f.org.orgKey}/objects/`,
        status: 503,
      });
      const res = await objects.complete(created.body.id);
      expect(fault.hits).toBeGreaterThan(0);
      expectServerError(res, 'v1');
      expect((await objects.get(created.body.id)).body).toMatchObject({
        state: 'UPLOADING',
        size_bytes: null,
      });

      f.t.s3.clearFaults();
      const done = await objects.complete(created.body.id);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ state: 'READ_ONLY', size_bytes: 11 });
    });

    it('should refuse to complete an object whose upload S3 failed (no bytes, never READ_ONLY)', async () => {
      const objects = objectsClient(f.t, f.org);
      const created = await objects.create({ name: 'u.txt', content_type: 'text' });
      f.t.s3.injectFault({ operation: 'PUT', keyPrefix: `${f.org.orgKey}/objects/`, status: 500 });
      expect(await objects.put(created.body.upload_url!, 'lost')).toBe(500);
      f.t.s3.clearFaults();
      const res = await objects.complete(created.body.id);
      expect(res.status).toBe(400);
      expect((await objects.get(created.body.id)).body.state).toBe('UPLOADING');
      await expectRecordsHaveBytes();
    });

    it('should delete the object and purge its bytes once S3 recovers from failing the delete', async () => {
      const objects = objectsClient(f.t, f.org);
      const created = await objects.create({ name: 'd.txt', content_type: 'text' });
      expect(await objects.put(created.body.upload_url!, 'delete me')).toBe(200);
      expect((await objects.complete(created.body.id)).status).toBe(200);
      const { rows } = await f.db.query<{ object_key: string }>(
        'SELECT object_key FROM object_metadata.objects WHERE id = $1',
        [created.body.id],
      );
      f.t.s3.injectFault({ operation: ['DELETE', 'DELETE_OBJECTS'], status: 503 });
      const res = await objects.remove(created.body.id);
      if (res.status >= 500) {
        expectServerError(res, 'v1');
        expect((await objects.get(created.body.id)).body.state).toBe('READ_ONLY');
        expect(await f.bytesExist(rows[0].object_key)).toBe(true);
      } else {
        expect(res.status).toBe(200);
        expect(res.body.state).toBe('DELETED');
        f.t.s3.clearFaults();
        await waitFor(
          'the deleted object’s bytes to be purged',
          async () => !(await f.bytesExist(rows[0].object_key)),
          {
            timeoutMs: 60_000,
            intervalMs: 200,
          },
        );
      }
    });
  });

  describe('afterwards', () => {
    it('should leave no orphan bytes of failed writes and usage equal to the truth', async () => {
      await expectRecordsHaveBytes();
      const keys = await s3Keys(`${f.org.orgKey}/files/`);
      const { rows } = await f.db.query<{ object_key: string }>(
        `SELECT object_key FROM object_metadata.org_files WHERE org_id = $1`,
        [f.org.orgId],
      );
      expect(keys.sort()).toEqual(rows.map((r) => r.object_key).sort());
      await expectUsageIsTruth(f.t, f.org);
      // Failed writes published nothing: one `created` per path, from the attempt that succeeded.
      const created = (path: string) =>
        reader.messages.filter((m) => {
          const data = (JSON.parse(m.value) as { data: { path?: string; change: string } }).data;
          return data.path === path && data.change === 'created';
        }).length;
      await reader.waitFor((m) => m.value.includes('"cp/dst.txt"'));
      expect([created('up/broken.bin'), created('cp/dst.txt')]).toEqual([1, 1]);
    });
  });
});
