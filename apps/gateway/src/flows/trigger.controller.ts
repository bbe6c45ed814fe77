import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { TRIGGER_PAYLOAD_EXAMPLE, TRIGGER_RESULT_EXAMPLE } from '../docs/flow-examples';
import { Authenticated, CurrentPrincipal, Principal, WorkflowScoped } from '@lib/auth';
import {
  FLOW_LIMITS,
  FLOW_ORCHESTRATOR_BATCH_OPS as OPS,
  type RunTriggerCall,
  type TriggerResultView,
} from '@lib/contracts';
import { ServiceClient } from '@lib/internal-http';
import { FlowOrchestratorClient } from '../services/service-clients.module';
import { BodyLimit } from '../http/body-limits';
import { servicePrincipalOf } from '../services/service-principal';

/** Org storage's trigger: a run of the workflow at its starting step, through the run queue. */
@ApiTags('private')
@Controller('api/private/trigger')
@Authenticated('org-key')
export class TriggerController {
  constructor(@Inject(FlowOrchestratorClient) private readonly flows: ServiceClient) {}

  @Post(':workflowId')
  @BodyLimit(FLOW_LIMITS.bodyBytes)
  @WorkflowScoped({ workflowIdParam: 'workflowId' })
  @HttpCode(200)
  @ApiOperation({
    operationId: 'triggerWorkflow',
    summary: 'Start a run of a workflow with any JSON payload',
  })
  @ApiBody({
    required: false,
    schema: {},
    examples: { payload: { summary: 'Any JSON payload', value: TRIGGER_PAYLOAD_EXAMPLE } },
  })
  @ApiOkResponse({
    description: '`{success: true, data: {runId, result: {jobId, queue, state}}}`',
    example: TRIGGER_RESULT_EXAMPLE,
  })
  @ApiNotFoundResponse({
    description: 'No such workflow in the org, or it has no flow or no starting_step_id',
  })
  async trigger(
    @CurrentPrincipal() principal: Principal,
    @Param('workflowId') workflowId: string,
    @Body() payload: unknown,
  ): Promise<{ success: true; data: TriggerResultView }> {
    const call: RunTriggerCall = { workflowId, payload: payload ?? null };
    const data = await this.flows.batched<TriggerResultView>(
      OPS.runTrigger,
      call,
      servicePrincipalOf(principal),
    );
    return { success: true, data };
  }
}
