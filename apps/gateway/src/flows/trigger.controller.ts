import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { TRIGGER_PAYLOAD_EXAMPLE, TRIGGER_RESULT_EXAMPLE } from '../docs/flow-examples';
import { Authenticated, CurrentPrincipal, Principal, WorkflowScoped } from '@lib/auth';
import { FLOW_LIMITS, type TriggerResultView } from '@lib/contracts';
import { FlowOrchestratorClient } from '@lib/clients';
import { BodyLimit } from '../http/body-limits';
import { servicePrincipalOf } from '../services/service-principal';

/** Org storage's trigger: a run of the workflow at its starting step, through the run queue. */
@ApiTags('private')
@Controller('api/private/trigger')
@Authenticated('org-key')
export class TriggerController {
  constructor(private readonly flows: FlowOrchestratorClient) {}

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
    const data = await this.flows.triggerRun(servicePrincipalOf(principal), {
      workflowId,
      payload: payload ?? null,
    });
    return { success: true, data };
  }
}
