import type { RunCreatedEvent, RunUpdatedEvent, RunStatus } from '@lib/contracts';
import type { Run } from './runs.repository';

export function runCreatedEvent(run: Run): RunCreatedEvent {
  return {
    orgId: run.orgId,
    orgKey: run.orgKey,
    runId: run.id,
    workflowId: run.workflowId,
    workflowName: run.workflowName,
    status: run.status,
    actor: run.actor,
    occurredAt: new Date(run.createdAt).toISOString(),
  };
}

export function runUpdatedEvent(run: Run, previousStatus: RunStatus): RunUpdatedEvent {
  return {
    orgId: run.orgId,
    runId: run.id,
    workflowId: run.workflowId,
    status: run.status,
    previousStatus,
    reason: run.reason,
    version: run.version,
    occurredAt: new Date(run.updatedAt).toISOString(),
  };
}
