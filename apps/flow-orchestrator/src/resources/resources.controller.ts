import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ResourceUrlCommand,
  type ResourceDownloadUrlView,
  type ServicePrincipal,
} from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { ResourcesService } from './resources.service';

@Controller('internal/resources')
@CalledBy('gateway')
export class ResourcesController {
  constructor(private readonly resources: ResourcesService) {}

  @Post('download-url')
  @HttpCode(200)
  downloadUrl(
    @OnBehalfOf() principal: ServicePrincipal,
    @Body() cmd: ResourceUrlCommand,
  ): Promise<ResourceDownloadUrlView> {
    return this.resources.downloadUrl(principal, cmd.resourceUri);
  }
}
