import { Controller, Get, Inject, Query } from '@nestjs/common';
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
import { ServiceClient } from '@lib/internal-http';
import { UsageAggregatorClient } from '../services/service-clients.module';
import { StorageUsageDto, StorageUsageQueryDto } from './dto/storage-usage.dto';

/** Seed 000 storage usage, read from the usage-aggregator's pre-computed aggregates (constant time). */
@ApiTags('usage')
@Controller('api/v1/objects')
@Authenticated('bearer')
export class UsageController {
  constructor(@Inject(UsageAggregatorClient) private readonly usage: ServiceClient) {}

  @Get('storage-usage')
  @ApiOperation({ summary: 'Storage usage of the caller’s organization (or of one user in it)' })
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
    const usage = await this.usage.call<StorageUsageDto>(
      'GET',
      `/internal/usage/${principal.orgId}`,
      { query: { createdBy: query.createdBy } },
    );
    return { ...usage, orgKey: principal.orgKey };
  }
}
