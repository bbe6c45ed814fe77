import { Controller, Get, Query } from '@nestjs/common';
import { UsageQuery, type ServicePrincipal, type UsageView } from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { UsageService } from './usage.service';

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
    @Query() query: UsageQuery,
  ): Promise<UsageView> {
    return this.usage.forOrg(principal.orgId, query.createdBy);
  }
}
