import type { FileDirection, StorageFileUpdatedEvent } from '@lib/contracts';

/** What the aggregator remembers of one file: its newest known state. */
export interface FileState {
  objectId: string;
  orgId: string;
  orgKey: string;
  workflowId: string | null;
  createdBy: string | null;
  direction: FileDirection;
  sizeBytes: number;
  live: boolean;
  version: number;
}

export interface UsageDelta {
  totalBytes: number;
  inputBytes: number;
  outputBytes: number;
  fileCount: number;
}

const GONE = new Set(['deleted', 'expired']);

/** "Every user" / "every workflow" in a bucket key (the `usage_totals` row of the whole org, etc.). */
export const ALL_USERS = '00000000-0000-0000-0000-000000000000';
export const ALL_WORKFLOWS = '';

/** One `usage_totals` row: an org, narrowed or not to one user and one workflow. */
export interface UsageBucket {
  orgId: string;
  userId: string;
  workflowId: string;
}

export const bucketId = (b: UsageBucket) => `${b.orgId}|${b.userId}|${b.workflowId}`;

/** The rows a file counts in: the org's, its workflow's, its creator's, and its creator's in its workflow. */
export function bucketsOf(
  state: Pick<FileState, 'orgId' | 'createdBy' | 'workflowId'>,
): UsageBucket[] {
  const users = state.createdBy ? [ALL_USERS, state.createdBy] : [ALL_USERS];
  const workflows = state.workflowId ? [ALL_WORKFLOWS, state.workflowId] : [ALL_WORKFLOWS];
  return users.flatMap((userId) =>
    workflows.map((workflowId) => ({ orgId: state.orgId, userId, workflowId })),
  );
}

export const zeroDelta = (): UsageDelta => ({
  totalBytes: 0,
  inputBytes: 0,
  outputBytes: 0,
  fileCount: 0,
});

/** Adds `sign` × `delta` into `into`. */
export function addDelta(into: UsageDelta, delta: UsageDelta, sign = 1): void {
  into.totalBytes += sign * delta.totalBytes;
  into.inputBytes += sign * delta.inputBytes;
  into.outputBytes += sign * delta.outputBytes;
  into.fileCount += sign * delta.fileCount;
}

/**
 * Folds a file's change into per-bucket deltas: its old contribution leaves the old buckets and its new one
 * enters the new buckets (a file may change workflow or owner between versions).
 */
export function addChange(
  into: Map<string, { bucket: UsageBucket; delta: UsageDelta }>,
  before: FileState | undefined,
  after: FileState,
): void {
  const add = (state: FileState | undefined, sign: number) => {
    if (!state?.live) return;
    const c = contribution(state);
    for (const bucket of bucketsOf(state)) {
      const id = bucketId(bucket);
      const entry = into.get(id) ?? { bucket, delta: zeroDelta() };
      addDelta(entry.delta, c, sign);
      into.set(id, entry);
    }
  };
  add(before, -1);
  add(after, 1);
}

export function contribution(state: FileState | undefined): UsageDelta {
  if (!state?.live) return { totalBytes: 0, inputBytes: 0, outputBytes: 0, fileCount: 0 };
  return {
    totalBytes: state.sizeBytes,
    inputBytes: state.direction === 'input' ? state.sizeBytes : 0,
    outputBytes: state.direction === 'output' ? state.sizeBytes : 0,
    fileCount: 1,
  };
}

/**
 * Applies one `storage_file.updated` event to a file's known state. An event not newer than what is known
 * (a replay, or a late out-of-order delivery) changes nothing, which makes the aggregates idempotent and
 * order-safe. Returns the new state and the change it makes to the org's totals.
 */
export function applyFileEvent(
  current: FileState | undefined,
  event: StorageFileUpdatedEvent,
): { next: FileState; delta: UsageDelta } | undefined {
  if (current && current.version >= event.version) return undefined;
  const next: FileState = {
    objectId: event.objectId,
    orgId: event.orgId,
    orgKey: event.orgKey,
    workflowId: event.workflowId ?? null,
    createdBy: event.createdBy ?? null,
    direction: event.direction,
    sizeBytes: event.sizeBytes,
    live: !GONE.has(event.change),
    version: event.version,
  };
  const before = contribution(current);
  const after = contribution(next);
  return {
    next,
    delta: {
      totalBytes: after.totalBytes - before.totalBytes,
      inputBytes: after.inputBytes - before.inputBytes,
      outputBytes: after.outputBytes - before.outputBytes,
      fileCount: after.fileCount - before.fileCount,
    },
  };
}
