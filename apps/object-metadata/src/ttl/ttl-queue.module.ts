import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { QueueName } from '@lib/contracts';
import { DEFAULT_JOB_OPTIONS, queueConnection, queueMetricsProvider } from '@lib/queue';
import { ObjectMetadataEnv } from '../config/object-metadata.env';
import { TtlScheduler } from './ttl-scheduler.service';

/** The BullMQ `ttl-expiry` queue (Redis) and its typed producer. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<ObjectMetadataEnv, true>) => ({
        connection: queueConnection(config.get('REDIS_URL', { infer: true })),
        prefix: config.get('BULLMQ_PREFIX', { infer: true }),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      }),
    }),
    BullModule.registerQueue({ name: QueueName.TtlExpiry }),
  ],
  providers: [TtlScheduler, queueMetricsProvider(QueueName.TtlExpiry)],
  exports: [TtlScheduler, BullModule],
})
export class TtlQueueModule {}
