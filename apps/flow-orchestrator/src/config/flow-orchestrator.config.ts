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
import { FlowOrchestratorEnv } from './flow-orchestrator.env';

/** The flow orchestrator's config, built once from its validated environment (`FlowOrchestratorEnv`). */
export class FlowOrchestratorConfig extends defineConfig(FlowOrchestratorEnv, (env) => ({
  app: appConfig(env),
  http: httpConfig(env),
  serviceTokens: serviceTokensConfig(env),
  database: databaseConfig(env),
  redis: redisConfig(env),
  kafka: kafkaConfig(env),
  s3: s3Config(env),
  services: { objectMetadataUrl: env.OBJECT_METADATA_URL },
  runs: {
    /** Runs executed at once per process (RUN_CONCURRENCY). */
    concurrency: env.RUN_CONCURRENCY,
    /** How long a worker's lock on a run job lasts without renewal (RUN_LOCK_DURATION_MS). */
    lockDurationMs: env.RUN_LOCK_DURATION_MS,
    /** The largest upload to a waiting edge (RUN_INPUT_MAX_BYTES). */
    inputMaxBytes: env.RUN_INPUT_MAX_BYTES,
    /** How often runs and upload watches Redis lost are re-enqueued (RUN_RECONCILE_INTERVAL_MS). */
    reconcileIntervalMs: env.RUN_RECONCILE_INTERVAL_MS,
    /** One attempt of a step (STEP_DEADLINE_MS) and a run's steps together (RUN_DEADLINE_MS). */
    stepDeadlineMs: env.STEP_DEADLINE_MS,
    runDeadlineMs: env.RUN_DEADLINE_MS,
  },
  steps: {
    /** `http` steps may call non-public addresses (HTTP_STEP_ALLOW_PRIVATE_NETWORKS). */
    httpAllowPrivateNetworks: env.HTTP_STEP_ALLOW_PRIVATE_NETWORKS,
  },
  uploads: {
    /** Longest pause between two checks of a waiting PutURL (UPLOAD_WATCH_MAX_DELAY_MS). */
    watchMaxDelayMs: env.UPLOAD_WATCH_MAX_DELAY_MS,
    /** Secret of the S3 notification webhook (S3_NOTIFICATION_SECRET); undefined: webhook off. */
    notificationSecret: env.S3_NOTIFICATION_SECRET,
  },
})) {}
