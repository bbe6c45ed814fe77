import { Body, Controller, Get, Put } from '@nestjs/common';
import { OrgQuotaParams, type OrgQuotaView, type ServicePrincipal } from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { StorageQuotas } from './storage-quotas.service';

/** Internal HTTP API of storage quotas, for the org of the call's principal; called by the gateway. */
@Controller('internal/quotas')
@CalledBy('gateway')
export class QuotasController {
  constructor(private readonly quotas: StorageQuotas) {}

  /** The org's quota and what counts against it (the storage usage endpoint shows both). */
  @Get()
  view(@OnBehalfOf() p: ServicePrincipal): Promise<OrgQuotaView> {
    return this.quotas.view(p.orgId);
  }

  /** Sets the org's quota (the operator's admin route). */
  @Put()
  set(@OnBehalfOf() p: ServicePrincipal, @Body() body: OrgQuotaParams): Promise<OrgQuotaView> {
    return this.quotas.setLimits(p.orgId, body);
  }
}
