import {
  appConfig,
  databaseConfig,
  defineConfig,
  httpConfig,
  parseCorsOrigins,
  redisConfig,
  s3Config,
  serviceTokensConfig,
} from '@lib/config';
import { authConfig } from '../identity/auth.env';
import { GatewayEnv } from './gateway.env';
import { trustProxySetting } from './trust-proxy';

/** The gateway's config, built once from its validated environment (`GatewayEnv`). */
export class GatewayConfig extends defineConfig(GatewayEnv, (env) => ({
  app: appConfig(env),
  http: {
    ...httpConfig(env),
    /** Deadlines of the public server (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS). */
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    /** Fastify's `trustProxy` (TRUST_PROXY); undefined: the TCP peer is the client. */
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    /** Web origins allowed by CORS (CORS_ALLOWED_ORIGINS); empty: none. */
    corsOrigins: parseCorsOrigins(env.CORS_ALLOWED_ORIGINS),
    /** The public port's certificate and key files (GATEWAY_TLS_CERT_FILE, GATEWAY_TLS_KEY_FILE). */
    tls: { certFile: env.GATEWAY_TLS_CERT_FILE, keyFile: env.GATEWAY_TLS_KEY_FILE },
  },
  serviceTokens: serviceTokensConfig(env),
  database: databaseConfig(env),
  redis: redisConfig(env),
  s3: s3Config(env),
  auth: authConfig(env),
  services: {
    objectMetadataUrl: env.OBJECT_METADATA_URL,
    flowOrchestratorUrl: env.FLOW_ORCHESTRATOR_URL,
    usageAggregatorUrl: env.USAGE_AGGREGATOR_URL,
  },
  downloads: {
    /** Public downloads per client address per window (DOWNLOAD_RATE_LIMIT, DOWNLOAD_RATE_WINDOW_SECONDS). */
    rateLimit: env.DOWNLOAD_RATE_LIMIT,
    rateWindowMs: env.DOWNLOAD_RATE_WINDOW_SECONDS * 1000,
    /** Redis key prefix of the rate-limit counters (RATE_LIMIT_PREFIX). */
    rateLimitPrefix: env.RATE_LIMIT_PREFIX,
  },
})) {}
