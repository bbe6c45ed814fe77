import { randomUUID } from 'node:crypto';
import { runFileKey, type ServicePrincipal } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { EVENTS_PUBLISHER_ENTITIES, OutboxWriter } from '@lib/events';
import { createTestDatabase, TestDatabase } from '@lib/testing';
import { DataSource } from 'typeorm';
import { OBJECT_METADATA_SCHEMA } from '../src/database/migrations';
import { FileLocatorRegistry } from '../src/files/file-locator';
import { RunFilesRepository } from '../src/run-files/run-files.repository';
import { OrgQuotasRepository } from '../src/quotas/org-quotas.repository';
import { StorageQuotas } from '../src/quotas/storage-quotas.service';
import { RunFilesService } from '../src/run-files/run-files.service';

const ORG = randomUUID();
const WORKFLOW = randomUUID();
const RUN = randomUUID();
/** The flow-orchestrator recording its run's files. */
const PRINCIPAL: ServicePrincipal = {
  orgId: ORG,
  orgKey: 'org-rf',
  userId: null,
  role: null,
  actor: { type: 'system', id: 'flow-orchestrator' },
  workflowId: null,
};

// Run files against a real Postgres: recorded once by key with one storage_file.updated, found by the
// run_file locator and by the resource URLs' newest-by-name lookup.
describe(RunFilesService.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let registry: FileLocatorRegistry;
  let sut: RunFilesService;

  const record = (filename: string, direction: 'input' | 'output', sizeBytes = 10) => ({
    workflowId: WORKFLOW,
    runId: RUN,
    edge: direction === 'input' ? 'in' : 'out',
    direction,
    objectKey: runFileKey(
      'org-rf',
      WORKFLOW,
      RUN,
      direction === 'input' ? 'inputs' : 'outputs',
      filename,
    ),
    filename,
    sizeBytes,
    contentType: 'text/csv',
    etag: '"e"',
  });

  beforeAll(async () => {
    db = await createTestDatabase('runfiles');
    dataSource = await new DataSource(
      dataSourceOptions({
        url: db.url,
        schema: OBJECT_METADATA_SCHEMA,
        entities: EVENTS_PUBLISHER_ENTITIES,
      }),
    ).initialize();
    registry = new FileLocatorRegistry();
    sut = new RunFilesService(
      new RunFilesRepository(dataSource),
      new OutboxWriter({ source: '/test' }),
      registry,
      new StorageQuotas(new OrgQuotasRepository(dataSource)),
    );
    sut.onModuleInit();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should record a file once and publish one created event with its direction and run', async () => {
    const file = record('a.csv', 'input', 42);
    const first = await sut.record(file, PRINCIPAL);
    const again = await sut.record(file, PRINCIPAL);
    expect(first.created).toBe(true);
    expect(again).toEqual({ objectId: first.objectId, created: false });
    const events = await dataSource.query<{ payload: { data: Record<string, unknown> } }[]>(
      `SELECT payload FROM outbox WHERE message_key = $1`,
      [first.objectId],
    );
    expect(events.map((e) => e.payload.data)).toEqual([
      expect.objectContaining({
        orgId: ORG,
        objectKey: file.objectKey,
        workflowId: WORKFLOW,
        runId: RUN,
        edge: 'in',
        direction: 'input',
        sizeBytes: 42,
        previousSizeBytes: 0,
        change: 'created',
        version: 1,
      }),
    ]);
  });

  it('should be found by its key through the registry, and listed live', async () => {
    const file = record('b.csv', 'output');
    const { objectId } = await sut.record(file, PRINCIPAL);
    expect(await registry.findLive(file.objectKey)).toMatchObject({
      kind: 'run_file',
      objectId,
      direction: 'output',
      workflowId: WORKFLOW,
      filename: 'b.csv',
    });
    const listed = await sut.listLive({ orgId: ORG, limit: 10 });
    expect(listed.map((f) => f.filename).sort()).toEqual(['a.csv', 'b.csv']);
    expect(await sut.listLive({ orgId: randomUUID(), limit: 10 })).toEqual([]);
  });

  it('should answer the newest file of a name and direction, and 404 for none', async () => {
    const older = record('c.csv', 'output');
    await sut.record(older, PRINCIPAL);
    const newer = record('c.csv', 'output');
    await sut.record(newer, PRINCIPAL);
    expect(await sut.latest(ORG, WORKFLOW, 'output', 'c.csv')).toEqual({
      objectKey: newer.objectKey,
      filename: 'c.csv',
    });
    await expect(sut.latest(ORG, WORKFLOW, 'input', 'c.csv')).rejects.toThrow('No input file');
    await expect(sut.latest(randomUUID(), WORKFLOW, 'output', 'c.csv')).rejects.toThrow();
  });
});
