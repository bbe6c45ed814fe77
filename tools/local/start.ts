import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { parseCorsOrigins } from '@lib/config';
import { generateServiceKeys } from '@lib/internal-http';
import {
  ADMIN_DATABASE_URL,
  APP_NAMES,
  databaseUrl,
  REPO_ROOT as ROOT,
  startPlatform,
} from '@lib/testing';
import { startKafkaCluster } from '../local-servers/kafka/kafka-cluster';
import { startS3Server } from '../local-servers/s3/s3-server';

const run = promisify(execFile);

const LOCAL = join(ROOT, '.local');
const DATABASE = process.env.LOCAL_DATABASE ?? 'platform';
const GATEWAY_PORT = Number(process.env.GATEWAY_PORT ?? 3000);
/** The gateway's management listener: the operator API (`/admin`), `/metrics`, detailed readiness. */
const GATEWAY_MANAGEMENT_PORT = Number(process.env.GATEWAY_MANAGEMENT_PORT ?? 3100);
const S3_PORT = Number(process.env.LOCAL_S3_PORT ?? 9000);
const KAFKA_PORT = Number(process.env.LOCAL_KAFKA_PORT ?? 9092);
const BUCKET = 'platform';

const say = (msg: string) => process.stdout.write(`\x1b[1;34m[local]\x1b[0m ${msg}\n`);

/** Secrets of the local platform, made once and kept in .local/ so restarts keep keys and tokens valid. */
function localSecrets(): Record<string, string> {
  const file = join(LOCAL, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    OPERATOR_TOKEN: randomBytes(32).toString('base64url'),
    S3_ACCESS_KEY_ID: 'local-access-key',
    S3_SECRET_ACCESS_KEY: randomBytes(24).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Each app's service token key pair, made once and kept in .local/ like the other secrets. */
function localServiceKeys(): ReturnType<typeof generateServiceKeys> {
  const file = join(LOCAL, 'service-keys.json');
  if (existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof generateServiceKeys>;
  }
  const keys = generateServiceKeys();
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

async function ensureDatabase(): Promise<string> {
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DATABASE,
    ]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(DATABASE);
}

/**
 * `npm run start:local`: the whole platform on this machine — an Apache Kafka broker and S3Proxy (their data
 * kept in .local/ across restarts), the local Postgres and Redis, migrations, topics, the five apps and a
 * demo organization. Ctrl-C stops everything it started (Postgres and Redis keep running: they were there
 * before).
 */
async function main(): Promise<void> {
  mkdirSync(LOCAL, { recursive: true });
  const secrets = localSecrets();
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    // Pages that may use the local platform from a browser: the gateway's CORS and S3Proxy's alike.
    const corsOrigins = parseCorsOrigins(process.env.CORS_ALLOWED_ORIGINS);
    const kafka = await startKafkaCluster({
      directory: join(LOCAL, 'kafka'),
      clientPorts: [KAFKA_PORT],
    });
    stops.push(() => kafka.stop());
    say(`Apache Kafka: ${kafka.brokers.join(',')}`);

    const s3 = await startS3Server({
      port: S3_PORT,
      directory: join(LOCAL, 's3proxy'),
      accessKeyId: secrets.S3_ACCESS_KEY_ID,
      secretAccessKey: secrets.S3_SECRET_ACCESS_KEY,
      buckets: [BUCKET],
      faults: false,
      corsAllowedOrigins: corsOrigins,
    });
    stops.push(() => s3.stop());
    say(`S3 (S3Proxy): ${s3.endpoint}`);

    const url = await ensureDatabase();
    const env = {
      ...secrets,
      NODE_ENV: 'development',
      DATABASE_URL: url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      BULLMQ_PREFIX: 'local',
      KAFKA_BROKERS: kafka.brokers.join(','),
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_BUCKET: BUCKET,
      S3_FORCE_PATH_STYLE: 'true',
      CORS_ALLOWED_ORIGINS: corsOrigins.join(','),
    };
    const cli = join(ROOT, 'dist', 'tools', 'cli', 'main.js');
    await run(process.execPath, [cli, 'migrate'], { env: { ...process.env, ...env } });
    say(`database migrated: ${url}`);
    await run(process.execPath, [cli, 'kafka-topics'], {
      env: {
        ...process.env,
        ...env,
        KAFKA_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '1',
      },
    });
    say('topics provisioned');

    const serviceKeys = localServiceKeys();
    const platform = await startPlatform({
      env: { ...env, SERVICE_TOKEN_PUBLIC_KEYS: serviceKeys.publicKeys },
      appEnv: Object.fromEntries(
        APP_NAMES.map((app) => [app, { SERVICE_TOKEN_PRIVATE_KEY: serviceKeys.privateKeys[app] }]),
      ),
      logDir: join(LOCAL, 'logs'),
      ports: { gateway: GATEWAY_PORT },
      managementPorts: { gateway: GATEWAY_MANAGEMENT_PORT },
    });
    stops.push(() => platform.stop());

    const { stdout } = await run(process.execPath, [cli, 'demo'], {
      env: { ...process.env, ...env },
    });
    const demo = JSON.parse(stdout) as Record<string, unknown>;
    say('the platform is up. Logs: .local/logs/<app>.log\n');
    process.stdout.write(
      JSON.stringify(
        {
          gatewayUrl: platform.urls.gateway,
          docs: `${platform.urls.gateway}/docs`,
          ...demo,
          adminUrl: `${platform.managementUrls.gateway}/admin`,
          operatorToken: secrets.OPERATOR_TOKEN,
        },
        null,
        2,
      ) + '\n\nCtrl-C stops everything.\n',
    );
  } catch (err) {
    process.stderr.write(`start failed: ${(err as Error).stack ?? String(err)}\n`);
    await stopAll(1);
  }
}

void main();
