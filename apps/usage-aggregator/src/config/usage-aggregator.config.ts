import {
  appConfig,
  databaseConfig,
  defineConfig,
  httpConfig,
  kafkaConfig,
  serviceTokensConfig,
} from '@lib/config';
import { UsageAggregatorEnv } from './usage-aggregator.env';

/** The usage aggregator's config, built once from its validated environment (`UsageAggregatorEnv`). */
export class UsageAggregatorConfig extends defineConfig(UsageAggregatorEnv, (env) => ({
  app: appConfig(env),
  http: httpConfig(env),
  serviceTokens: serviceTokensConfig(env),
  database: databaseConfig(env),
  kafka: kafkaConfig(env),
  usage: {
    /** How long consumed event ids are kept for dedupe (PROCESSED_EVENTS_RETENTION_HOURS). */
    processedEventsRetentionMs: env.PROCESSED_EVENTS_RETENTION_HOURS * 3_600_000,
    /** Partitions applied in parallel (USAGE_CONSUMER_CONCURRENCY). */
    consumerConcurrency: env.USAGE_CONSUMER_CONCURRENCY,
  },
})) {}
