import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ServicePrincipal } from '@lib/contracts';
import { generateServiceKeys, type ServiceName, ServiceTokens } from '@lib/internal-http';
import { startTestKafka, type KafkaCluster, type TestKafkaOptions } from './kafka';
import { AppName, APP_NAMES, RunningPlatform, startPlatform } from './platform-processes';
import { createTestDatabase, TestDatabase } from './postgres';
import { TEST_REDIS_URL, testRedisPrefix } from './redis';
import { REPO_ROOT } from './repo-root';
import { startTestS3, type TestS3, type TestS3Options } from './s3';

export interface TestOrg {
  orgId: string;
  orgKey: string;
  adminUserId: string;
  memberUserId: string;
  /** Bearer API key (`Authorization: Bearer …`). */
  apiKey: string;
  apiKeyId: string;
  /** Org private key (`api-key` header, /api/private). */
  orgPrivateKey: string;
  adminJwt: string;
  memberJwt: string;
}

export interface TestPlatform {
  kafka: KafkaCluster;
  s3: TestS3;
  db: TestDatabase;
  platform: RunningPlatform;
  gatewayUrl: string;
  operatorToken: string;
  /** The apps' service token keys (`SERVICE_TOKEN_*`), made for the suite. */
  serviceKeys: ReturnType<typeof generateServiceKeys>;
  /** A service token of app `caller` for `audience`, acting for `principal` when given, as the apps sign them. */
  serviceToken(caller: ServiceName, audience: ServiceName, principal?: ServicePrincipal): string;
  /** Where each app writes its log (`<app>.log`). */
  logDir: string;
  /** The suite's BullMQ key prefix (`BULLMQ_PREFIX` of every app). */
  redisPrefix: string;
  /** Deletes every Redis key of the suite's prefix, as a Redis flush would (other suites are untouched). */
  flushRedis(): Promise<void>;
  /**
   * Calls an operator endpoint of the gateway (on its management port) and returns its JSON (throws on a
   * non-2xx).
   */
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** A new organization with an admin, a member, a bearer key, a private key and JWTs for both users. */
  createOrg(opts?: { capabilities?: string[] }): Promise<TestOrg>;
  stop(): Promise<void>;
}

/**
 * The whole platform for an e2e suite, on infrastructure of its own: an Apache Kafka broker with the
 * platform's topics, S3Proxy (behind its fault proxy), a fresh migrated database and a Redis prefix; the five apps run as processes from dist/.
 */
