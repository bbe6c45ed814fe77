// Static checks of docker/compose.yml: the services exist, Kafka runs in KRaft mode, the init
// services create the topics and the bucket, every app waits for the migrations, the apps are
// wired to each other and to the infrastructure with the variables their config requires, every
// credential comes from docker/init-secrets.sh (no default), and ports are published on loopback.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';
import { parse } from 'yaml';
import { parsePrivateKey, parsePublicKeys } from '@lib/internal-http';
import {
  APP_NAMES,
  APPS,
  collectStrings,
  gatewayHttpProblems,
  IMAGE_NAME,
  isRecord,
  REPO_ROOT,
  requiredEnv,
  SERVICE_KEY_SECRETS,
  S3_BUCKET,
  URL_ENV,
  WELL_KNOWN_SECRETS,
} from './platform';

const COMPOSE_FILE = join(REPO_ROOT, 'docker', 'compose.yml');
const INIT_SECRETS = join(REPO_ROOT, 'docker', 'init-secrets.sh');

type StringOrList = string | string[];
interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: unknown };
  command?: StringOrList;
  entrypoint?: StringOrList;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: StringOrList; disable?: boolean };
  restart?: string;
  ports?: unknown[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

// `merge: true` resolves the `<<: *app` merge keys the way Compose does.
const raw: unknown = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true });
const compose = raw as ComposeFile;

/** What docker/init-secrets.sh writes to `file` (run in a scratch folder), as a map. */
function runInitSecrets(file: string): Record<string, string> {
  const run = spawnSync('sh', [INIT_SECRETS, file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`init-secrets.sh failed: ${run.stderr}`);
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const scratch = mkdtempSync(join(tmpdir(), 'compose-spec-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** The credentials a user's docker/.env holds after `sh docker/init-secrets.sh`. */
const SECRETS = runInitSecrets(join(scratch, '.env'));

/** `${VAR:-default}` and `${VAR:?error}` as Compose resolves them with the credentials in docker/.env. */
const INTERPOLATION = /\$\{(\w+)(?::([-?])([^}]*))?\}/g;
function interpolate(value: string): string {
  return value.replace(INTERPOLATION, (_match, name: string, kind?: string, rest: string = '') => {
    if (SECRETS[name] !== undefined) return SECRETS[name];
    if (kind === '-') return rest;
    throw new Error(`${name} is required: ${rest}`);
  });
}

/** Every variable the file requires from the environment (`${VAR:?…}`). */
const REQUIRED_VARIABLES = [
  ...new Set(
    [...readFileSync(COMPOSE_FILE, 'utf8').matchAll(/\$\{(\w+):\?[^}]*\}/g)].map(([, v]) => v),
  ),
].sort();

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`compose service ${name} is missing`);
  return found;
}

/** A service's environment as its container sees it (interpolated with the credentials). */
function envOf(svc: ComposeService): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const [key, ...value] = entry.split('=');
        return [key, interpolate(value.join('='))];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v === null ? '' : interpolate(String(v))]),
  );
}

function dependsOn(svc: ComposeService): Record<string, string> {
  const deps = svc.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([k, v]) => [k, v.condition ?? 'service_started']),
  );
}

const asText = (value: StringOrList | undefined) =>
  Array.isArray(value) ? value.join(' ') : (value ?? '');

function scriptOf(svc: ComposeService): string {
  return `${asText(svc.entrypoint)} ${asText(svc.command)}`.trim();
}

function hasHealthcheck(svc: ComposeService): boolean {
  return svc.healthcheck?.disable !== true && asText(svc.healthcheck?.test).length > 0;
}

/** Comma-separated host:port list. */
function hostPorts(list: string): string[] {
  return list.split(',').map((s) => s.trim());
}

