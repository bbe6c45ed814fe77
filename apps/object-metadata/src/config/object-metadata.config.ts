import {
  appConfig,
  databaseConfig,
  defineConfig,
  httpConfig,
  kafkaConfig,
  redisConfig,
  s3Config,
  serviceTokensConfig,
} from '@lib/config';
import { ObjectMetadataEnv } from './object-metadata.env';

/** The object-metadata service's config, built once from its validated environment (`ObjectMetadataEnv`). */
export class ObjectMetadataConfig extends defineConfig(ObjectMetadataEnv, (env) => ({
  app: appConfig(env),
  http: httpConfig(env),
  serviceTokens: serviceTokensConfig(env),
  database: databaseConfig(env),
  redis: redisConfig(env),
  kafka: kafkaConfig(env),
  s3: s3Config(env),
  services: { storageUrl: env.STORAGE_URL },
  objects: { maxBytes: env.OBJECT_MAX_BYTES },
  ttl: {
    sweepIntervalMs: env.TTL_SWEEP_INTERVAL_MS,
    reconcileIntervalMs: env.TTL_RECONCILE_INTERVAL_MS,
  },
  orgFiles: { purgeIntervalMs: env.ORG_FILE_PURGE_INTERVAL_MS },
})) {}
