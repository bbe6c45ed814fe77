import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Principal, RequireCapability } from '@lib/auth';
import {
  MetadataKeyParams,
  MetadataKeysView,
  MetadataValuesView,
  ObjectDownloadUrlView,
  ObjectListView,
  ObjectView,
  OBJECT_LIMITS,
} from '@lib/contracts';
import { ObjectMetadataClient, type JsonText } from '@lib/clients';
import { ApiErrors, ErrorAnswer } from '../docs/error-responses';
import { BodyLimit } from '../http/body-limits';
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
import { ObjectIdGuard } from './object-id.guard';

/** The content type Fastify gives JSON answers, for the ones passed on as text. */
const JSON_TYPE = 'application/json; charset=utf-8';

// The examples and error answers of the OpenAPI document (`/docs-json`).
const EXAMPLE_ID = 'obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e5f';
const CREATED_EXAMPLE = {
  id: EXAMPLE_ID,
  name: 'report.txt',
  state: 'UPLOADING',
  size_bytes: null,
  content_type: 'text',
  create_time_ms: 1_767_225_600_000,
  delete_after_time_ms: 1_767_312_000_000,
  metadata: { team: 'blue' },
  upload_url: `https://objects.example.com/org/uploads/${EXAMPLE_ID}?X-Amz-Expires=3600&X-Amz-Signature=…`,
};
const COMPLETED_EXAMPLE = {
  ...CREATED_EXAMPLE,
  state: 'READ_ONLY',
  size_bytes: 14,
  upload_url: undefined,
};
const LIST_EXAMPLE = { objects: [COMPLETED_EXAMPLE], has_more: false, total_count: 1 };
const CREATE_EXAMPLES = {
  text: {
    summary: 'A text file kept for a day',
    value: {
      name: 'report.txt',
      content_type: 'text',
      metadata: { team: 'blue' },
      ttl_ms: 86_400_000,
    },
  },
  archive: {
    summary: 'An archive kept until deleted',
    value: { name: 'site.tgz', content_type: 'tgz' },
  },
};
const ID_PARAM = {
  name: 'id',
  description: 'The Object’s id (`obj_` and 32 hex digits); any other id is a 404.',
  example: EXAMPLE_ID,
};
const EMPTY_BODY = {
  required: false,
  description: 'Absent or `{}`: a body with any field is a 400.',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  examples: { empty: { summary: 'No fields', value: {} } },
} as const;
const NOT_FOUND: ErrorAnswer = {
  description: 'Object not found: no Object of the organization has this id.',
  code: 'OBJECT_NOT_FOUND',
  message: `object ${EXAMPLE_ID} not found`,
};
const BODY_WITH_FIELDS: ErrorAnswer = {
  description: 'A body with fields (it must be absent or `{}`).',
  message: 'property force should not exist',
};
const QUERY_INVALID: ErrorAnswer = {
  description:
    'A query parameter out of range, of the wrong type, unknown or repeated: the message names it.',
  message: `limit must not be greater than ${OBJECT_LIMITS.list.max}`,
};

/**
 * The Objects API (`/v1/objects`) plus the publish/unpublish extension. Every operation is one call to
 * object-metadata (one hop after the gateway), which answers the Objects API's views as they are sent: it signs
 * upload and download URLs itself. Validation (the shared contract) and authentication happen here; the
 * org always comes from the credential, never from the request.
 */
@ApiTags('objects')
@ApiErrors({
  401: { description: 'Unauthorized. Invalid or missing authentication.', code: 'UNAUTHORIZED' },
  403: {
    description: 'Forbidden. Account does not have devbox capability.',
    message: 'Forbidden. Account does not have devbox capability',
  },
})
@Controller('v1/objects')
@Authenticated('bearer')
@RequireCapability('objects')
export class ObjectsController {
  constructor(private readonly metadata: ObjectMetadataClient) {}

