import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Topic } from '@lib/contracts';
import { ConsumedEvent, IdempotentConsumer } from '@lib/events';
import { kafkaClientOptions } from '@lib/app';
import { createKafka, KafkaNames } from '@lib/kafka';
import { Metrics } from '@lib/observability';
import { DataSource, EntityManager } from 'typeorm';
import { UsageAggregatorConfig } from '../config/usage-aggregator.config';
import { UsageService } from './usage.service';

export const CONSUMER_GROUP = 'usage-aggregator';

const TOPICS = [Topic.StorageFileUpdated, Topic.RunCreated] as const;

type UsageTopic = (typeof TOPICS)[number];

/**
 * Feeds the usage aggregates from `storage_file.updated` (and workflow names from `run.created`), exactly
 * once in effect: event ids dedupe redeliveries, per-file versions make late and replayed events no-ops.
 * Each Kafka batch (one partition) is one transaction with one write per table.
 */
@Injectable()
export class StorageFileConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly consumer: IdempotentConsumer<UsageTopic>;

  constructor(
    { app, kafka, usage: settings }: UsageAggregatorConfig,
    @InjectDataSource() dataSource: DataSource,
    private readonly usage: UsageService,
    metrics: Metrics,
  ) {
    const logger = new Logger(StorageFileConsumer.name);
    this.consumer = new IdempotentConsumer({
      kafka: createKafka(kafkaClientOptions(kafka, CONSUMER_GROUP, app.logLevel)),
      groupId: CONSUMER_GROUP,
      names: KafkaNames.fromConfig(kafka),
      dataSource,
      topics: TOPICS,
      handler: (manager, events) => this.handle(manager, events),
      partitionsConsumedConcurrently: settings.consumerConcurrency,
      logger,
    });
    this.exportCounters(metrics);
  }

  /** The consumer's state and counters on `/metrics`, read at each scrape. */
  private exportCounters(metrics: Metrics): void {
    const counters = () => this.consumer.counters();
    metrics.gauge({
      name: 'events_consumer_consuming',
      help: 'The consumer is in its group and fetching (1), or not: Kafka unreachable, restarting (0).',
      collect() {
        this.set(counters().consuming ? 1 : 0);
      },
    });
    const totals = {
      processed: 'Events applied (first seen) and committed.',
      duplicates: 'Redelivered events skipped because their id was already applied.',
      deadLettered: 'Poison messages recorded in dead_letters.',
      failedBatches: 'Batches whose transaction failed and were retried.',
      crashes: 'Crashes of the Kafka consumer.',
    } as const;
    for (const [key, help] of Object.entries(totals) as [keyof typeof totals, string][]) {
      const name = `events_consumer_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
      metrics.counter({
        name,
        help,
        collect() {
          this.reset();
          this.inc(counters()[key]);
        },
      });
    }
  }

  private async handle(manager: EntityManager, events: ConsumedEvent<UsageTopic>[]) {
    const files = [];
    const runs = [];
    for (const e of events) {
      if (e.topic === Topic.StorageFileUpdated) files.push(e.data);
      else runs.push(e.data);
    }
    if (files.length > 0) await this.usage.apply(manager, files);
    if (runs.length > 0) await this.usage.applyRuns(manager, runs);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
