import { randomUUID } from 'node:crypto';
import {
  OBJECT_CONTENT_TYPES,
  ObjectListParams,
  type ObjectContentType,
  type ObjectListView,
  type ObjectState,
} from '@lib/contracts';
import { OutboxWriter } from '@lib/events';
import { DataSource } from 'typeorm';
import { ObjectBytesService, type StoredFileRef } from '../src/bytes/object-bytes.service';
import { newObjectId } from '../src/objects/object-ids';
import { ObjectsRepository } from '../src/objects/objects.repository';
import { ObjectsService } from '../src/objects/objects.service';
import { OrgQuotasRepository } from '../src/quotas/org-quotas.repository';
import { StorageQuotas } from '../src/quotas/storage-quotas.service';
import { TtlScheduler } from '../src/ttl/ttl-scheduler.service';
import { OBJECTS_CONFIG, objectMetadataDatabase } from './object-metadata-database';

interface Row {
  id: string;
  orgId: string;
  name: string;
  contentType: ObjectContentType;
  state: ObjectState;
  isPublic: boolean;
  metadata: Record<string, string> | null;
}

const ORG_A = randomUUID();
const ORG_B = randomUUID();
const PER_ORG = { [ORG_A]: 1_200, [ORG_B]: 300 };
const NAMES = ['Alpha', 'beta', 'GAMMA', 'delta_x', '50%off'];
const STATES: ObjectState[] = ['UPLOADING', 'READ_ONLY', 'READ_ONLY', 'ERROR', 'DELETED'];

/** A strict double: any method the test did not plan for fails the test. */
function strict<T>(impl: Partial<T>, name: string): T {
  return new Proxy(impl, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof T];
      if (prop === 'then') return undefined;
      throw new Error(`${name}.${String(prop)} was not expected`);
    },
  }) as T;
}

/** What a correct listing answers, computed over the model with plain JS. */
function expected(rows: Row[], scope: { orgId: string } | 'public', p: ObjectListParams): Row[] {
  const contains = (text: string, part: string) => text.toLowerCase().includes(part.toLowerCase());
  return rows
    .filter((r) => (scope === 'public' ? r.isPublic : r.orgId === scope.orgId))
    .filter((r) => (p.state === undefined ? r.state !== 'DELETED' : r.state === p.state))
    .filter((r) => p.content_type === undefined || r.contentType === p.content_type)
    .filter((r) => p.name === undefined || contains(r.name, p.name))
    .filter((r) => p.search === undefined || r.id === p.search || contains(r.name, p.search))
    .sort((a, b) => (a.id < b.id ? 1 : -1));
}

