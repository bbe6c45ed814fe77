// Facts about the five apps that docker/compose.yml and k8s/ must agree on. Kept here, not in
// the manifests, so the deploy tests compare the manifests with an independent source.
import { resolve } from 'path';

export const REPO_ROOT = resolve(__dirname, '../../..');

export type AppName =
  'gateway' | 'object-metadata' | 'storage' | 'flow-orchestrator' | 'usage-aggregator';

export interface PlatformApp {
  readonly name: AppName;
  /** The public port. */
  readonly port: number;
  /** The management listener: /metrics, the detailed /health/ready, the gateway's /admin. */
  readonly managementPort: number;
  /** Variables the app's config validation requires, besides COMMON_ENV. */
  readonly env: readonly string[];
  /** Scaled by a CPU HorizontalPodAutoscaler in k8s. */
  readonly autoscaled: boolean;
}

/** Required by every app (LOG_LEVEL defaults to info, OTEL_EXPORTER_OTLP_ENDPOINT is optional). */
export const COMMON_ENV = ['NODE_ENV', 'PORT', 'MANAGEMENT_PORT', 'KAFKA_BROKERS'] as const;

export const APPS: readonly PlatformApp[] = [
  {
    name: 'gateway',
    port: 3000,
    managementPort: 3100,
    env: [
      'DATABASE_URL',
      'REDIS_URL',
      'JWT_SECRET',
      'OPERATOR_TOKEN',
      'OBJECT_METADATA_URL',
      'STORAGE_URL',
      'FLOW_ORCHESTRATOR_URL',
      'USAGE_AGGREGATOR_URL',
      'BODY_LIMIT_BYTES',
    ],
    autoscaled: true,
  },
  {
    name: 'object-metadata',
    port: 3001,
    managementPort: 3101,
    // S3_* only to sign upload/download URLs; byte operations go through storage (STORAGE_URL).
    env: [
      'DATABASE_URL',
      'REDIS_URL',
      'BULLMQ_PREFIX',
      'STORAGE_URL',
      'S3_REGION',
      'S3_BUCKET',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'S3_FORCE_PATH_STYLE',
    ],
    autoscaled: true,
  },
  {
    name: 'storage',
    port: 3002,
    managementPort: 3102,
    env: [
      'S3_REGION',
      'S3_BUCKET',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'S3_FORCE_PATH_STYLE',
    ],
    autoscaled: true,
  },
  {
    name: 'flow-orchestrator',
    port: 3003,
    managementPort: 3103,
    env: [
      'DATABASE_URL',
      'REDIS_URL',
      'BULLMQ_PREFIX',
      'STORAGE_URL',
      'OBJECT_METADATA_URL',
      'S3_NOTIFICATION_SECRET',
      'S3_REGION',
      'S3_BUCKET',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'S3_FORCE_PATH_STYLE',
    ],
    autoscaled: true,
  },
  {
    name: 'usage-aggregator',
    port: 3004,
    managementPort: 3104,
    env: ['DATABASE_URL'],
    autoscaled: true,
  },
];

export const APP_NAMES: readonly AppName[] = APPS.map((app) => app.name);

/** Variables that hold credentials: Secret only, never a ConfigMap or a literal in k8s. */
export const SECRET_ENV = [
  'DATABASE_URL',
  'JWT_SECRET',
  'OPERATOR_TOKEN',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_NOTIFICATION_SECRET',
] as const;

/**
 * Credentials anyone could guess: the stock MinIO and Postgres ones and the development defaults this
 * repository once shipped. No deploy file may hold them.
 */
export const WELL_KNOWN_SECRETS = ['minioadmin', 'platform:platform@', 'change-me', 'local-dev'];

/** Internal base URLs and the app each must reach. */
export const URL_ENV: Readonly<Record<string, AppName>> = {
  OBJECT_METADATA_URL: 'object-metadata',
  STORAGE_URL: 'storage',
  FLOW_ORCHESTRATOR_URL: 'flow-orchestrator',
  USAGE_AGGREGATOR_URL: 'usage-aggregator',
};

export const KAFKA_PARTITIONS = 6;

export const IMAGE_NAME = 'storage-flows-platform';
export const S3_BUCKET = 'platform';

export function requiredEnv(app: PlatformApp): string[] {
  return [...COMMON_ENV, ...app.env];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every string inside a parsed YAML value, with its path (for error messages). */
export function collectStrings(value: unknown, path = '$'): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value))
    return value.flatMap((item, i) => collectStrings(item, `${path}[${i}]`));
  if (isRecord(value)) {
    return Object.entries(value).flatMap(([key, item]) => collectStrings(item, `${path}.${key}`));
  }
  return [];
}
