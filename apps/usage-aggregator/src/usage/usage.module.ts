import { Module } from '@nestjs/common';
import { eventTransportProvider } from '@lib/app';
import type { UsageAggregatorConfig } from '../config/usage-aggregator.config';
import { ProcessedEventsPruner } from './processed-events-pruner';
import { CONSUMER_GROUP, UsageEventsController } from './usage-events.controller';
import { UsageController } from './usage.controller';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';

@Module({
  controllers: [UsageController, UsageEventsController],
  providers: [
    UsageRepository,
    UsageService,
    ProcessedEventsPruner,
    eventTransportProvider<UsageAggregatorConfig>(CONSUMER_GROUP, ({ usage }) => ({
      partitionsConsumedConcurrently: usage.consumerConcurrency,
    })),
  ],
})
export class UsageModule {}
