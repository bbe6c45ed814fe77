import { randomUUID } from 'node:crypto';
import {
  OBJECT_CONTENT_TYPES,
  OBJECT_STATES,
  type ObjectContentType,
  type ObjectState,
  type ServicePrincipal,
} from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { OutboxWriter } from '@lib/events';
import type { TestDatabase } from '@lib/testing';
import { waitFor } from '@lib/testing';
import { DataSource } from 'typeorm';
import type { ObjectBytesService } from '../src/bytes/object-bytes.service';
import { OBJECT_METADATA_SCHEMA } from '../src/database/migrations';
import { ObjectCounts1768500000000 } from '../src/database/migrations/1768500000000-object-counts';
import { ObjectCountsCompactor } from '../src/objects/object-counts-compactor.service';
import { type ListScope, ObjectsRepository } from '../src/objects/objects.repository';
import { ObjectsService } from '../src/objects/objects.service';
import { OrgQuotasRepository } from '../src/quotas/org-quotas.repository';
import { StorageQuotas } from '../src/quotas/storage-quotas.service';
import type { TtlScheduler } from '../src/ttl/ttl-scheduler.service';
import { OBJECTS_CONFIG, objectMetadataDatabase } from './object-metadata-database';

const ORG_A = randomUUID();
const ORG_B = randomUUID();
const actor = { type: 'system' as const, id: 'test' };
const principal = (orgId: string): ServicePrincipal => ({
  orgId,
  orgKey: `key-${orgId}`,
  userId: null,
  role: null,
  actor,
  workflowId: null,
});

