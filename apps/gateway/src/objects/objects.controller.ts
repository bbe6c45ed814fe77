import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Principal, RequireCapability } from '@lib/auth';
import {
  MetadataKeyParams,
  MetadataKeysView,
  MetadataValuesView,
  ObjectDownloadUrlView,
  ObjectIdParams,
  ObjectView,
  OBJECT_LIMITS,
  OBJECT_METADATA_BATCH_OPS as OPS,
  ObjectCreateCall,
  ObjectDownloadUrlCall,
  ObjectReadCall,
} from '@lib/contracts';
import { ServiceClient } from '@lib/internal-http';
import { BodyLimit } from '../http/body-limits';
import { ObjectMetadataClient } from '../services/service-clients.module';
import { servicePrincipalOf } from '../services/service-principal';
import { CreateObjectRequestDto } from './dto/create-object-request.dto';
import { DownloadQueryDto, ListObjectsQueryDto } from './dto/object-queries.dto';
import {
  MetadataKeysViewDto,
  MetadataValuesViewDto,
  ObjectDownloadUrlViewDto,
  ObjectListViewDto,
  ObjectViewDto,
} from './dto/object-views.dto';
import { EmptyBodyPipe } from './empty-body.pipe';

const objectPath = (id: string, action: string) => `/internal/objects/${id}${action}`;

/** The content type Fastify gives JSON answers, for the ones passed on as text. */
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The Objects API (`/v1/objects`) plus the publish/unpublish extension. Every operation is one call to
 * object-metadata (one hop after the gateway), which answers the Objects API's views as they are sent: it signs
 * upload and download URLs itself. Validation (the shared contract) and authentication happen here; the
 * org always comes from the credential, never from the request.
 */
@ApiTags('objects')
@ApiUnauthorizedResponse({ description: 'Unauthorized. Invalid or missing authentication.' })
@ApiForbiddenResponse({ description: 'Forbidden. Account does not have devbox capability.' })
@ApiBadRequestResponse({ description: 'Invalid parameters: the message names each field.' })
@Controller('v1/objects')
@Authenticated('bearer')
@RequireCapability('objects')
export class ObjectsController {
  constructor(@Inject(ObjectMetadataClient) private readonly metadata: ServiceClient) {}

