import type { FileDirection, StorageFileUpdatedEvent } from '@lib/contracts';

/** What the aggregator remembers of one file: its newest known state. */
export interface FileState {
  objectId: string;
  orgId: string;
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

function contribution(state: FileState | undefined): UsageDelta {
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
