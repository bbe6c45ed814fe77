import './tracing';
import { bootstrapService } from '@lib/app';
import { EventTransport } from '@lib/events';
import { AppModule, SERVICE } from './app.module';
import { UsageAggregatorConfig } from './config/usage-aggregator.config';

void bootstrapService(AppModule, SERVICE, UsageAggregatorConfig, {
  eventTransport: EventTransport,
});
