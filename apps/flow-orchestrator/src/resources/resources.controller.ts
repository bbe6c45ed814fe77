import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import type { ResourceDownloadUrlView } from '@lib/contracts';
import { ResourceUrlDto } from '../runs/dto/run-commands.dto';
import { ResourcesService } from './resources.service';

@Controller('internal/resources')
export class ResourcesController {
  constructor(private readonly resources: ResourcesService) {}

  @Post('download-url')
  @HttpCode(200)
  downloadUrl(@Body() cmd: ResourceUrlDto): Promise<ResourceDownloadUrlView> {
    return this.resources.downloadUrl(cmd.orgId, cmd.resourceUri, cmd.scopeWorkflowId);
  }
}
