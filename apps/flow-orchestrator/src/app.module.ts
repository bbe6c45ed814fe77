import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { QueueName } from '@lib/contracts';
import { validateEnv } from '@lib/config';
import { dataSourceOptions } from '@lib/database';
import { EVENTS_PUBLISHER_ENTITIES, EventsModule } from '@lib/events';
import {
  createLogger,
  HealthModule,
  MetricsModule,
  postgresCheck,
  redisCheck,
} from '@lib/observability';
import { DEFAULT_JOB_OPTIONS, queueConnection } from '@lib/queue';
import { DataSource } from 'typeorm';
import { FlowOrchestratorEnv } from './config/flow-orchestrator.env';
import { FLOW_SCHEMA } from './database/migrations';

export const SERVICE = 'flow-orchestrator';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      ignoreEnvFile: true,
      validate: validateEnv(FlowOrchestratorEnv),
    }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<FlowOrchestratorEnv, true>) =>
        dataSourceOptions({
          url: config.get('DATABASE_URL', { infer: true }),
          schema: FLOW_SCHEMA,
          entities: [...EVENTS_PUBLISHER_ENTITIES],
          poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }),
          applicationName: SERVICE,
        }),
    }),
    EventsModule.forPublisherAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<FlowOrchestratorEnv, true>) => ({
        source: `/${SERVICE}`,
        kafka: {
          brokers: config.get('KAFKA_BROKERS', { infer: true }).split(','),
          clientId: SERVICE,
          logger: createLogger({
            service: SERVICE,
            level: config.get('LOG_LEVEL', { infer: true }),
          }).child({
            component: 'kafka',
          }),
        },
      }),
    }),
    BullModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<FlowOrchestratorEnv, true>) => ({
        connection: queueConnection(config.get('REDIS_URL', { infer: true })),
        prefix: config.get('BULLMQ_PREFIX', { infer: true }),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Runs }),
    MetricsModule.forRoot({ service: SERVICE }),
    HealthModule.forRootAsync({
      imports: [BullModule.registerQueue({ name: QueueName.Runs })],
      inject: [DataSource, getQueueToken(QueueName.Runs)],
      useFactory: (dataSource: DataSource, runs: Queue) => [
        postgresCheck(dataSource),
        redisCheck({ ping: async () => (await runs.client).ping() }),
      ],
    }),
  ],
})
export class AppModule {}
