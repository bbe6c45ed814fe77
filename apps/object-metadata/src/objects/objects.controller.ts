import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  MetadataKeyParams,
  MetadataKeysView,
  MetadataValuesView,
  ObjectIdParams,
  ObjectListParams,
  ObjectListView,
  ObjectView,
  type ServicePrincipal,
} from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { ObjectsService } from './objects.service';

/**
 * Internal HTTP API, called by the gateway once it has authenticated the org: the org is the one of the
 * call's principal. Answers are the Objects API's views, ready to send: the gateway adds nothing. Create, get and
 * download URL are batched calls (BatchController).
 */
@Controller('internal/objects')
@CalledBy('gateway')
export class ObjectsController {
  constructor(private readonly objects: ObjectsService) {}

  @Get()
  list(
    @OnBehalfOf() principal: ServicePrincipal,
    @Query() query: ObjectListParams,
  ): Promise<ObjectListView> {
    return this.objects.list({ orgId: principal.orgId }, query);
  }

  /** `list_public`: the objects every org published, which the public API lists to any caller. */
  @Get('public')
  listPublic(@Query() query: ObjectListParams): Promise<ObjectListView> {
    return this.objects.list({ published: true }, query);
  }

  @Get('metadata/keys')
  metadataKeys(@OnBehalfOf() principal: ServicePrincipal): Promise<MetadataKeysView> {
    return this.objects.metadataKeys(principal.orgId);
  }

  @Get('metadata/keys/:key/values')
  metadataValues(
    @OnBehalfOf() principal: ServicePrincipal,
    @Param() params: MetadataKeyParams,
  ): Promise<MetadataValuesView> {
    return this.objects.metadataValues(principal.orgId, params.key);
  }

  @Post(':id/complete')
  @HttpCode(200)
  complete(
    @OnBehalfOf() principal: ServicePrincipal,
    @Param() params: ObjectIdParams,
  ): Promise<ObjectView> {
    return this.objects.complete(principal.orgId, params.id, principal.actor);
  }

  @Post(':id/delete')
  @HttpCode(200)
  delete(
    @OnBehalfOf() principal: ServicePrincipal,
    @Param() params: ObjectIdParams,
  ): Promise<ObjectView> {
    return this.objects.delete(principal.orgId, params.id, principal.actor);
  }

  @Post(':id/publish')
  @HttpCode(200)
  publish(
    @OnBehalfOf() principal: ServicePrincipal,
    @Param() params: ObjectIdParams,
  ): Promise<ObjectView> {
    return this.objects.setPublic(principal.orgId, params.id, true);
  }

  @Post(':id/unpublish')
  @HttpCode(200)
  unpublish(
    @OnBehalfOf() principal: ServicePrincipal,
    @Param() params: ObjectIdParams,
  ): Promise<ObjectView> {
    return this.objects.setPublic(principal.orgId, params.id, false);
  }
}
