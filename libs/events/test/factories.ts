import type { RunCreatedEvent, RunUpdatedEvent, StorageFileUpdatedEvent } from '@lib/contracts';
import { randomUUID } from 'node:crypto';

export const ORG_ID = '5b0f7c1e-8a59-4d7e-9a51-0c1d2e3f4a5b';

/** A valid `storage_file.updated` payload; override any field. */
export function storageFileUpdated(
  overrides: Partial<StorageFileUpdatedEvent> = {},
): StorageFileUpdatedEvent {
  return {
    orgId: ORG_ID,
    orgKey: 'acme',
    objectId: `obj_${randomUUID()}`,
    objectKey: 'k/1f3a9c',
    path: 'reports/2026/q1.pdf',
    workflowId: null,
    runId: null,
    edge: null,
    direction: 'none',
    sizeBytes: 2048,
    previousSizeBytes: 0,
    contentType: 'application/pdf',
    etag: '"9b2cf535f27731c974343645a3985328"',
    change: 'created',
    version: 1,
    actor: { type: 'user', id: 'a3c9b0de-1111-4a2b-9c3d-5e6f7a8b9c0d' },
    createdBy: 'a3c9b0de-1111-4a2b-9c3d-5e6f7a8b9c0d',
    occurredAt: '2026-11-23T10:00:00.000Z',
    ...overrides,
  };
}

export function runCreated(overrides: Partial<RunCreatedEvent> = {}): RunCreatedEvent {
  return {
    orgId: ORG_ID,
    orgKey: 'acme',
    runId: `run_${randomUUID()}`,
    workflowId: 'wf_invoices',
    workflowName: 'Invoices',
    status: 'QUEUED',
    actor: { type: 'api_key', id: 'key_7f3e' },
    occurredAt: '2026-11-23T10:00:00.000Z',
    ...overrides,
  };
}

export function runUpdated(overrides: Partial<RunUpdatedEvent> = {}): RunUpdatedEvent {
  return {
    orgId: ORG_ID,
    runId: `run_${randomUUID()}`,
    workflowId: 'wf_invoices',
    status: 'RUNNING',
    previousStatus: 'QUEUED',
    reason: null,
    version: 2,
    occurredAt: '2026-11-23T10:00:01.000Z',
    ...overrides,
  };
}
