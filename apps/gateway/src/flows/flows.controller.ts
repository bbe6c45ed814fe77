import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  FLOW_DEFINITION_EXAMPLE,
  FLOW_RUN_EXAMPLE,
  FLOW_RUN_RUNNING_EXAMPLE,
} from '../docs/flow-examples';
import { Authenticated, CurrentPrincipal, Principal, WorkflowScoped } from '@lib/auth';
import { FLOW_LIMITS, type FlowRunView, type StartFlowCommand } from '@lib/contracts';
import { FlowOrchestratorClient } from '@lib/clients';
import { BodyLimit } from '../http/body-limits';
import { servicePrincipalOf } from '../services/service-principal';

/**
 * An absent body, `null` or `{}`: run the stored definition. Anything else is sent as it is: the
 * flow-orchestrator refuses a body that is no definition.
 */
function definitionOf(body: unknown): StartFlowCommand['definition'] {
  if (body === undefined || body === null) return null;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)
    return null;
  return body as StartFlowCommand['definition'];
}

/**
 * Flows: start a run (creating or updating the workflow from the body's definition) and poll its status.
 * The flow-orchestrator checks the definition and answers the flows API's views as they are sent.
 */
@ApiTags('flows')
@ApiUnauthorizedResponse({ description: 'Invalid or missing authentication.' })
@Controller('api/v1/flow')
@Authenticated('bearer')
export class FlowsController {
  constructor(private readonly flows: FlowOrchestratorClient) {}

  @Post(':name')
  @BodyLimit(FLOW_LIMITS.bodyBytes)
  @WorkflowScoped({ workflowNameParam: 'name' })
  @HttpCode(200)
  @ApiOperation({
    operationId: 'startFlow',
    summary:
      'Create or update the workflow {name} from a flow definition ({Flow: {DataWells, Steps, StartingStepID}}) and start a run; an empty body runs the stored definition',
  })
  @ApiBody({
    required: false,
    schema: { type: 'object' },
    examples: {
      definition: { summary: 'A flow with one upload', value: FLOW_DEFINITION_EXAMPLE },
      stored: { summary: 'Run the stored definition', value: {} },
    },
  })
  @ApiOkResponse({
    description: '`{ID, Status, WaitingURLs?}`: WAITING with PutURLs when the flow awaits uploads',
    example: FLOW_RUN_EXAMPLE,
  })
  @ApiBadRequestResponse({ description: 'Invalid definition: the message names the problem' })
  @ApiNotFoundResponse({ description: 'Empty body and no stored definition' })
  start(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() body: unknown,
  ): Promise<FlowRunView> {
    return this.flows.startFlow(
      servicePrincipalOf(principal),
      { name },
      { definition: definitionOf(body) },
    );
  }

  @Get('status/:runId')
  @WorkflowScoped({ runIdParam: 'runId' })
  @ApiOperation({
    operationId: 'getFlowStatus',
    summary: 'A run’s status, waiting URLs, inputs and artifacts',
  })
  @ApiOkResponse({ description: '`{ID, Status, ...}`', example: FLOW_RUN_RUNNING_EXAMPLE })
  @ApiBadRequestResponse({ description: 'runId is not a UUID' })
  @ApiNotFoundResponse({ description: 'No such run in the caller’s organization' })
  status(
    @CurrentPrincipal() principal: Principal,
    @Param('runId') runId: string,
  ): Promise<FlowRunView> {
    return this.flows.runStatus(servicePrincipalOf(principal), { runId });
  }
}
