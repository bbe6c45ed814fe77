import { randomUUID } from 'node:crypto';
import { OutboxWriter } from '@lib/events';
import { waitFor } from '@lib/testing';
import { DataSource } from 'typeorm';
import { ObjectBytesService, type StoredFileRef } from '../src/bytes/object-bytes.service';
import { ObjectsRepository } from '../src/objects/objects.repository';
import { ObjectsService } from '../src/objects/objects.service';
import { OrgQuotasRepository } from '../src/quotas/org-quotas.repository';
import { StorageQuotas } from '../src/quotas/storage-quotas.service';
import { TtlScheduler } from '../src/ttl/ttl-scheduler.service';
import { OBJECTS_CONFIG, objectMetadataDatabase } from './object-metadata-database';

const ORG = randomUUID();
const actor = { type: 'system' as const, id: 'test' };

// TTL expiry in batches against a real Postgres: what turns DELETED, the events it writes, the bytes it
// removes, and what happens when S3 refuses.
describe(`${ObjectsService.name} (expiry)`, () => {
  let close: () => Promise<void>;
  let dataSource: DataSource;
  let sut: ObjectsService;
  let deleteFails = false;
  const deletedKeys: string[][] = [];

  const bytes = {
    uploadUrl: () => 'http://s3.test/upload',
    copy: () => Promise.resolve({ sizeBytes: 3, etag: '"e"' }),
    delete: (file: StoredFileRef) => bytes.deleteMany([file]),
    deleteMany: (files: StoredFileRef[]) => {
      if (deleteFails) return Promise.reject(new Error('S3 is unavailable'));
      deletedKeys.push(files.map((f) => f.objectKey));
      return Promise.resolve();
    },
  };

  const row = async (id: string) =>
    (
      await dataSource.query<{ state: string; purge_pending: boolean; version: number }[]>(
        `SELECT state, purge_pending, version FROM objects WHERE id = $1`,
        [id],
      )
    )[0];

  const eventsOf = async (id: string) =>
    (
      await dataSource.query<{ payload: { data: { change: string; version: number } } }[]>(
        `SELECT payload FROM outbox WHERE message_key = $1 ORDER BY id`,
        [id],
      )
    ).map((r) => `${r.payload.data.change}@${r.payload.data.version}`);

  const create = (ttlMs: number | null) =>
    sut.create(
      { name: 'x', content_type: 'text', ttl_ms: ttlMs },
      { orgId: ORG, orgKey: 'org-a', userId: null, role: null, actor, workflowId: null },
    );

  beforeAll(async () => {
    ({ dataSource, close } = await objectMetadataDatabase('om_ttl'));
    const ttl = {
      scheduleExpiry: () => Promise.resolve(),
      cancelExpiry: () => Promise.resolve(),
      schedulePurges: () => Promise.resolve(),
    };
    sut = new ObjectsService(
      new ObjectsRepository(dataSource),
      new OutboxWriter({ source: '/object-metadata-test' }),
      bytes as unknown as ObjectBytesService,
      ttl as unknown as TtlScheduler,
      new StorageQuotas(new OrgQuotasRepository(dataSource)),
      OBJECTS_CONFIG,
    );
  });

  afterAll(() => close?.());

  it('should expire what is due, leave what is not, and ignore what is gone, in one batch', async () => {
    const due = [await create(1), await create(1), await create(1)];
    const later = await create(3_600_000);
    const deleted = await create(1);
    await sut.delete(ORG, deleted.id, actor);
    const unknown = 'obj_0190000000007000800000000000beef';
    await waitFor('the 1 ms deadlines to pass', () => Date.now() > due[2].delete_after_time_ms!);
    deletedKeys.length = 0;

    const outcomes = await sut.expireMany([...due.map((o) => o.id), later.id, deleted.id, unknown]);

    for (const o of due) {
      expect(outcomes.get(o.id)).toEqual({ status: 'done' });
      expect(await row(o.id)).toEqual({ state: 'DELETED', purge_pending: false, version: 2 });
      expect(await eventsOf(o.id)).toEqual(['created@1', 'expired@2']);
    }
    expect(deletedKeys).toHaveLength(1); // one S3 request for the batch
    expect(deletedKeys[0]).toHaveLength(3);
    // Their upload URLs are still valid: the bytes are removed once more when those have expired.
    const late = await dataSource.query<{ id: string; late_purge_at_ms: string }[]>(
      `SELECT id, late_purge_at_ms FROM objects WHERE id = ANY($1)`,
      [due.map((o) => o.id)],
    );
    for (const l of late) {
      const created = due.find((o) => o.id === l.id)!.create_time_ms;
      expect(Number(l.late_purge_at_ms)).toBe(created + 3_660_000);
    }

    expect(outcomes.get(later.id)).toEqual({
      status: 'later',
      retryAt: later.delete_after_time_ms,
    });
    expect(await row(later.id)).toMatchObject({ state: 'UPLOADING', version: 1 });
    expect(outcomes.get(deleted.id)).toEqual({ status: 'done' });
    expect(await eventsOf(deleted.id)).toEqual(['created@1', 'deleted@2']);
    expect(outcomes.get(unknown)).toEqual({ status: 'done' });

    // A second run (a duplicate job) changes nothing.
    await sut.expireMany(due.map((o) => o.id));
    for (const o of due) expect(await eventsOf(o.id)).toEqual(['created@1', 'expired@2']);
  });

  it('should keep the object DELETED with its bytes to purge when S3 refuses, and purge on retry', async () => {
    const o = await create(1);
    await waitFor('the deadline to pass', () => Date.now() > o.delete_after_time_ms!);
    deleteFails = true;
    const failed = await sut.expireMany([o.id]);
    expect(failed.get(o.id)).toMatchObject({ status: 'failed' });
    expect(await row(o.id)).toEqual({ state: 'DELETED', purge_pending: true, version: 2 });

    deleteFails = false;
    const retried = await sut.expireMany([o.id]);
    expect(retried.get(o.id)).toEqual({ status: 'done' });
    expect(await row(o.id)).toEqual({ state: 'DELETED', purge_pending: false, version: 2 });
    expect(await eventsOf(o.id)).toEqual(['created@1', 'expired@2']);
  });

  it('should remove the bytes of deleted objects once more when their upload URL has expired', async () => {
    const o = await create(null);
    await sut.delete(ORG, o.id, actor);
    expect(await sut.latePurgeDue(1_000)).toBe(0); // its URL is valid for another hour
    await dataSource.query(`UPDATE objects SET late_purge_at_ms = 1 WHERE id = $1`, [o.id]);
    deletedKeys.length = 0;
    expect(await sut.latePurgeDue(1_000)).toBe(1);
    const [{ object_key }] = await dataSource.query<{ object_key: string }[]>(
      `SELECT object_key FROM objects WHERE id = $1`,
      [o.id],
    );
    expect(deletedKeys).toEqual([[object_key]]);
    expect(await sut.latePurgeDue(1_000)).toBe(0);
  });

  it('should purge a completed object at once and never late: no upload URL names its key', async () => {
    const o = await create(null);
    const keyOf = async () =>
      (
        await dataSource.query<{ object_key: string; late_purge_at_ms: string | null }[]>(
          `SELECT object_key, late_purge_at_ms FROM objects WHERE id = $1`,
          [o.id],
        )
      )[0];
    const uploadKey = (await keyOf()).object_key;
    deletedKeys.length = 0;
    await sut.complete(ORG, o.id, actor);
    const completed = await keyOf();
    expect(completed.object_key).not.toBe(uploadKey);
    expect(deletedKeys).toEqual([[uploadKey]]); // the upload's bytes, now a copy's
    deletedKeys.length = 0;
    await sut.delete(ORG, o.id, actor);
    expect(deletedKeys).toEqual([[completed.object_key]]);
    expect((await keyOf()).late_purge_at_ms).toBeNull();
  });

  it('should not expire an object without a deadline', async () => {
    const o = await create(null);
    expect((await sut.expireMany([o.id])).get(o.id)).toEqual({ status: 'done' });
    expect(await row(o.id)).toMatchObject({ state: 'UPLOADING' });
  });
});
