import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  FlowNameParams,
  RunEdgeParams,
  RunIdParams,
  StartFlowCommand,
  WorkflowIdParams,
  type FlowRunView,
  type RunUploadTarget,
  type ServicePrincipal,
  type WorkflowRef,
} from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { Workflow } from './runs.repository';
import { RunTriggersService } from './run-triggers.service';
import { RunUploadEdgesService } from './run-upload-edges.service';
import { RunViews } from './run-views';
import { WorkflowDefinitionsService } from './workflow-definitions.service';

const workflowView = (w: Workflow): WorkflowRef => ({
  id: w.id,
  name: w.name,
  startingStepId: w.startingStepId,
});

/**
 * Internal HTTP API, called by the gateway once it has authenticated the org: the org is the one of the
 * call's principal.
 */
@Controller('internal')
@CalledBy('gateway')
export class RunsController {
  constructor(
    private readonly triggers: RunTriggersService,
    private readonly workflows: WorkflowDefinitionsService,
    private readonly uploads: RunUploadEdgesService,
    private readonly views: RunViews,
  ) {}

  @Post('flows/:name/runs')
  @HttpCode(200)
  start(
    @OnBehalfOf() p: ServicePrincipal,
    @Param() params: FlowNameParams,
    @Body() cmd: StartFlowCommand,
  ): Promise<FlowRunView> {
    return this.triggers.startByName(params.name, cmd.definition ?? null, p);
  }

  @Get('runs/:runId')
  status(@OnBehalfOf() p: ServicePrincipal, @Param() params: RunIdParams): Promise<FlowRunView> {
    return this.views.status(p.orgId, params.runId);
  }

  /** A workflow of the org (404 otherwise): direct uploads (`POST /api/v1/upload`) check it first. */
  @Get('workflows/:workflowId')
  async workflow(
    @OnBehalfOf() p: ServicePrincipal,
    @Param() params: WorkflowIdParams,
  ): Promise<WorkflowRef> {
    return workflowView(await this.workflows.workflow(p.orgId, params.workflowId));
  }

  /** A workflow of the org by name (404 otherwise): the gateway checks a workflow-scoped token with it. */
  @Get('workflows/by-name/:name')
  async workflowNamed(
    @OnBehalfOf() p: ServicePrincipal,
    @Param() params: FlowNameParams,
  ): Promise<WorkflowRef> {
    return workflowView(await this.workflows.workflowNamed(p.orgId, params.name));
  }

  /** The workflow of a run of the org (404 otherwise): the gateway checks a workflow-scoped token with it. */
  @Get('runs/:runId/workflow')
  async workflowOfRun(
    @OnBehalfOf() p: ServicePrincipal,
    @Param() params: RunIdParams,
  ): Promise<WorkflowRef> {
    return workflowView(await this.workflows.workflowOfRun(p.orgId, params.runId));
  }

  /** Where an upload to a waiting edge goes (404/409 when it cannot go anywhere). */
  @Get('runs/:runId/edges/:edge')
  async uploadTarget(
    @OnBehalfOf() p: ServicePrincipal,
    @Param() params: RunEdgeParams,
  ): Promise<RunUploadTarget> {
    const edge = await this.uploads.uploadTarget(p.orgId, params.runId, params.edge);
    return { objectKey: edge.objectKey, filename: edge.filename, putUrl: edge.putUrl };
  }

  /** The bytes are at the edge's key: fill it and resume the run. */
  @Post('runs/:runId/edges/:edge/complete')
  @HttpCode(200)
  completeUpload(
    @OnBehalfOf() p: ServicePrincipal,
    @Param() params: RunEdgeParams,
  ): Promise<FlowRunView> {
    return this.uploads.completeUpload(p.orgId, params.runId, params.edge, p.actor);
  }
}
