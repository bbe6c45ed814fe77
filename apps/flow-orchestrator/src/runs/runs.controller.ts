import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { FlowRunView } from '@lib/contracts';
import { RunEdge, Workflow } from './runs.repository';
import {
  FlowNameParams,
  OrgCallerDto,
  OrgQueryDto,
  RunEdgeParams,
  RunIdParams,
  StartFlowDto,
  WorkflowIdParams,
} from './dto/run-commands.dto';
import { RunsService } from './runs.service';

const workflowView = (w: Workflow) => ({
  id: w.id,
  name: w.name,
  startingStepId: w.startingStepId,
});

/** Internal HTTP API, called by the gateway once it has authenticated the org. */
@Controller('internal')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post('flows/:name/runs')
  @HttpCode(200)
  start(@Param() params: FlowNameParams, @Body() cmd: StartFlowDto): Promise<FlowRunView> {
    return this.runs.startByName(params.name, cmd.definition ?? null, cmd);
  }

  @Get('runs/:runId')
  status(@Param() params: RunIdParams, @Query() query: OrgQueryDto): Promise<FlowRunView> {
    return this.runs.status(query.orgId, params.runId);
  }

  /** A workflow of the org (404 otherwise): direct uploads (`POST /api/v1/upload`) check it first. */
  @Get('workflows/:workflowId')
  async workflow(@Param() params: WorkflowIdParams, @Query() query: OrgQueryDto) {
    return workflowView(await this.runs.workflow(query.orgId, params.workflowId));
  }

  /** A workflow of the org by name (404 otherwise): the gateway checks a workflow-scoped token with it. */
  @Get('workflows/by-name/:name')
  async workflowNamed(@Param() params: FlowNameParams, @Query() query: OrgQueryDto) {
    return workflowView(await this.runs.workflowNamed(query.orgId, params.name));
  }

  /** The workflow of a run of the org (404 otherwise): the gateway checks a workflow-scoped token with it. */
  @Get('runs/:runId/workflow')
  async workflowOfRun(@Param() params: RunIdParams, @Query() query: OrgQueryDto) {
    return workflowView(await this.runs.workflowOfRun(query.orgId, params.runId));
  }

  /** Where an upload to a waiting edge goes (404/409 when it cannot go anywhere). */
  @Get('runs/:runId/edges/:edge')
  async uploadTarget(
    @Param() params: RunEdgeParams,
    @Query() query: OrgQueryDto,
  ): Promise<Pick<RunEdge, 'objectKey' | 'filename' | 'putUrl'>> {
    const edge = await this.runs.uploadTarget(query.orgId, params.runId, params.edge);
    return { objectKey: edge.objectKey, filename: edge.filename, putUrl: edge.putUrl };
  }

  /** The bytes are at the edge's key: fill it and resume the run. */
  @Post('runs/:runId/edges/:edge/complete')
  @HttpCode(200)
  completeUpload(@Param() params: RunEdgeParams, @Body() cmd: OrgCallerDto): Promise<FlowRunView> {
    return this.runs.completeUpload(cmd.orgId, params.runId, params.edge, cmd.actor);
  }
}