  @Post()
  @BodyLimit(OBJECT_LIMITS.createBodyBytes)
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createObject',
    summary: 'Create an Object.',
    description:
      'Create a new Object with a name, a content type and optional metadata and lifetime; PUT its bytes ' +
      'to `upload_url`, then complete it.',
  })
  @ApiBody({ type: CreateObjectRequestDto, required: false, examples: CREATE_EXAMPLES })
  @ApiOkResponse({
    type: ObjectViewDto,
    description: 'The new Object, UPLOADING, with a presigned PUT `upload_url` (valid 1 h).',
    example: CREATED_EXAMPLE,
  })
  @ApiErrors({
    400: {
      description: 'Invalid body: the message names each invalid or unknown field.',
      message: 'content_type must be one of unspecified, text, binary, gzip, tar, tgz',
    },
    413: {
      description: `The body is larger than ${OBJECT_LIMITS.createBodyBytes} bytes.`,
      message: `The request body is larger than the ${OBJECT_LIMITS.createBodyBytes} bytes this route accepts`,
    },
  })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateObjectRequestDto,
  ): Promise<ObjectView> {
    return this.metadata.createObject(servicePrincipalOf(principal), body);
  }

  @Get()
  @ApiOperation({
    operationId: 'listObjects',
    summary: 'List Objects.',
    description: "The org's Objects, newest first, a page at a time.",
  })
  @ApiOkResponse({
    type: ObjectListViewDto,
    description: 'One page of Objects.',
    example: LIST_EXAMPLE,
  })
  @ApiErrors({ 400: QUERY_INVALID })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListObjectsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonText<ObjectListView>> {
    const page = await this.metadata.listObjects(servicePrincipalOf(principal), query);
    void reply.type(JSON_TYPE);
    return page; // object-metadata's ObjectListView, passed on unparsed
  }

  @Get('list_public')
  @ApiOperation({
    operationId: 'listPublicObjects',
    summary: 'List Public Objects.',
    description: 'The Objects every org has published, newest first, a page at a time.',
  })
  @ApiOkResponse({
    type: ObjectListViewDto,
    description: 'One page of Objects.',
    example: LIST_EXAMPLE,
  })
  @ApiErrors({ 400: QUERY_INVALID })
  async listPublic(
    @Query() query: ListObjectsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonText<ObjectListView>> {
    const page = await this.metadata.listPublicObjects(query);
    void reply.type(JSON_TYPE);
    return page; // object-metadata's ObjectListView, passed on unparsed
  }

  @Get('metadata/keys')
  @ApiOperation({
    operationId: 'getObjectMetadataKeys',
    summary: "Distinct metadata keys of the org's live objects.",
  })
  @ApiOkResponse({
    type: MetadataKeysViewDto,
    description: 'The keys, sorted.',
    example: { keys: ['project', 'team'] },
  })
  metadataKeys(@CurrentPrincipal() principal: Principal): Promise<MetadataKeysView> {
    return this.metadata.metadataKeys(servicePrincipalOf(principal));
  }

  @Get('metadata/keys/:key/values')
  @ApiOperation({
    operationId: 'getObjectMetadataValues',
    summary: "Distinct values of one metadata key over the org's live objects.",
  })
  @ApiOkResponse({
    type: MetadataValuesViewDto,
    description: 'The values, sorted (none for an unknown key).',
    example: { key: 'team', values: ['blue', 'green'] },
  })
  @ApiErrors({
    400: {
      description: 'Invalid metadata key provided.',
      message: `key must be a metadata key: 1 to ${OBJECT_LIMITS.metadata.keyBytes} bytes without control characters`,
    },
  })
  metadataValues(
    @CurrentPrincipal() principal: Principal,
    @Param() params: MetadataKeyParams,
  ): Promise<MetadataValuesView> {
    return this.metadata.metadataValues(servicePrincipalOf(principal), params);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getObject', summary: 'Get an Object.' })
  @UseGuards(ObjectIdGuard)
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: ObjectViewDto, description: 'The Object.', example: COMPLETED_EXAMPLE })
  @ApiErrors({ 404: NOT_FOUND })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ObjectView> {
    return this.metadata.getObject(servicePrincipalOf(principal), { id });
  }

  @Post(':id/complete')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'completeObject',
    summary: 'Complete Object Upload.',
    description: 'Mark the upload complete: the Object turns READ_ONLY with its `size_bytes`.',
  })
  @UseGuards(ObjectIdGuard)
  @ApiParam(ID_PARAM)
  @ApiBody(EMPTY_BODY)
  @ApiOkResponse({ type: ObjectViewDto, description: 'The Object.', example: COMPLETED_EXAMPLE })
  @ApiErrors({
    400: {
      description:
        'OBJECT_NOT_UPLOADED: no bytes reached `upload_url` yet (the object stays UPLOADING); or a body ' +
        'with fields.',
      code: 'OBJECT_NOT_UPLOADED',
      message: `object ${EXAMPLE_ID} has no content yet: PUT the bytes to its upload_url, then complete it`,
    },
    403: {
      description:
        'Forbidden. Account does not have devbox capability; or QUOTA_EXCEEDED: the bytes would pass ' +
        'the organization’s storage quota (they were removed; the object stays UPLOADING).',
      code: 'QUOTA_EXCEEDED',
    },
    404: NOT_FOUND,
    409: {
      description: 'Object is not in UPLOADING state.',
      code: 'OBJECT_NOT_UPLOADING',
      message: `object ${EXAMPLE_ID} is READ_ONLY, not UPLOADING: only an uploading object can be completed`,
    },
    413: {
      description:
        'OBJECT_TOO_LARGE: the upload is larger than the most an object may hold; it was removed (the ' +
        'object stays UPLOADING). Or a request body over the limit.',
      code: 'OBJECT_TOO_LARGE',
    },
  })
  complete(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.metadata.completeObject(servicePrincipalOf(principal), { id });
  }

  @Post(':id/delete')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'deleteObject',
    summary: 'Delete an Object.',
    description:
      'The Object turns DELETED and its bytes are removed; deleting it again answers it again.',
  })
  @UseGuards(ObjectIdGuard)
  @ApiParam(ID_PARAM)
  @ApiBody(EMPTY_BODY)
  @ApiOkResponse({
    type: ObjectViewDto,
    description: 'The deleted Object.',
    example: { ...COMPLETED_EXAMPLE, state: 'DELETED' },
  })
  @ApiErrors({ 400: BODY_WITH_FIELDS, 404: NOT_FOUND })
  delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.metadata.deleteObject(servicePrincipalOf(principal), { id });
  }

  @Get(':id/download')
  @ApiOperation({
    operationId: 'generateDownloadUrl',
    summary: 'Generate Download URL for Object.',
  })
  @UseGuards(ObjectIdGuard)
  @ApiParam(ID_PARAM)
  @ApiOkResponse({
    type: ObjectDownloadUrlViewDto,
    description: 'A presigned GET URL, valid for `duration_seconds` (default 1 h).',
    example: {
      download_url: `https://objects.example.com/org/objects/${EXAMPLE_ID}?X-Amz-Expires=3600&X-Amz-Signature=…`,
    },
  })
  @ApiErrors({
    400: {
      description: 'Bad request. Object is in deleted state or invalid parameters.',
      code: 'OBJECT_DELETED',
      message: `object ${EXAMPLE_ID} is DELETED: cannot download it`,
    },
    404: NOT_FOUND,
  })
  download(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: DownloadQueryDto,
  ): Promise<ObjectDownloadUrlView> {
    return this.metadata.objectDownloadUrl(servicePrincipalOf(principal), {
      id,
      duration_seconds: query.duration_seconds,
    });
  }

  @Post(':id/publish')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'publishObject',
    summary: 'List the Object in list_public (extension; owner org only).',
  })
  @UseGuards(ObjectIdGuard)
  @ApiParam(ID_PARAM)
  @ApiBody(EMPTY_BODY)
  @ApiOkResponse({ type: ObjectViewDto, description: 'The Object.', example: COMPLETED_EXAMPLE })
  @ApiErrors({
    400: {
      description: 'OBJECT_DELETED: a DELETED object cannot be published; or a body with fields.',
      code: 'OBJECT_DELETED',
      message: `object ${EXAMPLE_ID} is DELETED: cannot publish it`,
    },
    404: NOT_FOUND,
  })
  publish(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.metadata.publishObject(servicePrincipalOf(principal), { id });
  }

  @Post(':id/unpublish')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'unpublishObject',
    summary: 'Stop listing the Object in list_public (extension; owner org only).',
  })
  @UseGuards(ObjectIdGuard)
  @ApiParam(ID_PARAM)
  @ApiBody(EMPTY_BODY)
  @ApiOkResponse({ type: ObjectViewDto, description: 'The Object.', example: COMPLETED_EXAMPLE })
  @ApiErrors({ 400: BODY_WITH_FIELDS, 404: NOT_FOUND })
  unpublish(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(EmptyBodyPipe) _body: undefined,
  ): Promise<ObjectView> {
    return this.metadata.unpublishObject(servicePrincipalOf(principal), { id });
  }
}
