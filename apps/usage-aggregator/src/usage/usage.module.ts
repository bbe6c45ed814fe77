import { Module } from '@nestjs/common';
import { eventTransportProvider } from '@lib/app';
import { UsageAggregatorEnv } from '../config/usage-aggregator.env';
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
    eventTransportProvider<UsageAggregatorEnv>(CONSUMER_GROUP, (config) => ({
      partitionsConsumedConcurrently: config.get('USAGE_CONSUMER_CONCURRENCY', { infer: true }),
    })),
  ],
})
export class UsageModule {}
