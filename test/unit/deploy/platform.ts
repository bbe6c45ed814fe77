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
  /** What it connects to besides the other apps (whom it calls is in the code: their `@CalledBy`). */
  readonly dependencies: readonly Dependency[];
}

/** A kind of destination of egress: infrastructure by its port, or public addresses (any port). */
export type Dependency = 'postgres' | 'redis' | 'kafka' | 'https' | 'public';

/** The port (range) of each infrastructure dependency, as NetworkPolicies allow it. */
export const DEPENDENCY_PORTS: Readonly<Record<Exclude<Dependency, 'public'>, string>> = {
  postgres: 'TCP/5432',
  redis: 'TCP/6379',
  // Plaintext, TLS and SASL listeners (AWS MSK's are 9092-9098).
  kafka: 'TCP/9092-9098',
  // S3, an IdP's JWKS, the credentials endpoints of a pod's role.
  https: 'TCP/443',
};

/** The Jobs and what they connect to. */
export const JOB_DEPENDENCIES: Readonly<Record<string, readonly Dependency[]>> = {
  migrate: ['postgres'],
  'kafka-topics': ['kafka'],
  'sweep-orphans': ['postgres', 'https'],
};

/** Required by every app (LOG_LEVEL defaults to info, OTEL_EXPORTER_OTLP_ENDPOINT is optional). */
export const COMMON_ENV = [
  'NODE_ENV',
  'PORT',
  'MANAGEMENT_PORT',
  'KAFKA_BROKERS',
  'SERVICE_TOKEN_PRIVATE_KEY',
  'SERVICE_TOKEN_PUBLIC_KEYS',
] as const;

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
      'FLOW_ORCHESTRATOR_URL',
      'USAGE_AGGREGATOR_URL',
      'HTTP_HEADERS_TIMEOUT_MS',
      'HTTP_REQUEST_TIMEOUT_MS',
      'HTTP_KEEP_ALIVE_TIMEOUT_MS',
      'S3_REGION',
      'S3_BUCKET',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'S3_FORCE_PATH_STYLE',
    ],
    autoscaled: true,
    // It writes the uploads it receives to S3 and streams downloads from presigned S3 URLs; an IdP's
    // JWKS is https too.
    dependencies: ['postgres', 'redis', 'https'],
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
    // https: not S3 (it only signs), the credentials endpoints when it signs with the pod's role.
    dependencies: ['postgres', 'redis', 'kafka', 'https'],
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
    dependencies: ['https'],
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
    // `http` steps call public addresses, on any port.
    dependencies: ['postgres', 'redis', 'kafka', 'https', 'public'],
  },
  {
    name: 'usage-aggregator',
    port: 3004,
    managementPort: 3104,
    env: ['DATABASE_URL'],
    autoscaled: true,
    dependencies: ['postgres', 'kafka'],
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
  'SERVICE_TOKEN_PRIVATE_KEY',
] as const;

/** The key of the base Secret holding each app's SERVICE_TOKEN_PRIVATE_KEY: an app reads its own only. */
export const SERVICE_KEY_SECRETS: Readonly<Record<AppName, string>> = {
  gateway: 'GATEWAY_SERVICE_TOKEN_PRIVATE_KEY',
  'object-metadata': 'OBJECT_METADATA_SERVICE_TOKEN_PRIVATE_KEY',
  storage: 'STORAGE_SERVICE_TOKEN_PRIVATE_KEY',
  'flow-orchestrator': 'FLOW_ORCHESTRATOR_SERVICE_TOKEN_PRIVATE_KEY',
  'usage-aggregator': 'USAGE_AGGREGATOR_SERVICE_TOKEN_PRIVATE_KEY',
};

/** The keys of the base Secret: the credentials, one service token key per app, and their public keys. */
export const SECRET_KEYS = [
  ...SECRET_ENV.filter((name) => name !== 'SERVICE_TOKEN_PRIVATE_KEY'),
  ...Object.values(SERVICE_KEY_SECRETS),
  'SERVICE_TOKEN_PUBLIC_KEYS',
];

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

/**
 * What is wrong with the gateway's HTTP settings in `env`: its request deadline must cover its headers
 * deadline, and an idle keep-alive connection must outlive a load balancer's (60 s, the common default),
 * or the gateway closes connections the balancer is about to reuse. JSON body limits are per route, in the
 * code: no setting raises them.
 */
export function gatewayHttpProblems(env: Record<string, string | undefined>): string[] {
  const ms = (key: string) => Number(env[key]);
  const problems: string[] = [];
  if (!(ms('HTTP_HEADERS_TIMEOUT_MS') <= ms('HTTP_REQUEST_TIMEOUT_MS'))) {
    problems.push('HTTP_REQUEST_TIMEOUT_MS must cover HTTP_HEADERS_TIMEOUT_MS');
  }
  if (!(ms('HTTP_KEEP_ALIVE_TIMEOUT_MS') > 60_000)) {
    problems.push("HTTP_KEEP_ALIVE_TIMEOUT_MS must exceed a load balancer's 60 s idle timeout");
  }
  if ('BODY_LIMIT_BYTES' in env) {
    problems.push('BODY_LIMIT_BYTES is no setting: JSON body limits are per route');
  }
  return problems;
}

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
