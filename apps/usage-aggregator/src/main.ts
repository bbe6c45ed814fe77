import './tracing';
import { bootstrapService } from '@lib/app';
import { AppModule, SERVICE } from './app.module';
import { UsageAggregatorConfig } from './config/usage-aggregator.config';

void bootstrapService(AppModule, SERVICE, UsageAggregatorConfig);
