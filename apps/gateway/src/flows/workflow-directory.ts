import { Injectable } from '@nestjs/common';
import type { Principal, WorkflowDirectory } from '@lib/auth';
import { DomainException } from '@lib/errors';
import { FlowOrchestratorClient } from '@lib/clients';
import type { WorkflowRef } from '@lib/contracts';
import { servicePrincipalOf } from '../services/service-principal';

/**
 * The guard's `WorkflowDirectory`, asked only for tokens scoped to one workflow: the flow-orchestrator owns
 * workflows and runs. A name or run id it refuses as malformed (400) is the client's answer as it is.
 */
@Injectable()
export class FlowOrchestratorWorkflowDirectory implements WorkflowDirectory {
  constructor(private readonly flows: FlowOrchestratorClient) {}

  workflowIdByName(caller: Principal, name: string): Promise<string | null> {
    return idOrNull(this.flows.workflowNamed(servicePrincipalOf(caller), { name }));
  }

  workflowIdOfRun(caller: Principal, runId: string): Promise<string | null> {
    return idOrNull(this.flows.workflowOfRun(servicePrincipalOf(caller), { runId }));
  }
}

/** The workflow's id, or null when the flow-orchestrator knows no such workflow in the org (404). */
async function idOrNull(workflow: Promise<WorkflowRef>): Promise<string | null> {
  try {
    return (await workflow).id;
  } catch (err) {
    if (err instanceof DomainException && err.status === 404) return null;
    throw err;
  }
}
