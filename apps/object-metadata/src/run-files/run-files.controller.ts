import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  LatestRunFileQuery,
  parseObjectKey,
  RecordRunFileCommand,
  type ServicePrincipal,
} from '@lib/contracts';
import { ValidationFailedException } from '@lib/errors';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { RunFilesService } from './run-files.service';

/**
 * Internal HTTP API of run files, for the org of the call's principal: the flow-orchestrator records its
 * runs' inputs and artifacts, the gateway the direct uploads to a workflow.
 */
@Controller('internal/run-files')
export class RunFilesController {
  constructor(private readonly files: RunFilesService) {}

  @Post()
  @HttpCode(200)
  @CalledBy('gateway', 'flow-orchestrator')
  record(@OnBehalfOf() p: ServicePrincipal, @Body() cmd: RecordRunFileCommand) {
    const parsed = parseObjectKey(cmd.objectKey);
    if (parsed?.kind !== 'run_file' || parsed.orgKey !== p.orgKey) {
      throw new ValidationFailedException('objectKey is not a run file key of this org');
    }
    return this.files.record(cmd, p);
  }

  @Get('latest')
  @CalledBy('flow-orchestrator')
  latest(@OnBehalfOf() p: ServicePrincipal, @Query() q: LatestRunFileQuery) {
    return this.files.latest(p.orgId, q.workflowId, q.direction, q.filename);
  }
}
