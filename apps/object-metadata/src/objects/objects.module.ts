import { Module } from '@nestjs/common';
import { QuotasModule } from '../quotas/quotas.module';
import { TtlQueueModule } from '../ttl/ttl-queue.module';
import { ObjectCountsCompactor } from './object-counts-compactor.service';
import { ObjectFileLocator } from './object-file-locator';
import { ObjectsController } from './objects.controller';
import { ObjectsRepository } from './objects.repository';
import { ObjectsService } from './objects.service';

@Module({
  imports: [QuotasModule, TtlQueueModule],
  controllers: [ObjectsController],
  providers: [ObjectsService, ObjectsRepository, ObjectFileLocator, ObjectCountsCompactor],
  exports: [ObjectsService, ObjectsRepository],
})
export class ObjectsModule {}
