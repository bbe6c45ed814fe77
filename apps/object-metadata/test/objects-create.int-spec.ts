import { randomUUID } from 'node:crypto';
import type { ServicePrincipal } from '@lib/contracts';
import { OutboxWriter } from '@lib/events';
import { DataSource } from 'typeorm';
import { ObjectBytesService } from '../src/bytes/object-bytes.service';
import { ObjectsRepository } from '../src/objects/objects.repository';
import { ObjectsService } from '../src/objects/objects.service';
import { OrgQuotasRepository } from '../src/quotas/org-quotas.repository';
import { StorageQuotas } from '../src/quotas/storage-quotas.service';
import { TtlScheduler } from '../src/ttl/ttl-scheduler.service';
import { OBJECTS_CONFIG, objectMetadataDatabase } from './object-metadata-database';

const ORG = randomUUID();
const principal: ServicePrincipal = {
  orgId: ORG,
  orgKey: 'org-a',
  userId: null,
  role: null,
  actor: { type: 'api_key', id: 'key-1' },
  workflowId: null,
};

// Concurrent creates share transactions (ObjectsService batches them): every caller still gets its own
// object, and every object commits with exactly its own `created` event.
describe(`${ObjectsService.name} (create)`, () => {
  let close: () => Promise<void>;
  let dataSource: DataSource;
  let sut: ObjectsService;

  beforeAll(async () => {
    ({ dataSource, close } = await objectMetadataDatabase('om_create'));
    const bytes = { uploadUrl: (key: string) => `http://s3.test/${key}` };
    const ttl = {}; // creates never touch the queue: TTL deadlines stay in Postgres
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

  it('should give each of 300 concurrent creates its own row and its own created event', async () => {
    const views = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        sut.create(
          { name: `file-${i}.txt`, content_type: 'text', metadata: { i: String(i) } },
          principal,
        ),
      ),
    );

    expect(new Set(views.map((v) => v.id)).size).toBe(300);
    views.forEach((v, i) => {
      expect(v).toMatchObject({
        name: `file-${i}.txt`,
        state: 'UPLOADING',
        metadata: { i: `${i}` },
      });
      expect(v.upload_url).toContain(`org-a/objects/${v.id}/`);
    });
    const rows = await dataSource.query<{ id: string; name: string }[]>(
      `SELECT id, name FROM objects WHERE org_id = $1`,
      [ORG],
    );
    expect(new Map(rows.map((r) => [r.id, r.name]))).toEqual(
      new Map(views.map((v) => [v.id, v.name])),
    );
    const events = await dataSource.query<
      { message_key: string; payload: { data: { objectId: string; change: string } } }[]
    >(`SELECT message_key, payload FROM outbox`);
    expect(events).toHaveLength(300);
    for (const e of events) {
      expect(e.payload.data).toMatchObject({ objectId: e.message_key, change: 'created' });
    }
    expect(new Set(events.map((e) => e.message_key))).toEqual(new Set(views.map((v) => v.id)));
  });

  it('should fail only the create whose row is refused when a batch cannot commit', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        sut.create(
          // Past the column's 1024-byte CHECK (the DTO's limit, bypassed here): the batch's commit fails.
          { name: i === 2 ? 'x'.repeat(1025) : `batch-${i}.txt`, content_type: 'text' },
          principal,
        ),
      ),
    );

    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const rows = await dataSource.query<{ id: string }[]>(
      `SELECT id FROM objects WHERE name LIKE 'batch-%' OR name LIKE 'xxx%'`,
    );
    expect(rows).toHaveLength(4);
    const [{ count }] = await dataSource.query<{ count: string }[]>(
      `SELECT count(*) FROM outbox WHERE message_key = ANY($1)`,
      [rows.map((r) => r.id)],
    );
    expect(count).toBe('4');
  });
});
