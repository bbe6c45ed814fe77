import { Controller, Get, Query } from '@nestjs/common';
import type { ServicePrincipal } from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { UsageQueryDto } from './dto/usage-query.dto';
import { StorageUsageDto, UsageService } from './usage.service';

/**
 * Internal HTTP API: the gateway's `GET /api/v1/objects/storage-usage` reads these aggregates, of the org of
 * the call's principal.
 */
@Controller('internal/usage')
@CalledBy('gateway')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  forOrg(
    @OnBehalfOf() principal: ServicePrincipal,
    @Query() query: UsageQueryDto,
  ): Promise<StorageUsageDto> {
    return this.usage.forOrg(principal.orgId, query.createdBy);
  }
}