export async function startTestPlatform(
  opts: {
    apps?: readonly AppName[];
    /** Processes per app, behind round-robin balancers (default 1): see `PlatformOptions.replicas`. */
    replicas?: number;
    env?: Record<string, string>;
    readyTimeoutMs?: number;
    /** Kafka nodes (default 1; the broker fault suite runs 3). */
    kafkaNodes?: number;
    /** The cluster's other options (default: plaintext); its `clientEnv` is given to the apps. */
    kafka?: Omit<TestKafkaOptions, 'nodes'>;
    /** The S3 server's options (default: in memory, behind the fault proxy). */
    s3?: TestS3Options;
    /**
     * Origins whose pages may use the platform from a browser: the gateway's `CORS_ALLOWED_ORIGINS` and the
     * S3 server's CORS settings (presigned URLs). Default: none.
     */
    corsAllowedOrigins?: readonly string[];
  } = {},
): Promise<TestPlatform> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    // Kafka, the S3 server (two JVMs) and the database clone start side by side, and stop side by side
    // once the apps are gone.
    const started = await Promise.allSettled([
      startTestKafka({ ...opts.kafka, nodes: opts.kafkaNodes }),
      startTestS3({ corsAllowedOrigins: opts.corsAllowedOrigins, ...opts.s3 }),
      createTestDatabase('e2e'),
    ]);
    const [kafka, s3, db] = [valueOf(started[0]), valueOf(started[1]), valueOf(started[2])];
    stops.push(() => Promise.allSettled([kafka?.stop(), s3?.stop(), db?.drop()]));
    if (!kafka || !s3 || !db) throw started.find((r) => r.status === 'rejected')?.reason;
    const redis = testRedisPrefix('e2e');
    stops.push(() => redis.cleanup());
    const operatorToken = randomBytes(32).toString('base64url');
    const serviceKeys = generateServiceKeys();
    const suite = `${Date.now()}-${randomBytes(3).toString('hex')}`;
    const logDir = join(REPO_ROOT, '.local', 'test-logs', suite);
    const platform = await startPlatform({
      apps: opts.apps,
      replicas: opts.replicas,
      appEnv: Object.fromEntries(
        APP_NAMES.map((app) => [app, { SERVICE_TOKEN_PRIVATE_KEY: serviceKeys.privateKeys[app] }]),
      ),
      readyTimeoutMs: opts.readyTimeoutMs,
      logDir,
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        BULLMQ_PREFIX: redis.prefix,
        // The gateway's public-download counters per suite too: the default prefix is shared by every
        // platform on this Redis, so one suite's downloads would rate-limit another's (all from 127.0.0.1).
        RATE_LIMIT_PREFIX: `${redis.prefix}:ratelimit`,
        KAFKA_BROKERS: kafka.brokers.join(','),
        ...opts.kafka?.clientEnv,
        S3_ENDPOINT: s3.settings.endpoint!,
        S3_REGION: s3.settings.region,
        S3_BUCKET: s3.settings.bucket,
        S3_ACCESS_KEY_ID: s3.settings.credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.settings.credentials.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        JWT_SECRET: randomBytes(32).toString('base64url'),
        OPERATOR_TOKEN: operatorToken,
        SERVICE_TOKEN_PUBLIC_KEYS: serviceKeys.publicKeys,
        LOG_LEVEL: 'info',
        SHUTDOWN_GRACE_SECONDS: '10',
        ...(opts.corsAllowedOrigins
          ? { CORS_ALLOWED_ORIGINS: opts.corsAllowedOrigins.join(',') }
          : {}),
        ...opts.env,
      },
    });
    stops.push(() => platform.stop());
    const gatewayUrl = platform.urls.gateway;

    const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${platform.managementUrls.gateway}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${operatorToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (res.status === 204 ? undefined : await res.json()) as T;
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };

    const createOrg = async ({ capabilities }: { capabilities?: string[] } = {}) => {
      const key = `org-${randomBytes(4).toString('hex')}`;
      const org = await admin<{ id: string; key: string }>('POST', '/admin/orgs', {
        key,
        name: key,
        capabilities,
      });
      const user = (role: string) =>
        admin<{ id: string }>('POST', `/admin/orgs/${org.id}/users`, {
          email: `${role}-${key}@test.local`,
          role,
        });
      const [adminUser, member] = [await user('admin'), await user('member')];
      const apiKey = await admin<{ id: string; secret: string }>(
        'POST',
        `/admin/orgs/${org.id}/api-keys`,
        { name: 'e2e', userId: adminUser.id },
      );
      const privateKey = await admin<{ secret: string }>(
        'POST',
        `/admin/orgs/${org.id}/private-keys`,
        { name: 'e2e' },
      );
      const jwt = (userId: string) =>
        admin<{ token: string }>('POST', '/admin/tokens', { orgId: org.id, userId });
      return {
        orgId: org.id,
        orgKey: org.key,
        adminUserId: adminUser.id,
        memberUserId: member.id,
        apiKey: apiKey.secret,
        apiKeyId: apiKey.id,
        orgPrivateKey: privateKey.secret,
        adminJwt: (await jwt(adminUser.id)).token,
        memberJwt: (await jwt(member.id)).token,
      };
    };

    return {
      kafka,
      s3,
      db,
      platform,
      gatewayUrl,
      operatorToken,
      serviceKeys,
      serviceToken: (caller, audience, principal) =>
        ServiceTokens.fromEnv(caller, {
          SERVICE_TOKEN_PRIVATE_KEY: serviceKeys.privateKeys[caller],
          SERVICE_TOKEN_PUBLIC_KEYS: serviceKeys.publicKeys,
        }).sign(audience, principal),
      logDir,
      redisPrefix: redis.prefix,
      flushRedis: () => redis.cleanup(),
      admin,
      createOrg,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function valueOf<T>(result: PromiseSettledResult<T>): T | undefined {
  return result.status === 'fulfilled' ? result.value : undefined;
}
