import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  MetadataKeyParams,
  MetadataKeysView,
  MetadataValuesView,
  ObjectIdParams,
  ObjectListView,
  ObjectView,
} from '@lib/contracts';
import { OrgCommandDto } from './dto/create-object.dto';
import {
  ListOrgObjectsQueryDto,
  ListPublicObjectsQueryDto,
  OrgQueryDto,
} from './dto/object-queries.dto';
import { ObjectsService } from './objects.service';

/**
 * Internal HTTP API, called by the gateway once it has authenticated the org. Answers are seed 001's views,
 * ready to send: the gateway adds nothing. Create, get and download URL are batched calls (BatchController).
 */
@Controller('internal/objects')
export class ObjectsController {
  constructor(private readonly objects: ObjectsService) {}

  @Get()
  list(@Query() query: ListOrgObjectsQueryDto): Promise<ObjectListView> {
    return this.objects.list({ orgId: query.orgId }, query);
  }

  @Get('public')
  listPublic(@Query() query: ListPublicObjectsQueryDto): Promise<ObjectListView> {
    return this.objects.list({ published: true }, query);
  }

  @Get('metadata/keys')
  metadataKeys(@Query() query: OrgQueryDto): Promise<MetadataKeysView> {
    return this.objects.metadataKeys(query.orgId);
  }

  @Get('metadata/keys/:key/values')
  metadataValues(
    @Param() params: MetadataKeyParams,
    @Query() query: OrgQueryDto,
  ): Promise<MetadataValuesView> {
    return this.objects.metadataValues(query.orgId, params.key);
  }

  @Post(':id/complete')
  @HttpCode(200)
  complete(@Param() params: ObjectIdParams, @Body() cmd: OrgCommandDto): Promise<ObjectView> {
    return this.objects.complete(cmd.orgId, params.id, cmd.actor);
  }

  @Post(':id/delete')
  @HttpCode(200)
  delete(@Param() params: ObjectIdParams, @Body() cmd: OrgCommandDto): Promise<ObjectView> {
    return this.objects.delete(cmd.orgId, params.id, cmd.actor);
  }

  @Post(':id/publish')
  @HttpCode(200)
  publish(@Param() params: ObjectIdParams, @Body() cmd: OrgCommandDto): Promise<ObjectView> {
    return this.objects.setPublic(cmd.orgId, params.id, true);
  }

  @Post(':id/unpublish')
  @HttpCode(200)
  unpublish(@Param() params: ObjectIdParams, @Body() cmd: OrgCommandDto): Promise<ObjectView> {
    return this.objects.setPublic(cmd.orgId, params.id, false);
  }
}
