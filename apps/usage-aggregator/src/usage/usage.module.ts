import { Module } from '@nestjs/common';
import { ProcessedEventsPruner } from './processed-events-pruner';
import { StorageFileConsumer } from './storage-file.consumer';
import { UsageController } from './usage.controller';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';

@Module({
  controllers: [UsageController],
  providers: [UsageRepository, UsageService, StorageFileConsumer, ProcessedEventsPruner],
})
export class UsageModule {}
