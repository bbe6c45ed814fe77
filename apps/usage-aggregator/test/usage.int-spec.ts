import { randomUUID } from 'node:crypto';
import type { StorageFileUpdatedEvent } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { EVENTS_CONSUMER_ENTITIES } from '@lib/events';
import { createTestDatabase, TestDatabase } from '@lib/testing';
import { DataSource } from 'typeorm';
import type { UsageAggregatorConfig } from '../src/config/usage-aggregator.config';
import { USAGE_SCHEMA } from '../src/database/migrations';
import { ProcessedEventsPruner } from '../src/usage/processed-events-pruner';
import { rebuildUsage, type TruthFile } from '../src/usage/usage-rebuild';
import { UsageRepository } from '../src/usage/usage.repository';
import { UsageService } from '../src/usage/usage.service';

const ORG = randomUUID();
const USER = randomUUID();

const event = (
  over: Partial<StorageFileUpdatedEvent> & { objectId: string },
): StorageFileUpdatedEvent => ({
  orgId: ORG,
  orgKey: 'acme',
  objectKey: `acme/files/${over.objectId}`,
  direction: 'input',
  sizeBytes: 10,
  previousSizeBytes: 0,
  change: 'created',
  version: 1,
  actor: { type: 'system', id: 'test' },
  createdBy: USER,
  workflowId: 'wf-1',
  occurredAt: new Date().toISOString(),
  ...over,
});

// The aggregator's writes on a real Postgres: concurrent batches, the processed-events pruning, and the
// rebuild from a census of live files.
describe(UsageService.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let sut: UsageService;

  const apply = (events: StorageFileUpdatedEvent[]) =>
    dataSource.transaction((manager) => sut.apply(manager, events));

  beforeAll(async () => {
    db = await createTestDatabase('usage');
    dataSource = new DataSource(
      dataSourceOptions({ url: db.url, schema: USAGE_SCHEMA, entities: EVENTS_CONSUMER_ENTITIES }),
    );
    await dataSource.initialize();
    sut = new UsageService(new UsageRepository(dataSource));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should keep exact totals when batches of different partitions are applied at once', async () => {
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) => event({ objectId: `p${b}-${i}`, sizeBytes: 1 + i })),
    );
    await Promise.all(batches.map(apply));
    const usage = await sut.forOrg(ORG);
    const bytes = 8 * ((50 * 51) / 2);
    expect(usage).toMatchObject({ totalBytes: bytes, inputBytes: bytes, fileCount: 400 });
    expect(usage.breakdown).toEqual([
      { workflowId: 'wf-1', workflowName: '', bytes, fileCount: 400 },
    ]);
    expect(await sut.forOrg(ORG, USER)).toMatchObject({ totalBytes: bytes, fileCount: 400 });
  });

  it('should recompute totals from the census and ignore late events of files it no longer lists', async () => {
    // The census: only p0-* files are live, p0-0 with a newer version and size.
    const census: TruthFile[] = Array.from({ length: 50 }, (_, i) => ({
      objectId: `p0-${i}`,
      orgId: ORG,
      orgKey: 'acme',
      workflowId: 'wf-1',
      createdBy: USER,
      direction: 'input',
      sizeBytes: i === 0 ? 1000 : 1 + i,
      version: i === 0 ? 2 : 1,
    }));
    await dataSource.query(`UPDATE usage_totals SET total_bytes = 1, file_count = 1`);
    const counted = await rebuildUsage(dataSource, ORG, (cursor) =>
      Promise.resolve(
        cursor === null
          ? { files: census.slice(0, 30), nextCursor: 'next' }
          : { files: census.slice(30), nextCursor: null },
      ),
    );
    expect(counted).toBe(50);
    const bytes = (50 * 51) / 2 - 1 + 1000;
    expect(await sut.forOrg(ORG)).toMatchObject({ totalBytes: bytes, fileCount: 50 });
    // A replayed old event of a file the census dropped, or of a file it updated, changes nothing.
    await apply([
      event({ objectId: 'p3-1', sizeBytes: 5 }),
      event({ objectId: 'p0-0', sizeBytes: 5 }),
    ]);
    expect(await sut.forOrg(ORG)).toMatchObject({ totalBytes: bytes, fileCount: 50 });
  });

  it('should delete only event ids older than the retention when pruning', async () => {
    const old = [randomUUID(), randomUUID()];
    const recent = randomUUID();
    await dataSource.query(
      `INSERT INTO processed_events (event_id, topic, processed_at)
       VALUES ($1, 't', now() - interval '10 days'), ($2, 't', now() - interval '8 days'), ($3, 't', now())`,
      [...old, recent],
    );
    const config = {
      usage: { processedEventsRetentionMs: 168 * 3_600_000 },
    } as unknown as UsageAggregatorConfig;
    const pruner = new ProcessedEventsPruner(config, new UsageRepository(dataSource));
    expect(await pruner.prune()).toBe(2);
    const rows: { event_id: string }[] = await dataSource.query(
      `SELECT event_id FROM processed_events WHERE event_id = ANY($1)`,
      [[...old, recent]],
    );
    expect(rows.map((r) => r.event_id)).toEqual([recent]);
  });
});
