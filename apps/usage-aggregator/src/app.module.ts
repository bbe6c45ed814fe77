import { Module } from '@nestjs/common';
import { configModule, databaseModule } from '@lib/app';
import { EVENTS_CONSUMER_ENTITIES } from '@lib/events';
import { ServiceTokensModule } from '@lib/internal-http';
import { HealthModule, MetricsModule, postgresCheck } from '@lib/observability';
import { schemaCheck } from '@lib/database';
import { DataSource } from 'typeorm';
import { UsageAggregatorConfig } from './config/usage-aggregator.config';
import { USAGE_SCHEMA, usageMigrations } from './database/migrations';
import { UsageModule } from './usage/usage.module';

export const SERVICE = 'usage-aggregator';

@Module({
  imports: [
    configModule(UsageAggregatorConfig),
    ServiceTokensModule.forApp(SERVICE),
    databaseModule({ service: SERVICE, schema: USAGE_SCHEMA, entities: EVENTS_CONSUMER_ENTITIES }),
    MetricsModule.forRoot({ service: SERVICE }),
    // Kafka is not a readiness dependency: reads keep being served from the aggregates while the
    // broker is away, and the consumer catches up when it returns.
    HealthModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => [
        postgresCheck(dataSource),
        schemaCheck(dataSource, USAGE_SCHEMA, usageMigrations),
      ],
    }),
    UsageModule,
  ],
})
export class AppModule {}
