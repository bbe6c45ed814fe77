import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Principal } from '@lib/auth';
import { ForbiddenException } from '@lib/errors';
import { ObjectMetadataClient, UsageAggregatorClient } from '@lib/clients';
import { servicePrincipalOf } from '../services/service-principal';
import { StorageQuotaDto, StorageUsageDto, StorageUsageQueryDto } from './dto/storage-usage.dto';

/**
 * Storage usage, read from the usage-aggregator's pre-computed aggregates (constant time), with the
 * org's storage quota and its counters from object-metadata (one primary-key read), fetched together.
 */
@ApiTags('usage')
@Controller('api/v1/objects')
@Authenticated('bearer')
export class UsageController {
  constructor(
    private readonly usage: UsageAggregatorClient,
    private readonly metadata: ObjectMetadataClient,
  ) {}

  @Get('storage-usage')
  @ApiOperation({
    summary:
      'Storage usage of the caller’s organization (or of one user in it), with the organization’s storage quota and what is left of it',
  })
  @ApiOkResponse({ type: StorageUsageDto })
  @ApiBadRequestResponse({ description: 'createdBy is not a UUID' })
  @ApiUnauthorizedResponse({ description: 'Missing or invalid credentials' })
  @ApiForbiddenResponse({ description: 'createdBy given by a caller who is not an org admin' })
  async storageUsage(
    @CurrentPrincipal() principal: Principal,
    @Query() query: StorageUsageQueryDto,
  ): Promise<StorageUsageDto> {
    if (query.createdBy !== undefined && principal.role !== 'admin') {
      throw new ForbiddenException('createdBy is for organization admins only');
    }
    const [usage, quota] = await Promise.all([
      this.usage.usage(servicePrincipalOf(principal), { createdBy: query.createdBy }),
      this.metadata.orgQuota(servicePrincipalOf(principal)),
    ]);
    return { ...usage, orgKey: principal.orgKey, quota: StorageQuotaDto.from(quota) };
  }
}
