import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QueueName } from '@lib/contracts';
import { DEFAULT_JOB_OPTIONS, queueConnection, queueMetricsProvider } from '@lib/queue';
import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { TtlScheduler } from './ttl-scheduler.service';

/** The BullMQ `ttl-expiry` queue (Redis) and its typed producer. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [ObjectMetadataConfig],
      useFactory: ({ redis }: ObjectMetadataConfig) => ({
        connection: queueConnection(redis.url),
        prefix: redis.bullmqPrefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      }),
    }),
    BullModule.registerQueue({ name: QueueName.TtlExpiry }),
  ],
  providers: [TtlScheduler, queueMetricsProvider(QueueName.TtlExpiry)],
  exports: [TtlScheduler, BullModule],
})
export class TtlQueueModule {}
