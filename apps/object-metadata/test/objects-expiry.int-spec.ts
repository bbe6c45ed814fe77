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

// TTL expiry (the TTL sweeper's batches) against a real Postgres: what turns DELETED and in which order, the
// events it writes, the bytes it removes, rows another transaction holds, and what happens when S3 refuses.
describe(`${ObjectsService.name} (expiry)`, () => {
  let close: () => Promise<void>;
  let dataSource: DataSource;
  let sut: ObjectsService;
  let deleteFails = false;
  const deletedKeys: string[][] = [];
  const scheduledPurges: string[] = [];

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
      schedulePurges: (ids: string[]) => {
        scheduledPurges.push(...ids);
        return Promise.resolve();
      },
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

  const keysOf = async (ids: string[]) =>
    (
      await dataSource.query<{ object_key: string }[]>(
        `SELECT object_key FROM objects WHERE id = ANY($1) ORDER BY delete_after_time_ms`,
        [ids],
      )
    ).map((r) => r.object_key);

  it('should expire what is due, most overdue first, a batch at a time, and leave everything else', async () => {
    const due = [await create(1), await create(1), await create(1)];
    const later = await create(3_600_000);
    const noDeadline = await create(null);
    const deleted = await create(1);
    await sut.delete(ORG, deleted.id, actor);
    await waitFor('the 1 ms deadlines to pass', () => Date.now() > due[2].delete_after_time_ms!);
    deletedKeys.length = 0;

    expect(await sut.expireDue(2)).toBe(2);
    expect(deletedKeys).toEqual([await keysOf([due[0].id, due[1].id])]); // one S3 request per batch
    expect(await sut.expireDue(1_000)).toBe(1);
    expect(deletedKeys[1]).toEqual(await keysOf([due[2].id]));
    for (const o of due) {
      expect(await row(o.id)).toEqual({ state: 'DELETED', purge_pending: false, version: 2 });
      expect(await eventsOf(o.id)).toEqual(['created@1', 'expired@2']);
    }
    // Their upload URLs are still valid: the bytes are removed once more when those have expired.
    const late = await dataSource.query<{ id: string; late_purge_at_ms: string }[]>(
      `SELECT id, late_purge_at_ms FROM objects WHERE id = ANY($1)`,
      [due.map((o) => o.id)],
    );
    for (const l of late) {
      const created = due.find((o) => o.id === l.id)!.create_time_ms;
      expect(Number(l.late_purge_at_ms)).toBe(created + 3_660_000);
    }
    expect(await row(later.id)).toMatchObject({ state: 'UPLOADING', version: 1 });
    expect(await row(noDeadline.id)).toMatchObject({ state: 'UPLOADING', version: 1 });
    expect(await eventsOf(deleted.id)).toEqual(['created@1', 'deleted@2']);

    // The next sweep finds nothing and changes nothing.
    expect(await sut.expireDue(1_000)).toBe(0);
    for (const o of due) expect(await eventsOf(o.id)).toEqual(['created@1', 'expired@2']);
  });

  it('should skip a due object another transaction holds, and expire it once it is free', async () => {
    const o = await create(1);
    await waitFor('the deadline to pass', () => Date.now() > o.delete_after_time_ms!);
    const holder = dataSource.createQueryRunner();
    await holder.connect();
    try {
      await holder.startTransaction();
      await holder.query(`SELECT id FROM objects WHERE id = $1 FOR UPDATE`, [o.id]);
      expect(await sut.expireDue(1_000)).toBe(0); // not waited for
      await holder.commitTransaction();
    } finally {
      await holder.release();
    }
    expect(await sut.expireDue(1_000)).toBe(1);
    expect(await eventsOf(o.id)).toEqual(['created@1', 'expired@2']);
  });

  it('should keep the object DELETED with its bytes to purge when S3 refuses, and hand them to a purge job', async () => {
    const o = await create(1);
    await waitFor('the deadline to pass', () => Date.now() > o.delete_after_time_ms!);
    deleteFails = true;
    scheduledPurges.length = 0;
    expect(await sut.expireDue(1_000)).toBe(1);
    expect(await row(o.id)).toEqual({ state: 'DELETED', purge_pending: true, version: 2 });
    expect(scheduledPurges).toEqual([o.id]);

    deleteFails = false;
    await sut.purgeByIds([o.id]);
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
});
