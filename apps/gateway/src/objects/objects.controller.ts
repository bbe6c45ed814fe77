import { Body, Controller, Get, Inject, Param, Post, HttpCode } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Principal, RequireCapability } from '@lib/auth';
import { ServiceClient } from '@lib/internal-http';
import { ObjectMetadataClient, StorageClient } from '../services/service-clients.module';
import { CreateObjectRequestDto } from './dto/create-object-request.dto';

interface ObjectRecord {
  view: Record<string, unknown>;
  objectKey: string;
}

/** How long a create's `upload_url` stays valid. */
const UPLOAD_URL_TTL_SECONDS = 3600;

/** Seed 001 Objects API (`/v1/objects`), routed to object-metadata (records) and storage (presigned URLs). */
@ApiTags('objects')
@Controller('v1/objects')
@Authenticated('bearer')
@RequireCapability('objects')
export class ObjectsController {
  constructor(
    @Inject(ObjectMetadataClient) private readonly metadata: ServiceClient,
    @Inject(StorageClient) private readonly storage: ServiceClient,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Create an Object and get a presigned upload URL' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateObjectRequestDto) {
    const record = await this.metadata.call<ObjectRecord>('POST', '/internal/objects', {
      body: {
        ...body,
        orgId: principal.orgId,
        orgKey: principal.orgKey,
        createdBy: principal.userId,
        actor: principal.userId
          ? { type: 'user', id: principal.userId }
          : { type: 'api_key', id: principal.apiKeyId ?? principal.orgId },
      },
    });
    const { url } = await this.storage.call<{ url: string }>('POST', '/internal/presign', {
      body: { key: record.objectKey, method: 'PUT', expiresInSeconds: UPLOAD_URL_TTL_SECONDS },
    });
    return { ...record.view, upload_url: url };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an Object' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const record = await this.metadata.call<ObjectRecord>(
      'GET',
      `/internal/objects/${encodeURIComponent(id)}`,
      { query: { orgId: principal.orgId } },
    );
    return record.view;
  }
}
