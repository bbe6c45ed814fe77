import type { StorageFileUpdatedEvent } from '@lib/contracts';
import {
  addChange,
  ALL_USERS,
  applyFileEvent,
  FileState,
  UsageBucket,
  UsageDelta,
} from './usage-delta';

const event = (over: Partial<StorageFileUpdatedEvent>): StorageFileUpdatedEvent => ({
  orgId: '7b0f3c8e-3f1e-4d57-9d6c-0d3a1f1f2c11',
  orgKey: 'acme',
  objectId: 'obj_1',
  objectKey: 'acme/objects/obj_1/tok',
  direction: 'input',
  sizeBytes: 100,
  previousSizeBytes: 0,
  change: 'created',
  version: 1,
  actor: { type: 'system', id: 'test' },
  occurredAt: '2026-11-23T00:00:00.000Z',
  ...over,
});

describe(applyFileEvent.name, () => {
  it('should count a new file and its bytes by direction when it is created', () => {
    const r = applyFileEvent(undefined, event({}));
    expect(r?.delta).toEqual({ totalBytes: 100, inputBytes: 100, outputBytes: 0, fileCount: 1 });
    expect(r?.next.live).toBe(true);
  });

  it('should add only the size difference when a file is overwritten', () => {
    const first = applyFileEvent(undefined, event({}))!.next;
    const r = applyFileEvent(first, event({ change: 'overwritten', sizeBytes: 250, version: 2 }));
    expect(r?.delta).toEqual({ totalBytes: 150, inputBytes: 150, outputBytes: 0, fileCount: 0 });
  });

  it('should remove the file and its bytes when it is deleted or expired', () => {
    const first = applyFileEvent(undefined, event({ direction: 'output' }))!.next;
    for (const change of ['deleted', 'expired'] as const) {
      const r = applyFileEvent(first, event({ change, direction: 'output', version: 2 }));
      expect(r?.delta).toEqual({
        totalBytes: -100,
        inputBytes: 0,
        outputBytes: -100,
        fileCount: -1,
      });
    }
  });

  it('should change nothing when the event is a replay or older than the known state', () => {
    const known: FileState = { ...applyFileEvent(undefined, event({}))!.next, version: 3 };
    expect(applyFileEvent(known, event({ version: 3 }))).toBeUndefined();
    expect(applyFileEvent(known, event({ version: 2, change: 'deleted' }))).toBeUndefined();
  });

  it('should end in the same totals whatever order the events of one file arrive in', () => {
    const events = [
      event({ version: 1, sizeBytes: 10 }),
      event({ version: 2, change: 'overwritten', sizeBytes: 30 }),
      event({ version: 3, change: 'deleted', sizeBytes: 30 }),
    ];
    const total = (order: StorageFileUpdatedEvent[]) => {
      let state: FileState | undefined;
      let bytes = 0;
      for (const e of order) {
        const r = applyFileEvent(state, e);
        if (r) [state, bytes] = [r.next, bytes + r.delta.totalBytes];
      }
      return bytes;
    };
    expect(total(events)).toBe(0);
    expect(total([events[2], events[0], events[1]])).toBe(0);
    expect(total([events[1], events[0]])).toBe(30);
  });
});

describe(addChange.name, () => {
  const state = (over: Partial<FileState>): FileState => ({
    objectId: 'f',
    orgId: 'org',
    orgKey: 'acme',
    workflowId: null,
    createdBy: null,
    direction: 'input',
    sizeBytes: 10,
    live: true,
    version: 1,
    ...over,
  });
  const collect = (before: FileState | undefined, after: FileState) => {
    const into = new Map<string, { bucket: UsageBucket; delta: UsageDelta }>();
    addChange(into, before, after);
    return Object.fromEntries(
      [...into.values()].map(({ bucket, delta }) => [
        `${bucket.userId === ALL_USERS ? '*' : bucket.userId}/${bucket.workflowId || '*'}`,
        delta.totalBytes,
      ]),
    );
  };

  it('should count a file in the org, its workflow, its creator and its creator in the workflow', () => {
    expect(collect(undefined, state({ workflowId: 'wf', createdBy: 'u' }))).toEqual({
      '*/*': 10,
      '*/wf': 10,
      'u/*': 10,
      'u/wf': 10,
    });
    expect(collect(undefined, state({}))).toEqual({ '*/*': 10 });
  });

  it('should move the bytes between buckets when a file changes workflow or owner', () => {
    const before = state({ workflowId: 'a', createdBy: 'u' });
    const after = state({ workflowId: 'b', createdBy: 'u', sizeBytes: 15, version: 2 });
    expect(collect(before, after)).toEqual({
      '*/*': 5,
      '*/a': -10,
      '*/b': 15,
      'u/*': 5,
      'u/a': -10,
      'u/b': 15,
    });
  });

  it('should remove the file from every bucket when it stops being live', () => {
    const before = state({ workflowId: 'a', createdBy: 'u' });
    expect(collect(before, { ...before, live: false, version: 2 })).toEqual({
      '*/*': -10,
      '*/a': -10,
      'u/*': -10,
      'u/a': -10,
    });
  });
});
