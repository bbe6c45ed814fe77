import { generateServiceKeys } from '@lib/internal-http';
import { GatewayConfig } from './gateway.config';

const keys = generateServiceKeys();
const raw = {
  PORT: '3000',
  MANAGEMENT_PORT: '3100',
  DATABASE_URL: 'postgres://db/platform',
  REDIS_URL: 'redis://redis:6379',
  S3_BUCKET: 'platform',
  OBJECT_METADATA_URL: 'http://object-metadata:3001',
  FLOW_ORCHESTRATOR_URL: 'http://flow-orchestrator:3004',
  USAGE_AGGREGATOR_URL: 'http://usage-aggregator:3003',
  JWT_SECRET: 'j'.repeat(32),
  OPERATOR_TOKEN: 'o'.repeat(32),
  SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys.gateway,
  SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
};

describe('GatewayConfig', () => {
  it('should hold the public server settings, parsed once', () => {
    const { http } = GatewayConfig.load({
      ...raw,
      TRUST_PROXY: '1',
      CORS_ALLOWED_ORIGINS:
        'https://app.example.com, https://app.example.com,http://localhost:5173',
    });
    expect(http).toEqual({
      port: 3000,
      managementPort: 3100,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 120_000,
      keepAliveTimeoutMs: 72_000,
      trustProxy: 1,
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      tls: { certFile: undefined, keyFile: undefined },
    });
  });

  it('should trust no proxy and allow no origin by default', () => {
    const { http } = GatewayConfig.load(raw);
    expect(http.trustProxy).toBeUndefined();
    expect(http.corsOrigins).toEqual([]);
  });

  it('should hold downloads, auth and the services', () => {
    const config = GatewayConfig.load({ ...raw, DOWNLOAD_RATE_WINDOW_SECONDS: '30' });
    expect(config.downloads).toEqual({
      rateLimit: 120,
      rateWindowMs: 30_000,
      rateLimitPrefix: 'ratelimit',
    });
    expect(config.auth.operatorToken).toBe(raw.OPERATOR_TOKEN);
    expect(config.auth.jwt.JWT_SECRET).toBe(raw.JWT_SECRET);
    expect(config.services.usageAggregatorUrl).toBe('http://usage-aggregator:3003');
  });
});