  @Post()
  @BodyLimit(OBJECT_LIMITS.createBodyBytes)
  @HttpCode(200)
  @ApiOperation({ operationId: 'createObject', summary: 'Create an Object.' })
  @ApiOkResponse({ type: ObjectViewDto, description: 'With a presigned PUT `upload_url` (1 h).' })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateObjectRequestDto,
  ): Promise<ObjectView> {
    return this.metadata.batched<ObjectView>(
      OPS.objectCreate,
      body satisfies ObjectCreateCall,
      servicePrincipalOf(principal),
    );
  }

  @Get()
  @ApiOperation({ operationId: 'listObjects', summary: 'List Objects.' })
  @ApiOkResponse({ type: ObjectListViewDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListObjectsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const page = await this.metadata.callJsonText('/internal/objects', {
      principal: servicePrincipalOf(principal),
      query: { ...query },
    });
    void reply.type(JSON_TYPE);
    return page; // object-metadata's ObjectListView, passed on unparsed
  }

  @Get('list_public')
  @ApiOperation({ operationId: 'listPublicObjects', summary: 'List Public Objects.' })
  @ApiOkResponse({ type: ObjectListViewDto })
  async listPublic(
    @Query() query: ListObjectsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const page = await this.metadata.callJsonText('/internal/objects/public', {
      query: { ...query },
    });
    void reply.type(JSON_TYPE);
    return page; // object-metadata's ObjectListView, passed on unparsed
  }

  @Get('metadata/keys')
  @ApiOperation({
    operationId: 'getObjectMetadataKeys',
    summary: "Distinct metadata keys of the org's live objects.",
  })
  @ApiOkResponse({ type: MetadataKeysViewDto })
  metadataKeys(@CurrentPrincipal() principal: Principal): Promise<MetadataKeysView> {
    return this.metadata.call<MetadataKeysView>('GET', '/internal/objects/metadata/keys', {
      principal: servicePrincipalOf(principal),
    });
  }

  @Get('metadata/keys/:key/values')
  @ApiOperation({
    operationId: 'getObjectMetadataValues',
    summary: "Distinct values of one metadata key over the org's live objects.",
  })
  @ApiOkResponse({ type: MetadataValuesViewDto })
  metadataValues(
    @CurrentPrincipal() principal: Principal,
    @Param() params: MetadataKeyParams,
  ): Promise<MetadataValuesView> {
    return this.metadata.call<MetadataValuesView>(
      'GET',
      `/internal/objects/metadata/keys/${encodeURIComponent(params.key)}/values`,
      { principal: servicePrincipalOf(principal) },
    );
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getObject', summary: 'Get an Object.' })
  @ApiOkResponse({ type: ObjectViewDto })
  @ApiNotFoundResponse({ description: 'Object not found.' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param() params: ObjectIdParams,
  ): Promise<ObjectView> {
    return this.metadata.batched<ObjectView>(
      OPS.objectGet,
      { id: params.id } satisfies ObjectReadCall,
      servicePrincipalOf(principal),
    );
  }

  @Post(':id/complete')
  @HttpCode(200)
  @ApiOperation({ operationId: 'completeObject', summary: 'Complete Object Upload.' })
  @ApiOkResponse({ type: ObjectViewDto })
  @ApiNotFoundResponse({ description: 'Object not found.' })
  @ApiConflictResponse({ description: 'Object is not in UPLOADING state.' })
  @ApiPayloadTooLargeResponse({
    description:
      'OBJECT_TOO_LARGE: the upload is larger than the most an object may hold; it was removed (the object stays UPLOADING). A 403 QUOTA_EXCEEDED likewise when it would pass the organization’s storage quota.',
  })
  complete(
    @CurrentPrincipal() principal: Principal,
    @Param() params: ObjectIdParams,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.command(principal, params.id, '/complete');
  }

  @Post(':id/delete')
  @HttpCode(200)
  @ApiOperation({ operationId: 'deleteObject', summary: 'Delete an Object.' })
  @ApiOkResponse({ type: ObjectViewDto })
  @ApiNotFoundResponse({ description: 'Object not found.' })
  delete(
    @CurrentPrincipal() principal: Principal,
    @Param() params: ObjectIdParams,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.command(principal, params.id, '/delete');
  }

  @Get(':id/download')
  @ApiOperation({
    operationId: 'generateDownloadUrl',
    summary: 'Generate Download URL for Object.',
  })
  @ApiOkResponse({ type: ObjectDownloadUrlViewDto })
  @ApiNotFoundResponse({ description: 'Object not found.' })
  download(
    @CurrentPrincipal() principal: Principal,
    @Param() params: ObjectIdParams,
    @Query() query: DownloadQueryDto,
  ): Promise<ObjectDownloadUrlView> {
    return this.metadata.batched<ObjectDownloadUrlView>(
      OPS.objectDownloadUrl,
      { id: params.id, duration_seconds: query.duration_seconds } satisfies ObjectDownloadUrlCall,
      servicePrincipalOf(principal),
    );
  }

  @Post(':id/publish')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'publishObject',
    summary: 'List the Object in list_public (extension; owner org only).',
  })
  @ApiOkResponse({ type: ObjectViewDto })
  @ApiNotFoundResponse({ description: 'Object not found.' })
  publish(
    @CurrentPrincipal() principal: Principal,
    @Param() params: ObjectIdParams,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.command(principal, params.id, '/publish');
  }

  @Post(':id/unpublish')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'unpublishObject',
    summary: 'Stop listing the Object in list_public (extension; owner org only).',
  })
  @ApiOkResponse({ type: ObjectViewDto })
  @ApiNotFoundResponse({ description: 'Object not found.' })
  unpublish(
    @CurrentPrincipal() principal: Principal,
    @Param() params: ObjectIdParams,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.command(principal, params.id, '/unpublish');
  }

  private command(principal: Principal, id: string, action: string): Promise<ObjectView> {
    return this.metadata.call<ObjectView>('POST', objectPath(id, action), {
      principal: servicePrincipalOf(principal),
    });
  }
}
