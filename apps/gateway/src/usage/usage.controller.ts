import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Principal } from '@lib/auth';
import { ServiceClient } from '@lib/internal-http';
import { UsageAggregatorClient } from '../services/service-clients.module';

/** Seed 000 storage usage, read from the usage-aggregator's pre-computed aggregates. */
@ApiTags('usage')
@Controller('api/v1/objects')
@Authenticated('bearer')
export class UsageController {
  constructor(@Inject(UsageAggregatorClient) private readonly usage: ServiceClient) {}

  @Get('storage-usage')
  @ApiOperation({ summary: 'Storage usage of the caller’s organization' })
  async storageUsage(@CurrentPrincipal() principal: Principal) {
    const usage = await this.usage.call<{ orgKey: string | null }>(
      'GET',
      `/internal/usage/${principal.orgId}`,
    );
    return { ...usage, orgKey: principal.orgKey };
  }
}
