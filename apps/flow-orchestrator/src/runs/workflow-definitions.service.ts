import { Injectable } from '@nestjs/common';
import { FlowDefinition, FlowDefinitionError, parseFlowDefinition } from '@lib/contracts';
import { uuidv7 } from '@lib/events';
import {
  InvalidFlowDefinitionException,
  RunNotFoundException,
  WorkflowNotFoundException,
} from './runs.exception';
import { RunsRepository, Workflow } from './runs.repository';

/** The org and key a workflow is defined for. */
export interface WorkflowOwner {
  orgId: string;
  orgKey: string;
}

/** Workflows: their definitions (created or updated by name) and the lookups of one of an org. */
@Injectable()
export class WorkflowDefinitionsService {
  constructor(private readonly repo: RunsRepository) {}

  /**
   * The workflow `name` to run: with a definition, created or updated with it; with none (`null`), the
   * stored one (404 when it has no flow). A definition that does not parse is a 400.
   */
  async define(owner: WorkflowOwner, name: string, body: unknown): Promise<Workflow> {
    if (body === null) {
      const found = await this.repo.findWorkflowByName(owner.orgId, name);
      if (!found?.flow) {
        throw new WorkflowNotFoundException(
          `No workflow '${name}' with a stored flow definition: send one in the body`,
        );
      }
      return found;
    }
    let flow: FlowDefinition;
    try {
      flow = parseFlowDefinition(body);
    } catch (err) {
      if (err instanceof FlowDefinitionError) throw new InvalidFlowDefinitionException(err.message);
      throw err;
    }
    return this.repo.transaction((m) =>
      this.repo.upsertWorkflow(m, {
        id: uuidv7(),
        orgId: owner.orgId,
        orgKey: owner.orgKey,
        name,
        flow,
      }),
    );
  }

  async workflow(orgId: string, workflowId: string): Promise<Workflow> {
    const workflow = await this.repo.findWorkflow(orgId, workflowId);
    if (!workflow) throw new WorkflowNotFoundException(`No workflow '${workflowId}'`);
    return workflow;
  }

  async workflowNamed(orgId: string, name: string): Promise<Workflow> {
    const workflow = await this.repo.findWorkflowByName(orgId, name);
    if (!workflow) throw new WorkflowNotFoundException(`No workflow '${name}'`);
    return workflow;
  }

  async workflowOfRun(orgId: string, runId: string): Promise<Workflow> {
    const run = await this.repo.findRun(runId);
    if (!run || run.orgId !== orgId) throw new RunNotFoundException(runId);
    return this.workflow(orgId, run.workflowId);
  }
}