/** The host:port pairs Kafka advertises to clients, e.g. PLAINTEXT://kafka:9092 -> kafka:9092. */
function advertisedKafka(): string[] {
  return (envOf(service('kafka')).KAFKA_ADVERTISED_LISTENERS ?? '')
    .split(',')
    .map((l) => l.replace(/^[A-Z_]+:\/\//, ''));
}

const INFRA = ['postgres', 'redis', 'kafka', 'minio'];
const INIT = ['kafka-init', 'minio-init', 'migrate'];

describe('docker/compose.yml', () => {
  it('should resolve every YAML merge key', () => {
    const unresolved = JSON.stringify(raw).includes('"<<"');
    expect(unresolved).toBe(false);
  });

  it('should define the infrastructure, the init services and the five apps', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...INFRA, ...INIT, ...APP_NAMES].sort());
  });

  describe('infrastructure', () => {
    it('should run a single Apache Kafka node in KRaft mode without auto-created topics', () => {
      const kafka = service('kafka');
      // The version the test suites run (the local broker's pom).
      const pom = readFileSync(join(REPO_ROOT, 'tools/local-servers/kafka/pom.xml'), 'utf8');
      const tested = /<kafka\.version>([\d.]+)<\/kafka\.version>/.exec(pom)?.[1];
      expect(kafka.image).toBe(`apache/kafka:${tested}`);
      const env = envOf(kafka);
      expect(env.KAFKA_PROCESS_ROLES?.split(',').sort()).toEqual(['broker', 'controller']);
      expect(env).not.toHaveProperty('KAFKA_ZOOKEEPER_CONNECT');
      expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);

      // The controller listener exists, is mapped to a protocol and is what the quorum votes on.
      const listeners = Object.fromEntries(
        env.KAFKA_LISTENERS.split(',').map((l) => {
          const [, name, port] = /^([A-Z_]+):\/\/[^:]*:(\d+)$/.exec(l) ?? [];
          return [name, port];
        }),
      );
      const protocols = Object.fromEntries(
        env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP.split(',').map((p) => p.split(':')),
      );
      for (const name of Object.keys(listeners)) expect(protocols).toHaveProperty(name);
      const controller = env.KAFKA_CONTROLLER_LISTENER_NAMES;
      expect(listeners[controller]).toBeDefined();
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(
        `${env.KAFKA_NODE_ID}@kafka:${listeners[controller]}`,
      );
      expect(listeners[env.KAFKA_INTER_BROKER_LISTENER_NAME]).toBeDefined();

      expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
      expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe('1');
      expect(hasHealthcheck(kafka)).toBe(true);
    });

    it('should run Postgres 16 and Redis 7 (noeviction, for BullMQ) with healthchecks', () => {
      expect(service('postgres').image).toMatch(/^postgres:16([.-]|$)/);
      expect(service('redis').image).toMatch(/^redis:7([.-]|$)/);
      expect(scriptOf(service('redis'))).toMatch(/--maxmemory-policy noeviction/);
      for (const name of INFRA)
        expect({ name, health: hasHealthcheck(service(name)) }).toEqual({ name, health: true });
    });

    it('should create the topics with the platform command once Kafka is healthy', () => {
      const init = service('kafka-init');
      expect(init.image).toBe(service('gateway').image);
      expect(dependsOn(init)).toEqual({ kafka: 'service_healthy' });
      expect(asText(init.command)).toBe('node dist/tools/cli/main.js kafka-topics');
      const env = envOf(init);
      expect(advertisedKafka()).toContain(env.KAFKA_BROKERS);
      expect(env.KAFKA_TOPIC_REPLICATION_FACTOR).toBe('1');
      expect(env.KAFKA_TOPIC_MIN_INSYNC_REPLICAS).toBe('1');
    });

    it('should create the bucket the storage app uses once MinIO is healthy', () => {
      const init = service('minio-init');
      expect(init.image).toMatch(/^minio\/mc:/);
      expect(dependsOn(init)).toEqual({ minio: 'service_healthy' });
      expect(scriptOf(init)).toMatch(new RegExp(`mc mb --ignore-existing \\w+/${S3_BUCKET}\\b`));
      const storage = envOf(service('storage'));
      expect(storage.S3_BUCKET).toBe(S3_BUCKET);
      expect(new URL(storage.S3_ENDPOINT).host).toBe('minio:9000');
      expect(storage.S3_FORCE_PATH_STYLE).toBe('true');
      // The app's S3 credentials are MinIO's root credentials in this local stack.
      const minio = envOf(service('minio'));
      expect([storage.S3_ACCESS_KEY_ID, storage.S3_SECRET_ACCESS_KEY]).toEqual([
        minio.MINIO_ROOT_USER,
        minio.MINIO_ROOT_PASSWORD,
      ]);
    });
  });

  describe('migrate', () => {
    it('should run the migrations once with the app image after Postgres is healthy', () => {
      const migrate = service('migrate');
      expect(migrate.image).toBe(service('gateway').image);
      expect(asText(migrate.command)).toBe('node dist/tools/cli/main.js migrate');
      expect(migrate.restart).toBe('no');
      expect(dependsOn(migrate)).toEqual({ postgres: 'service_healthy' });
      expect(envOf(migrate).DATABASE_URL).toBe(envOf(service('gateway')).DATABASE_URL);
    });
  });

  describe.each(APPS)('app $name', (app) => {
    const svc = () => service(app.name);
    const env = () => envOf(svc());

    it('should run the platform image built from docker/Dockerfile', () => {
      expect(svc().image).toMatch(new RegExp(`^${IMAGE_NAME}:`));
      const build = svc().build;
      const context = resolve(
        dirname(COMPOSE_FILE),
        typeof build === 'string' ? build : (build?.context ?? '.'),
      );
      expect(context).toBe(REPO_ROOT);
      const dockerfile =
        typeof build === 'string' ? 'Dockerfile' : (build?.dockerfile ?? 'Dockerfile');
      expect(existsSync(join(context, dockerfile))).toBe(true);
      // The image is shared: APP selects the entry point at run time, never a per-app build arg.
      expect(typeof build === 'string' ? undefined : build?.args).toBeUndefined();
      expect(env().APP).toBe(app.name);
      expect(svc().command).toBeUndefined();
    });

    it('should set every variable its config requires, on its own ports', () => {
      const missing = requiredEnv(app).filter((key) => !env()[key]);
      expect(missing).toEqual([]);
      expect(env().PORT).toBe(String(app.port));
      expect(env().MANAGEMENT_PORT).toBe(String(app.managementPort));
      expect(env().NODE_ENV).toBe('production');
    });

    it('should wait for the migrations and the topics to complete', () => {
      expect(dependsOn(svc())).toMatchObject({
        migrate: 'service_completed_successfully',
        'kafka-init': 'service_completed_successfully',
      });
    });

    it('should wait for the services it calls and the infrastructure it uses', () => {
      const deps = dependsOn(svc());
      const e = env();
      for (const [key, target] of Object.entries(URL_ENV)) {
        if (e[key])
          expect({ key, condition: deps[target] }).toEqual({ key, condition: 'service_healthy' });
      }
      if (e.REDIS_URL) expect(deps.redis).toBe('service_healthy');
      if (e.S3_ENDPOINT) expect(deps['minio-init']).toBe('service_completed_successfully');
    });

    it('should reach the other apps and the infrastructure by compose service name', () => {
      const e = env();
      for (const [key, target] of Object.entries(URL_ENV)) {
        if (!e[key]) continue;
        const url = new URL(e[key]);
        const targetApp = APPS.find((a) => a.name === target);
        expect({ key, host: url.hostname, port: Number(url.port) }).toEqual({
          key,
          host: target,
          port: targetApp?.port,
        });
      }
      for (const broker of hostPorts(e.KAFKA_BROKERS)) expect(advertisedKafka()).toContain(broker);
      if (e.DATABASE_URL) {
        const db = new URL(e.DATABASE_URL);
        const pg = envOf(service('postgres'));
        expect([db.hostname, db.username, db.password, db.pathname]).toEqual([
          'postgres',
          pg.POSTGRES_USER,
          pg.POSTGRES_PASSWORD,
          `/${pg.POSTGRES_DB}`,
        ]);
      }
      if (e.REDIS_URL) expect(new URL(e.REDIS_URL).hostname).toBe('redis');
    });

    it('should report health from /health/ready', () => {
      expect(hasHealthcheck(svc())).toBe(true);
      expect(asText(svc().healthcheck?.test)).toContain('/health/ready');
    });

    it('should run hardened and stop gracefully', () => {
      expect(svc().read_only).toBe(true);
      expect(svc().cap_drop).toContain('ALL');
      expect(svc().security_opt).toContain('no-new-privileges:true');
      expect(svc().stop_grace_period).toBe('30s');
    });

    it('should publish host ports only for the gateway: its public and management ports', () => {
      const published = (svc().ports ?? []).map((p) =>
        Number(interpolate(String(p)).split(':')[2]),
      );
      expect(published).toEqual(app.name === 'gateway' ? [app.port, app.managementPort] : []);
    });
  });

  describe('credentials', () => {
    it('should take every credential from the environment, with no default', () => {
      expect(REQUIRED_VARIABLES).toEqual(
        [
          'JWT_SECRET',
          'OPERATOR_TOKEN',
          'POSTGRES_PASSWORD',
          'S3_ACCESS_KEY_ID',
          'S3_NOTIFICATION_SECRET',
          'S3_SECRET_ACCESS_KEY',
          ...Object.values(SERVICE_KEY_SECRETS),
          'SERVICE_TOKEN_PUBLIC_KEYS',
        ].sort(),
      );
      const text = readFileSync(COMPOSE_FILE, 'utf8');
      const defaulted = REQUIRED_VARIABLES.filter((v) => text.includes(`\${${v}:-`));
      expect(defaulted).toEqual([]);
      expect(WELL_KNOWN_SECRETS.filter((value) => text.includes(value))).toEqual([]);
    });

    it('should have init-secrets.sh write each of them, random, owner-only, kept on a second run', () => {
      expect(Object.keys(SECRETS).sort()).toEqual(REQUIRED_VARIABLES);
      const other = runInitSecrets(join(scratch, 'other.env'));
      for (const name of REQUIRED_VARIABLES) {
        expect({ name, fresh: other[name] !== SECRETS[name] }).toEqual({ name, fresh: true });
      }
      expect(statSync(join(scratch, '.env')).mode & 0o077).toBe(0);
      expect(runInitSecrets(join(scratch, '.env'))).toEqual(SECRETS);
    });

    it('should make credentials the gateway and MinIO accept', () => {
      const gateway = envOf(service('gateway'));
      for (const key of ['JWT_SECRET', 'OPERATOR_TOKEN'])
        expect({ key, longEnough: gateway[key].length >= 32 }).toEqual({ key, longEnough: true });
      expect(envOf(service('flow-orchestrator')).S3_NOTIFICATION_SECRET.length).toBeGreaterThan(16);
      const minio = envOf(service('minio'));
      expect(minio.MINIO_ROOT_USER.length).toBeGreaterThanOrEqual(3);
      expect(minio.MINIO_ROOT_PASSWORD.length).toBeGreaterThanOrEqual(8);
    });

    it('should give each app its own service token key, which the public keys of every app list', () => {
      for (const app of APPS) {
        const env = envOf(service(app.name));
        expect(env.SERVICE_TOKEN_PRIVATE_KEY).toBe(SECRETS[SERVICE_KEY_SECRETS[app.name]]);
        // What the app checks at boot: its own public key is listed under its name, every app has one.
        const privateKey = parsePrivateKey(env.SERVICE_TOKEN_PRIVATE_KEY);
        expect(() =>
          parsePublicKeys(env.SERVICE_TOKEN_PUBLIC_KEYS, app.name, privateKey),
        ).not.toThrow();
      }
    });
  });

  it('should publish every port on the loopback interface only', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const port of svc.ports ?? []) {
        const mapping = interpolate(String(port));
        expect({ name, mapping, loopback: mapping.startsWith('127.0.0.1:') }).toEqual({
          name,
          mapping,
          loopback: true,
        });
      }
    }
  });

  it('should bound the time a client may take to send the gateway a request, and not its body limits', () => {
    expect(gatewayHttpProblems(envOf(service('gateway')))).toEqual([]);
  });

  describe('dependencies', () => {
    it('should only depend on services that exist and can satisfy the condition', () => {
      for (const [name, svc] of Object.entries(compose.services)) {
        for (const [target, condition] of Object.entries(dependsOn(svc))) {
          const dep = compose.services[target];
          const satisfiable =
            dep !== undefined &&
            (condition !== 'service_healthy' || hasHealthcheck(dep)) &&
            (condition !== 'service_completed_successfully' || dep.restart === 'no');
          expect({ name, target, condition, satisfiable }).toEqual({
            name,
            target,
            condition,
            satisfiable: true,
          });
        }
      }
    });

    it('should have no dependency cycle', () => {
      const visiting = new Set<string>();
      const done = new Set<string>();
      const visit = (name: string, path: string[]): void => {
        if (done.has(name)) return;
        if (visiting.has(name)) throw new Error(`cycle: ${[...path, name].join(' -> ')}`);
        visiting.add(name);
        for (const dep of Object.keys(dependsOn(service(name)))) visit(dep, [...path, name]);
        visiting.delete(name);
        done.add(name);
      };
      expect(() => Object.keys(compose.services).forEach((n) => visit(n, []))).not.toThrow();
    });
  });

  it('should leave `$` to the shell unless it is a ${VAR:-default} interpolation', () => {
    // Compose interpolates $VAR and ${VAR} from the host; a bare one is almost always a shell
    // variable that needed `$$`, and one without a default breaks `up` on a clean machine.
    const offenders = collectStrings(raw).filter(([, value]) => {
      const withoutEscapes = value.replace(/\$\$/g, '');
      const withoutDefaults = withoutEscapes.replace(/\$\{[A-Z0-9_]+:?[-?][^}]*\}/g, '');
      return withoutDefaults.includes('$');
    });
    expect(offenders).toEqual([]);
    expect(isRecord(raw)).toBe(true);
  });
});
