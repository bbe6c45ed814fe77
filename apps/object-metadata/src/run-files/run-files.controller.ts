import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { RecordRunFileCommand } from '@lib/contracts';
import { LatestRunFileQueryDto } from './run-files.dto';
import { RunFilesService } from './run-files.service';

/** Internal HTTP API of run files, called by the flow-orchestrator. */
@Controller('internal/run-files')
export class RunFilesController {
  constructor(private readonly files: RunFilesService) {}

  @Post()
  @HttpCode(200)
  record(@Body() cmd: RecordRunFileCommand) {
    return this.files.record(cmd);
  }

  @Get('latest')
  latest(@Query() q: LatestRunFileQueryDto) {
    return this.files.latest(q.orgId, q.workflowId, q.direction, q.filename);
  }
}
