import { Topic } from '@lib/contracts';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { EntityManager } from 'typeorm';
import { runCreated, runUpdated, storageFileUpdated } from '../test/factories';
import { InvalidEventError } from './event-validation';
import { OutboxWriter, type OutboxItem } from './outbox-writer';

/** A strict EntityManager double: only `query` exists, and it records its calls. */
function managerDouble(inTransaction = true) {
  const query = jest.fn<Promise<unknown>, [string, unknown[]]>().mockResolvedValue([]);
  const manager = {
    queryRunner: { isTransactionActive: inTransaction },
    connection: { driver: { schema: 'object_metadata', escape: (n: string) => `"${n}"` } },
    query,
  } as unknown as EntityManager;
  return { manager, query };
}

describe(OutboxWriter.name, () => {
  const sut = new OutboxWriter({ source: '/object-metadata' });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => {
    contextManager.disable();
    context.disable();
  });

  it('should insert one row with the envelope and headers when the event is valid', async () => {
    const { manager, query } = managerDouble();
    const data = storageFileUpdated();
    const event = await sut.append(manager, Topic.StorageFileUpdated, data.objectId, data);

    expect(query).toHaveBeenCalledTimes(1);
    const [sql, params] = query.mock.calls[0];
    expect(sql).toContain('INSERT INTO "object_metadata".outbox');
    expect(params).toHaveLength(1);
    expect(JSON.parse(params[0] as string)).toEqual([
      {
        id: event.id,
        topic: 'storage_file.updated',
        key: data.objectId,
        payload: event,
        headers: {
          'content-type': 'application/cloudevents+json',
          ce_id: event.id,
          ce_type: 'com.platform.storage_file.updated.v1',
        },
      },
    ]);
    expect(event).toMatchObject({ source: '/object-metadata', subject: data.objectId, data });
  });

  it('should capture the active trace context into the headers when inside a span', async () => {
    const { manager, query } = managerDouble();
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    };
    await context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () =>
      sut.append(manager, Topic.RunCreated, 'run_1', runCreated({ runId: 'run_1' })),
    );
    const [row] = JSON.parse(query.mock.calls[0][1][0] as string);
    expect(row.headers.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('should use the given subject when one is passed', async () => {
    const { manager } = managerDouble();
    const event = await sut.append(manager, Topic.RunCreated, 'run_1', runCreated(), {
      subject: 'workflows/wf_1/runs/run_1',
    });
    expect(event.subject).toBe('workflows/wf_1/runs/run_1');
  });

  it.each([
    ['a missing required field', () => ({ ...storageFileUpdated(), orgId: undefined }), /orgId/],
    ['a wrong enum value', () => storageFileUpdated({ change: 'renamed' as never }), /change/],
    ['a negative size', () => storageFileUpdated({ sizeBytes: -1 }), /sizeBytes/],
    ['a version of zero', () => storageFileUpdated({ version: 0 }), /version/],
    ['a non-UUID orgId', () => storageFileUpdated({ orgId: 'acme' }), /orgId/],
    ['an undeclared field', () => ({ ...storageFileUpdated(), bucket: 'secret' }), /bucket/],
    ['a bad timestamp', () => storageFileUpdated({ occurredAt: 'yesterday' }), /occurredAt/],
  ])(
    'should throw InvalidEventError and write nothing when the payload has %s',
    async (_w, make, field) => {
      const { manager, query } = managerDouble();
      const attempt = sut.append(manager, Topic.StorageFileUpdated, 'obj_1', make() as never);
      await expect(attempt).rejects.toThrow(InvalidEventError);
      await expect(attempt).rejects.toThrow(field);
      expect(query).not.toHaveBeenCalled();
    },
  );

  it('should throw and write nothing when the key is empty', async () => {
    const { manager, query } = managerDouble();
    await expect(sut.append(manager, Topic.RunCreated, '', runCreated())).rejects.toThrow(/key/);
    expect(query).not.toHaveBeenCalled();
  });

  it('should refuse to write when the manager is not in a transaction', async () => {
    const { manager, query } = managerDouble(false);
    await expect(sut.append(manager, Topic.RunCreated, 'run_1', runCreated())).rejects.toThrow(
      /transaction/,
    );
    expect(query).not.toHaveBeenCalled();
  });

  it('should insert all events in one statement, in call order, when appending many', async () => {
    const { manager, query } = managerDouble();
    const items: OutboxItem[] = [
      {
        topic: Topic.StorageFileUpdated,
        key: 'obj_1',
        data: storageFileUpdated({ objectId: 'obj_1' }),
      },
      { topic: Topic.RunCreated, key: 'run_1', data: runCreated({ runId: 'run_1' }) },
      { topic: Topic.RunUpdated, key: 'run_1', data: runUpdated({ runId: 'run_1' }) },
    ];
    const events = await sut.appendMany(manager, items);
    expect(query).toHaveBeenCalledTimes(1);
    const rows = JSON.parse(query.mock.calls[0][1][0] as string) as Record<string, unknown>[];
    expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(rows.map((r) => r.topic)).toEqual([
      'storage_file.updated',
      'run.created',
      'run.updated',
    ]);
    expect(rows.map((r) => r.key)).toEqual(['obj_1', 'run_1', 'run_1']);
  });

  it('should write none of a bulk append when one item is invalid', async () => {
    const { manager, query } = managerDouble();
    const items: OutboxItem[] = [
      { topic: Topic.RunCreated, key: 'run_1', data: runCreated() },
      { topic: Topic.RunUpdated, key: 'run_1', data: runUpdated({ status: 'DONE' as never }) },
    ];
    await expect(sut.appendMany(manager, items)).rejects.toThrow(InvalidEventError);
    expect(query).not.toHaveBeenCalled();
  });

  it('should do nothing when appending an empty list', async () => {
    const { manager, query } = managerDouble();
    await expect(sut.appendMany(manager, [])).resolves.toEqual([]);
    expect(query).not.toHaveBeenCalled();
  });
});
