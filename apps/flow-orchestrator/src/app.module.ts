import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { Queue } from 'bullmq';
import { configModule, databaseModule, eventsPublisherModule, objectStoreModule } from '@lib/app';
import { QueueName } from '@lib/contracts';
import { EVENTS_PUBLISHER_ENTITIES } from '@lib/events';
import { ServiceTokensModule } from '@lib/internal-http';
import { HealthModule, MetricsModule, postgresCheck, redisCheck } from '@lib/observability';
import { schemaCheck } from '@lib/database';
import { DEFAULT_JOB_OPTIONS, queueConnection } from '@lib/queue';
import { DataSource } from 'typeorm';
import { FlowOrchestratorConfig } from './config/flow-orchestrator.config';
import { FLOW_SCHEMA, flowMigrations } from './database/migrations';
import { BatchModule } from './batch/batch.module';
import { RunsModule } from './runs/runs.module';

export const SERVICE = 'flow-orchestrator';

@Module({
  imports: [
    configModule(FlowOrchestratorConfig),
    ServiceTokensModule.forApp(SERVICE),
    databaseModule({ service: SERVICE, schema: FLOW_SCHEMA, entities: EVENTS_PUBLISHER_ENTITIES }),
    eventsPublisherModule(SERVICE),
    BullModule.forRootAsync({
      inject: [FlowOrchestratorConfig],
      useFactory: ({ redis }: FlowOrchestratorConfig) => ({
        connection: queueConnection(redis.url),
        prefix: redis.bullmqPrefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      }),
    }),
    MetricsModule.forRoot({ service: SERVICE }),
    objectStoreModule(),
    RunsModule,
    BatchModule,
    HealthModule.forRootAsync({
      imports: [BullModule.registerQueue({ name: QueueName.Runs })],
      inject: [DataSource, getQueueToken(QueueName.Runs)],
      useFactory: (dataSource: DataSource, runs: Queue) => [
        postgresCheck(dataSource),
        schemaCheck(dataSource, FLOW_SCHEMA, flowMigrations),
        redisCheck({ ping: async () => (await runs.client).ping() }),
      ],
    }),
  ],
})
export class AppModule {}
