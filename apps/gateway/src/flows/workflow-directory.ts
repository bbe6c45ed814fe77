import { Inject, Injectable } from '@nestjs/common';
import type { WorkflowDirectory } from '@lib/auth';
import { DomainException } from '@lib/errors';
import { ServiceClient } from '@lib/internal-http';
import { FlowOrchestratorClient } from '../services/service-clients.module';

/**
 * The guard's `WorkflowDirectory`, asked only for tokens scoped to one workflow: the flow-orchestrator owns
 * workflows and runs. A name or run id it refuses as malformed (400) is the client's answer as it is.
 */
@Injectable()
export class FlowOrchestratorWorkflowDirectory implements WorkflowDirectory {
  constructor(@Inject(FlowOrchestratorClient) private readonly flows: ServiceClient) {}

  workflowIdByName(orgId: string, name: string): Promise<string | null> {
    return this.workflowIdAt(`/internal/workflows/by-name/${encodeURIComponent(name)}`, orgId);
  }

  workflowIdOfRun(orgId: string, runId: string): Promise<string | null> {
    return this.workflowIdAt(`/internal/runs/${encodeURIComponent(runId)}/workflow`, orgId);
  }

  private async workflowIdAt(path: string, orgId: string): Promise<string | null> {
    try {
      return (await this.flows.call<{ id: string }>('GET', path, { query: { orgId } })).id;
    } catch (err) {
      if (err instanceof DomainException && err.status === 404) return null;
      throw err;
    }
  }
}
