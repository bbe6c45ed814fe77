import { Module } from '@nestjs/common';
import { OrgQuotasRepository } from './org-quotas.repository';
import { QuotasController } from './quotas.controller';
import { StorageQuotas } from './storage-quotas.service';

/** Per-org storage quotas: their counters, checked by every module that writes file records. */
@Module({
  controllers: [QuotasController],
  providers: [OrgQuotasRepository, StorageQuotas],
  exports: [StorageQuotas],
})
export class QuotasModule {}
