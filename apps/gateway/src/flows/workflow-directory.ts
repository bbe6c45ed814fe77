import { Inject, Injectable } from '@nestjs/common';
import type { Principal, WorkflowDirectory } from '@lib/auth';
import { DomainException } from '@lib/errors';
import { ServiceClient } from '@lib/internal-http';
import { FlowOrchestratorClient } from '../services/service-clients.module';
import { servicePrincipalOf } from '../services/service-principal';

/**
 * The guard's `WorkflowDirectory`, asked only for tokens scoped to one workflow: the flow-orchestrator owns
 * workflows and runs. A name or run id it refuses as malformed (400) is the client's answer as it is.
 */
@Injectable()
export class FlowOrchestratorWorkflowDirectory implements WorkflowDirectory {
  constructor(@Inject(FlowOrchestratorClient) private readonly flows: ServiceClient) {}

  workflowIdByName(caller: Principal, name: string): Promise<string | null> {
    return this.workflowIdAt(`/internal/workflows/by-name/${encodeURIComponent(name)}`, caller);
  }

  workflowIdOfRun(caller: Principal, runId: string): Promise<string | null> {
    return this.workflowIdAt(`/internal/runs/${encodeURIComponent(runId)}/workflow`, caller);
  }

  private async workflowIdAt(path: string, caller: Principal): Promise<string | null> {
    try {
      const workflow = await this.flows.call<{ id: string }>('GET', path, {
        principal: servicePrincipalOf(caller),
      });
      return workflow.id;
    } catch (err) {
      if (err instanceof DomainException && err.status === 404) return null;
      throw err;
    }
  }
}