// The list operations over 1,500 objects in a real Postgres: keyset pages under concurrent writes,
// every filter and their combinations against a model, exact has_more and total_count.
describe(`${ObjectsService.name} (list)`, () => {
  let close: () => Promise<void>;
  let dataSource: DataSource;
  let sut: ObjectsService;
  const rows: Row[] = [];
  const deletedBytes: string[] = [];

  const list = (scope: { orgId: string } | 'public', params: ObjectListParams) =>
    sut.list(scope === 'public' ? { published: true } : scope, params);

  /** Every page of a listing, following `starting_after`, checking each page's has_more. */
  async function walk(
    scope: { orgId: string } | 'public',
    params: ObjectListParams,
    between?: () => Promise<void>,
  ) {
    const pages: ObjectListView[] = [];
    let cursor: string | undefined;
    for (;;) {
      const [page] = await Promise.all([
        list(scope, { ...params, starting_after: cursor }),
        between?.(),
      ]);
      pages.push(page);
      if (!page.has_more) break;
      cursor = page.objects[page.objects.length - 1].id;
      if (pages.length > 1_000) throw new Error('no end to the pages');
    }
    return pages;
  }

  beforeAll(async () => {
    ({ dataSource, close } = await objectMetadataDatabase('om_list'));
    const bytes = strict<ObjectBytesService>(
      {
        uploadUrl: () => 'http://s3.test/upload',
        delete: ({ objectKey }: StoredFileRef) => {
          deletedBytes.push(objectKey);
          return Promise.resolve();
        },
      },
      'bytes',
    );
    const ttl = strict<TtlScheduler>({}, 'ttl');
    sut = new ObjectsService(
      new ObjectsRepository(dataSource),
      new OutboxWriter({ source: '/object-metadata-test' }),
      bytes,
      ttl,
      new StorageQuotas(new OrgQuotasRepository(dataSource)),
      OBJECTS_CONFIG,
    );

    // Seeded in one statement: ids are time-ordered, as the service makes them.
    for (const [orgId, count] of Object.entries(PER_ORG)) {
      for (let i = 0; i < count; i++) {
        const state = STATES[i % STATES.length];
        rows.push({
          id: newObjectId(),
          orgId,
          name: `${NAMES[i % NAMES.length]}-${i}.bin`,
          contentType: OBJECT_CONTENT_TYPES[i % OBJECT_CONTENT_TYPES.length],
          state,
          isPublic: i % 7 === 0 && state !== 'DELETED',
          metadata:
            state === 'DELETED'
              ? { legacy: 'yes', bucket: 'gone' }
              : { bucket: `b${i % 4}`, ...(i % 2 ? { parity: 'odd' } : {}) },
        });
      }
    }
    await dataSource.query(
      `INSERT INTO objects (id, org_id, org_key, name, content_type, state, metadata, object_key,
         create_time_ms, is_public, purge_pending, version)
       SELECT r.id, r.org_id, 'org', r.name, r.content_type, r.state, r.metadata, 'key/' || r.id,
         0, r.is_public, false, 1
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, org_id uuid, name text, content_type text,
         state text, metadata jsonb, is_public boolean)`,
      [
        JSON.stringify(
          rows.map((r) => ({
            id: r.id,
            org_id: r.orgId,
            name: r.name,
            content_type: r.contentType,
            state: r.state,
            metadata: r.metadata,
            is_public: r.isPublic,
          })),
        ),
      ],
    );
  });

  afterAll(() => close?.());

  it('should page through every live object exactly once while others are created and deleted', async () => {
    const orgA = { orgId: ORG_A };
    const snapshot = expected(rows, orgA, {}).map((r) => r.id);
    expect(snapshot.length).toBeGreaterThanOrEqual(900);
    const created: string[] = [];
    const deleted = new Set<string>();
    const actor = { type: 'system' as const, id: 'test' };
    let round = 0;
    // Concurrently with each page read: three creates and two deletes, one of an object the walk has
    // not reached yet (spread over the snapshot) and one anywhere.
    const mutate = async () => {
      round++;
      for (let i = 0; i < 3; i++) {
        const o = await sut.create(
          { name: `concurrent-${round}-${i}`, content_type: 'text' },
          { orgId: ORG_A, orgKey: 'org-a', userId: null, role: null, actor, workflowId: null },
        );
        created.push(o.id);
      }
      for (const index of [(round * 29) % snapshot.length, (round * 61 + 7) % snapshot.length]) {
        const id = snapshot[index];
        if (deleted.has(id)) continue;
        deleted.add(id);
        await sut.delete(ORG_A, id, actor);
      }
    };
    const deletedBefore = new Map<string, number>(); // id → index of the first page read after it

    const pages: ObjectListView[] = [];
    let cursor: string | undefined;
    for (;;) {
      for (const id of deleted) if (!deletedBefore.has(id)) deletedBefore.set(id, pages.length);
      const [page] = await Promise.all([
        list(orgA, { limit: 37, starting_after: cursor, include_total_count: false }),
        mutate(),
      ]);
      pages.push(page);
      if (!page.has_more) break;
      cursor = page.objects[page.objects.length - 1].id;
    }

    const seen = pages.flatMap((p) => p.objects.map((o) => o.id));
    expect(new Set(seen).size).toBe(seen.length); // no duplicates
    expect([...seen].sort().reverse()).toEqual(seen); // newest first throughout
    // No gaps: every object that existed at the start and was never deleted was listed.
    const survivors = snapshot.filter((id) => !deleted.has(id));
    expect(survivors.filter((id) => !seen.includes(id))).toEqual([]);
    // Nothing deleted before a page was read shows up in that page or later ones.
    pages.forEach((page, index) => {
      for (const o of page.objects) {
        const deletedAt = deletedBefore.get(o.id);
        expect(deletedAt === undefined || deletedAt > index).toBe(true);
      }
    });
    // Only the snapshot and what was created during the walk can appear.
    const known = new Set([...snapshot, ...created]);
    expect(seen.filter((id) => !known.has(id))).toEqual([]);
    expect(pages.length).toBeGreaterThan(20);
    expect(deleted.size).toBeGreaterThan(20);
    expect(deletedBytes.length).toBe(deleted.size);

    // Bring the model up to date for the tests below.
    for (const r of rows) if (deleted.has(r.id)) r.state = 'DELETED';
    for (const r of rows) if (deleted.has(r.id)) r.isPublic = false;
    const view = await list(orgA, { limit: 5000, name: 'concurrent-' });
    for (const o of view.objects) {
      rows.push({
        id: o.id,
        orgId: ORG_A,
        name: o.name,
        contentType: 'text',
        state: 'UPLOADING',
        isPublic: false,
        metadata: null,
      });
    }
  });

  const filters: [string, ObjectListParams][] = [
    ['no filter', {}],
    ['a name, case-insensitive', { name: 'ALPHA' }],
    ['a name in lower case', { name: 'gamma-1' }],
    ['a name with a literal %', { name: '%' }],
    ['a name with a literal _', { name: '_' }],
    ['a name that matches nothing', { name: 'zzz' }],
    ['a content type', { content_type: 'gzip' }],
    ['state DELETED', { state: 'DELETED' }],
    ['state READ_ONLY', { state: 'READ_ONLY' }],
    ['state ERROR', { state: 'ERROR' }],
    ['a search by name', { search: 'Beta-1' }],
    ['name, content type and state', { name: 'beta', content_type: 'text', state: 'READ_ONLY' }],
    ['search and state', { search: 'delta', state: 'ERROR' }],
    ['content type and state DELETED', { content_type: 'tar', state: 'DELETED' }],
  ];

  it.each(filters)('should list exactly the model with %s, and count it', async (_what, params) => {
    const page = await list({ orgId: ORG_A }, { ...params, limit: 5000 });
    const want = expected(rows, { orgId: ORG_A }, params);
    expect(page.objects.map((o) => o.id)).toEqual(want.map((r) => r.id));
    expect(page.total_count).toBe(want.length);
    expect(page.has_more).toBe(false);
  });

  it('should find one object by its id with search, in any case', async () => {
    const target = rows.find((r) => r.orgId === ORG_A && r.state === 'READ_ONLY')!;
    for (const search of [target.id, target.id.toUpperCase()]) {
      const page = await list({ orgId: ORG_A }, { search });
      expect(page.objects.map((o) => o.id)).toEqual([target.id]);
    }
    // Another org's id finds nothing.
    const foreign = rows.find((r) => r.orgId === ORG_B)!;
    expect((await list({ orgId: ORG_A }, { search: foreign.id })).objects).toEqual([]);
  });

  it.each(filters.slice(0, 12))(
    'should walk the pages of %s to the same result, with has_more exact on each page',
    async (_what, params) => {
      const pages = await walk({ orgId: ORG_A }, { ...params, limit: 50 });
      const want = expected(rows, { orgId: ORG_A }, params).map((r) => r.id);
      expect(pages.flatMap((p) => p.objects.map((o) => o.id))).toEqual(want);
      expect(pages.length).toBe(Math.max(1, Math.ceil(want.length / 50)));
      pages.forEach((p, i) => expect(p.has_more).toBe(i < pages.length - 1));
    },
  );

  it('should answer has_more exactly at the boundary and skip the count when asked', async () => {
    const total = expected(rows, { orgId: ORG_A }, { content_type: 'binary' }).length;
    const exact = await list({ orgId: ORG_A }, { content_type: 'binary', limit: total });
    expect(exact.objects).toHaveLength(total);
    expect(exact.has_more).toBe(false);
    const short = await list({ orgId: ORG_A }, { content_type: 'binary', limit: total - 1 });
    expect(short.objects).toHaveLength(total - 1);
    expect(short.has_more).toBe(true);
    const uncounted = await list({ orgId: ORG_A }, { limit: 5, include_total_count: false });
    expect(uncounted).not.toHaveProperty('total_count');
    expect(uncounted.objects).toHaveLength(5);
  });

  it('should answer 20 objects by default', async () => {
    const page = await list({ orgId: ORG_B }, {});
    expect(page.objects).toHaveLength(20);
    expect(page.has_more).toBe(true);
    expect(page.total_count).toBe(expected(rows, { orgId: ORG_B }, {}).length);
  });

  it('should list the published objects of every org, never DELETED ones, with the filters', async () => {
    for (const params of [{}, { name: 'beta' }, { state: 'DELETED' as const }]) {
      const pages = await walk('public', { ...params, limit: 40 });
      const want = expected(rows, 'public', params).map((r) => r.id);
      expect(pages.flatMap((p) => p.objects.map((o) => o.id))).toEqual(want);
    }
    const all = expected(rows, 'public', {});
    expect(new Set(all.map((r) => r.orgId))).toEqual(new Set([ORG_A, ORG_B]));
  });

  it("should answer the distinct metadata keys and values of the org's live objects", async () => {
    expect(await sut.metadataKeys(ORG_A)).toEqual({ keys: ['bucket', 'parity'] });
    expect(await sut.metadataValues(ORG_A, 'bucket')).toEqual({
      key: 'bucket',
      values: ['b0', 'b1', 'b2', 'b3'],
    });
    expect(await sut.metadataValues(ORG_A, 'legacy')).toEqual({ key: 'legacy', values: [] });
    expect(await sut.metadataKeys(randomUUID())).toEqual({ keys: [] });
  });
});
