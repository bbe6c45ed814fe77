import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { Topic } from '@lib/contracts';
import { IdempotentConsumer } from '@lib/events';
import { kafkaLogger } from '@lib/app';
import { createKafka } from '@lib/kafka';
import { DataSource } from 'typeorm';
import { UsageAggregatorEnv } from '../config/usage-aggregator.env';
import { UsageService } from './usage.service';

export const CONSUMER_GROUP = 'usage-aggregator';

/** Feeds the usage aggregates from `storage_file.updated`, exactly once in effect (dedupe + versions). */
@Injectable()
export class StorageFileConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly consumer: IdempotentConsumer<typeof Topic.StorageFileUpdated>;

  constructor(
    config: ConfigService<UsageAggregatorEnv, true>,
    @InjectDataSource() dataSource: DataSource,
    usage: UsageService,
  ) {
    const logger = new Logger(StorageFileConsumer.name);
    this.consumer = new IdempotentConsumer({
      kafka: createKafka({
        brokers: config.get('KAFKA_BROKERS', { infer: true }).split(','),
        clientId: CONSUMER_GROUP,
        logger: kafkaLogger(CONSUMER_GROUP, config.get('LOG_LEVEL', { infer: true })),
      }),
      groupId: CONSUMER_GROUP,
      dataSource,
      topics: [Topic.StorageFileUpdated],
      handler: (manager, events) =>
        usage.apply(
          manager,
          events.map((e) => e.data),
        ),
      logger,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