// total_count without name/search is a sum over object_counts, which statement triggers on objects append
// to: after every kind of write, and under concurrent batched writes with compactions in between, it
// must equal count(*) of the rows, for each scope, state and content type.
describe(`${ObjectsRepository.name} (recorded counts)`, () => {
  let close: () => Promise<void>;
  let db: TestDatabase;
  let dataSource: DataSource;
  let repo: ObjectsRepository;
  let sut: ObjectsService;
  let compactor: ObjectCountsCompactor;

  /** Groups whose recorded sum differs from the number of rows they have (none when exact). */
  const mismatches = () =>
    dataSource.query<unknown[]>(
      `SELECT org_id, is_public, state, content_type, r.n AS recorded, a.n AS actual
       FROM (SELECT org_id, is_public, state, content_type, sum(delta)::int AS n FROM object_counts
             GROUP BY org_id, is_public, state, content_type) r
       FULL JOIN (SELECT org_id, is_public, state, content_type, count(*)::int AS n FROM objects
                  GROUP BY org_id, is_public, state, content_type) a
         USING (org_id, is_public, state, content_type)
       WHERE coalesce(r.n, 0) <> coalesce(a.n, 0)`,
    );

  /**
   * `count` for each scope (these orgs, list_public), state (none: all but DELETED) and content type (or
   * none), against a count of the rows; returns how many objects the orgs have in all, to show the check
   * was not vacuous.
   */
  async function expectCountsExact(orgs: string[]): Promise<number> {
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    const scopes: ListScope[] = [...orgs.map((orgId) => ({ orgId })), { published: true }];
    for (const scope of scopes) {
      for (const state of [undefined, ...OBJECT_STATES]) {
        for (const contentType of [undefined, ...OBJECT_CONTENT_TYPES]) {
          const label = `${'orgId' in scope ? scope.orgId : 'public'} ${state} ${contentType}`;
          got[label] = await repo.count(scope, { state, contentType });
          const [row] = await dataSource.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM objects
             WHERE CASE WHEN $1::uuid IS NULL THEN is_public ELSE org_id = $1 END
               AND CASE WHEN $2::text IS NULL THEN state <> 'DELETED' ELSE state = $2 END
               AND ($3::text IS NULL OR content_type = $3)`,
            ['orgId' in scope ? scope.orgId : null, state ?? null, contentType ?? null],
          );
          want[label] = row.n;
        }
      }
    }
    expect(got).toEqual(want);
    expect(await mismatches()).toEqual([]);
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM objects WHERE org_id = ANY($1)`,
      [orgs],
    );
    return n;
  }

  /** Groups with more than one row in object_counts. */
  const uncompacted = async () =>
    (
      await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM (
           SELECT 1 FROM object_counts GROUP BY org_id, is_public, state, content_type
           HAVING count(*) > 1 OR sum(delta) = 0) g`,
      )
    )[0].n;

  const recordedRows = async () =>
    (await dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM object_counts`))[0].n;

  const create = async (orgId: string, contentType: ObjectContentType, ttlMs?: number) => ({
    ...(await sut.create(
      { name: 'n', content_type: contentType, ttl_ms: ttlMs },
      principal(orgId),
    )),
    orgId,
  });

  beforeAll(async () => {
    ({ db, dataSource, close } = await objectMetadataDatabase('om_counts'));
    const bytes = {
      uploadUrl: () => 'http://s3.test/upload',
      copy: () => Promise.resolve({ sizeBytes: 3, etag: '"e"' }),
      delete: () => Promise.resolve(),
      deleteMany: () => Promise.resolve(),
    };
    const ttl = { schedulePurges: () => Promise.resolve() };
    repo = new ObjectsRepository(dataSource);
    sut = new ObjectsService(
      repo,
      new OutboxWriter({ source: '/object-metadata-test' }),
      bytes as unknown as ObjectBytesService,
      ttl as unknown as TtlScheduler,
      new StorageQuotas(new OrgQuotasRepository(dataSource)),
      OBJECTS_CONFIG,
    );
    compactor = new ObjectCountsCompactor(repo);
  });

  afterAll(() => close?.());

  it('should count exactly after creates, batched creates, completes, publishes, deletes, expiry and hard deletes', async () => {
    expect(await expectCountsExact([ORG_A, ORG_B])).toBe(0);

    // One at a time, then 120 at once (the service inserts them in a few multi-row statements).
    for (const type of OBJECT_CONTENT_TYPES) await create(ORG_A, type);
    const batch = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        create(i % 3 ? ORG_A : ORG_B, OBJECT_CONTENT_TYPES[i % OBJECT_CONTENT_TYPES.length]),
      ),
    );
    expect(await expectCountsExact([ORG_A, ORG_B])).toBe(126);

    for (const o of batch.slice(0, 40)) await sut.complete(o.orgId, o.id, actor);
    await expectCountsExact([ORG_A, ORG_B]);

    for (const o of batch.slice(30, 60)) await sut.setPublic(o.orgId, o.id, true);
    for (const o of batch.slice(30, 40)) await sut.setPublic(o.orgId, o.id, false);
    expect(await repo.count({ published: true }, {})).toBe(20);
    await expectCountsExact([ORG_A, ORG_B]);

    // Deleting unpublishes too; deleting again changes nothing.
    for (const o of batch.slice(35, 50)) await sut.delete(o.orgId, o.id, actor);
    await sut.delete(batch[40].orgId, batch[40].id, actor);
    expect(await repo.count({ published: true }, {})).toBe(10);
    await expectCountsExact([ORG_A, ORG_B]);

    // TTL expiry: one statement turns a batch DELETED.
    const expiring = await Promise.all(
      Array.from({ length: 12 }, (_, i) => create(i % 2 ? ORG_A : ORG_B, 'gzip', 1)),
    );
    await expectCountsExact([ORG_A, ORG_B]);
    await waitFor('the 1 ms deadlines to pass', () =>
      expiring.every((o) => Date.now() > o.delete_after_time_ms!),
    );
    expect(await sut.expireDue(1_000)).toBe(12);
    expect(await repo.count({ orgId: ORG_A }, { state: 'DELETED', contentType: 'gzip' })).toBe(6);
    await expectCountsExact([ORG_A, ORG_B]);

    // Updates that move no object between groups record nothing: purge and late purge bookkeeping.
    const before = await recordedRows();
    await dataSource.query(`UPDATE objects SET late_purge_at_ms = 1 WHERE state = 'DELETED'`);
    expect(await sut.latePurgeDue(1_000)).toBeGreaterThan(0);
    expect(await recordedRows()).toBe(before);

    // Multi-row updates and hard deletes by hand, across orgs and groups.
    await dataSource.query(
      `UPDATE objects SET state = 'ERROR' WHERE state = 'UPLOADING' AND content_type IN ('text', 'tar')`,
    );
    await expectCountsExact([ORG_A, ORG_B]);
    await dataSource.query(
      `UPDATE objects SET content_type = 'binary', is_public = NOT is_public
       WHERE content_type = 'tgz' AND state <> 'DELETED'`,
    );
    await expectCountsExact([ORG_A, ORG_B]);
    await dataSource.query(
      `DELETE FROM objects WHERE state IN ('ERROR', 'DELETED') AND org_id = $1`,
      [ORG_B],
    );
    const total = await expectCountsExact([ORG_A, ORG_B]);
    expect(total).toBeGreaterThan(100);
    expect(total).toBeLessThan(138);

    // The listing answers the same total_count.
    for (const params of [
      {},
      { state: 'ERROR' as ObjectState },
      { content_type: 'binary' as const },
    ]) {
      const page = await sut.list({ orgId: ORG_A }, { ...params, limit: 1 });
      expect(page.total_count).toBe(
        await repo.count(
          { orgId: ORG_A },
          { state: params.state, contentType: params.content_type },
        ),
      );
    }
  });

  it('should fold each group into one row when compacted, dropping groups that sum to zero', async () => {
    const [{ zero }] = await dataSource.query<{ zero: number }[]>(
      `SELECT count(*)::int AS zero FROM (
         SELECT 1 FROM object_counts GROUP BY org_id, is_public, state, content_type
         HAVING sum(delta) = 0) g`,
    );
    expect(zero).toBeGreaterThan(0); // e.g. ORG_B's DELETED objects, all hard-deleted
    expect(await uncompacted()).toBeGreaterThan(0);
    const rowsBefore = await recordedRows();

    const removed = await compactor.compact();

    expect(removed).toBeGreaterThan(0);
    expect(await uncompacted()).toBe(0);
    expect(await recordedRows()).toBeLessThan(rowsBefore);
    await expectCountsExact([ORG_A, ORG_B]);
    // One row per group with a non-zero count: nothing left to fold.
    expect(await compactor.compact()).toBe(0);
    expect(await repo.compactCounts(1_000)).toEqual({ groups: 0, removed: 0, written: 0 });
  });

  it('should compact a few groups at a time, the largest first', async () => {
    const org = randomUUID();
    for (let i = 0; i < 5; i++) await create(org, 'text');
    for (let i = 0; i < 3; i++) await create(org, 'tar');
    await create(org, 'tgz');

    expect(await repo.compactCounts(1)).toEqual({ groups: 1, removed: 5, written: 1 });
    expect(await repo.compactCounts(1)).toEqual({ groups: 1, removed: 3, written: 1 });
    expect(await repo.compactCounts(1)).toEqual({ groups: 0, removed: 0, written: 0 });
    expect(await repo.count({ orgId: org }, {})).toBe(9);
    await expectCountsExact([org]);
  });

  it('should stay exact without a deadlock while 8 connections write batches of one org and compactions run', async () => {
    const org = randomUUID();
    // A second replica's compactor, on connections of its own.
    const replica = new DataSource(
      dataSourceOptions({ url: db.url, schema: OBJECT_METADATA_SCHEMA, entities: [] }),
    );
    await replica.initialize();
    const compactors = [compactor, new ObjectCountsCompactor(new ObjectsRepository(replica))];
    let writing = true;
    let compacted = 0;
    const compacting = compactors.map(async (c) => {
      while (writing) {
        compacted += await c.compact();
        await new Promise(setImmediate);
      }
    });

    // Each transaction inserts 20 objects over every content type (starting at a different one each time),
    // then moves 15 of this writer's objects to random groups in random order, and every fifth deletes
    // 5: the counter rows of a row-trigger design would be locked in a different order by each.
    const writer = async (w: number) => {
      for (let s = 0; s < 50; s++) {
        await dataSource.transaction(async (m) => {
          await m.query(
            `INSERT INTO objects (id, org_id, org_key, name, content_type, state, object_key,
               create_time_ms, is_public, purge_pending, version)
             SELECT format('obj_w%s_%s_%s', $2::int, $3::int, g), $1, 'org', 'n',
               (ARRAY['unspecified', 'text', 'binary', 'gzip', 'tar', 'tgz'])[1 + (g + $3 + $2) % 6],
               CASE WHEN g % 3 = 0 THEN 'READ_ONLY' ELSE 'UPLOADING' END,
               format('k/w%s_%s_%s', $2::int, $3::int, g), 0, g % 4 = 0, false, 1
             FROM generate_series(1, 20) AS g`,
            [org, w, s],
          );
          await m.query(
            `UPDATE objects SET
               state = (ARRAY['UPLOADING', 'READ_ONLY', 'ERROR', 'DELETED'])[1 + floor(random() * 4)::int],
               content_type = (ARRAY['text', 'binary', 'gzip'])[1 + floor(random() * 3)::int],
               is_public = random() < 0.3
             WHERE id IN (SELECT id FROM objects WHERE org_id = $1 AND starts_with(id, $2)
                          ORDER BY random() LIMIT 15)`,
            [org, `obj_w${w}_`],
          );
          if (s % 5 === 4) {
            await m.query(
              `DELETE FROM objects WHERE id IN (SELECT id FROM objects
                 WHERE org_id = $1 AND starts_with(id, $2) ORDER BY random() LIMIT 5)`,
              [org, `obj_w${w}_`],
            );
          }
        });
      }
    };
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, w) => writer(w)));
    writing = false;
    await Promise.all(compacting);
    await replica.destroy();

    expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
    expect(compacted).toBeGreaterThan(0); // compactions ran between the writes
    expect(await expectCountsExact([org])).toBe(8 * 50 * 20 - 8 * 10 * 5);
    await compactor.compact();
    expect(await uncompacted()).toBe(0);
    await expectCountsExact([org]);
  });

  it('should count writes made on another search path', async () => {
    const org = randomUUID();
    const runner = dataSource.createQueryRunner();
    try {
      await runner.query(`SET search_path TO public`);
      await runner.query(
        `INSERT INTO ${OBJECT_METADATA_SCHEMA}.objects (id, org_id, org_key, name, content_type,
           state, object_key, create_time_ms)
         SELECT 'obj_path_' || g, $1, 'org', 'n', 'tar', 'READ_ONLY', 'path/' || g, 0
         FROM generate_series(1, 7) AS g`,
        [org],
      );
      await runner.query(
        `UPDATE ${OBJECT_METADATA_SCHEMA}.objects SET state = 'ERROR' WHERE id = 'obj_path_1'`,
      );
    } finally {
      await runner.query(`RESET search_path`);
      await runner.release();
    }
    expect(await repo.count({ orgId: org }, { contentType: 'tar' })).toBe(7);
    expect(await repo.count({ orgId: org }, { state: 'ERROR' })).toBe(1);
    await expectCountsExact([org]);
  });

  it('should fill the counts from the rows as they are when the migration runs', async () => {
    const orgs = await dataSource.query<{ org_id: string }[]>(
      `SELECT DISTINCT org_id FROM objects`,
    );
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await new ObjectCounts1768500000000().down(runner);
      await new ObjectCounts1768500000000().up(runner);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect(await uncompacted()).toBe(0);
    expect(await expectCountsExact(orgs.map((o) => o.org_id))).toBeGreaterThan(3_000);
    // The triggers are back.
    await create(ORG_A, 'text');
    await expectCountsExact([ORG_A]);
  });

  it('should empty the counts with the objects on TRUNCATE', async () => {
    await dataSource.query(`TRUNCATE objects`);
    expect(await recordedRows()).toBe(0);
    expect(await expectCountsExact([ORG_A, ORG_B])).toBe(0);
    await create(ORG_B, 'binary');
    expect(await expectCountsExact([ORG_A, ORG_B])).toBe(1);
  });
});
