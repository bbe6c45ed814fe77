import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { validateEnv } from '@lib/config';
import { dataSourceOptions } from '@lib/database';
import { EVENTS_CONSUMER_ENTITIES } from '@lib/events';
import { HealthModule, MetricsModule, postgresCheck } from '@lib/observability';
import { DataSource } from 'typeorm';
import { UsageAggregatorEnv } from './config/usage-aggregator.env';
import { USAGE_SCHEMA } from './database/migrations';
import { UsageModule } from './usage/usage.module';

export const SERVICE = 'usage-aggregator';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      ignoreEnvFile: true,
      validate: validateEnv(UsageAggregatorEnv),
    }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<UsageAggregatorEnv, true>) =>
        dataSourceOptions({
          url: config.get('DATABASE_URL', { infer: true }),
          schema: USAGE_SCHEMA,
          entities: [...EVENTS_CONSUMER_ENTITIES],
          poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }),
          applicationName: SERVICE,
        }),
    }),
    MetricsModule.forRoot({ service: SERVICE }),
    // Kafka is not a readiness dependency: reads keep being served from the aggregates while the
    // broker is away, and the consumer catches up when it returns.
    HealthModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => [postgresCheck(dataSource)],
    }),
    UsageModule,
  ],
})
export class AppModule {}
