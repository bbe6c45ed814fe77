import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import type { ResourceDownloadUrlView, ServicePrincipal } from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { ResourceUrlDto } from '../runs/dto/run-commands.dto';
import { ResourcesService } from './resources.service';

@Controller('internal/resources')
@CalledBy('gateway')
export class ResourcesController {
  constructor(private readonly resources: ResourcesService) {}

  @Post('download-url')
  @HttpCode(200)
  downloadUrl(
    @OnBehalfOf() principal: ServicePrincipal,
    @Body() cmd: ResourceUrlDto,
  ): Promise<ResourceDownloadUrlView> {
    return this.resources.downloadUrl(principal, cmd.resourceUri);
  }
}
