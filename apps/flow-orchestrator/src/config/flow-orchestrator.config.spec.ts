import { generateServiceKeys } from '@lib/internal-http';
import { runsWorkerOptions } from '../runs/runs.processor';
import { FlowOrchestratorConfig } from './flow-orchestrator.config';

const raw = {
  PORT: '3004',
  MANAGEMENT_PORT: '3104',
  DATABASE_URL: 'postgres://db/platform',
  REDIS_URL: 'redis://redis:6379',
  KAFKA_BROKERS: 'kafka:9092',
  S3_BUCKET: 'platform',
  OBJECT_METADATA_URL: 'http://object-metadata:3001',
  ...serviceKeys(),
};

function serviceKeys() {
  const keys = generateServiceKeys();
  return {
    SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys['flow-orchestrator'],
    SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
  };
}

/** The config of `raw` with `more`, or the validation's message. */
function load(more: Record<string, string> = {}) {
  try {
    return FlowOrchestratorConfig.load({ ...raw, ...more });
  } catch (error) {
    return (error as Error).message;
  }
}

describe('FlowOrchestratorConfig', () => {
  it('should group the settings by concern, with their defaults', () => {
    const config = FlowOrchestratorConfig.load(raw);
    expect(config.runs).toEqual({
      concurrency: 16,
      lockDurationMs: 30_000,
      inputMaxBytes: expect.any(Number),
      reconcileIntervalMs: 10_000,
      stepDeadlineMs: 300_000,
      runDeadlineMs: 1_800_000,
    });
    expect(config.uploads).toEqual({ watchMaxDelayMs: 5_000, notificationSecret: undefined });
    expect(config.steps).toEqual({ httpAllowPrivateNetworks: false });
    expect(config.services).toEqual({ objectMetadataUrl: 'http://object-metadata:3001' });
    expect(config.kafka.brokers).toEqual(['kafka:9092']);
    expect(config.redis.bullmqPrefix).toBe('platform');
  });

  it('should parse flags and numbers once', () => {
    const config = FlowOrchestratorConfig.load({
      ...raw,
      RUN_CONCURRENCY: '4',
      RUN_LOCK_DURATION_MS: '10000',
      UPLOAD_WATCH_MAX_DELAY_MS: '300',
      HTTP_STEP_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    expect(config.runs.concurrency).toBe(4);
    expect(config.uploads.watchMaxDelayMs).toBe(300);
    expect(config.steps.httpAllowPrivateNetworks).toBe(true);
    expect(runsWorkerOptions(config.runs)).toEqual({
      concurrency: 4,
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 5,
    });
  });

  it('should keep the validation messages of the variables', () => {
    expect(load({ RUN_CONCURRENCY: '0' })).toContain('RUN_CONCURRENCY must not be less than 1');
  });
});
