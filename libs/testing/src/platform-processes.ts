import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { freePorts } from '../../../tools/local-servers/java-server';
import { join } from 'node:path';
import { REPO_ROOT } from './repo-root';
import { RoundRobin } from './round-robin';
import { waitFor } from './wait';

export const APP_NAMES = [
  'object-metadata',
  'storage',
  'flow-orchestrator',
  'usage-aggregator',
  'gateway',
] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Preloaded into every app: it shuts down when the process that started it is gone. */
const EXIT_WITH_PARENT = join(REPO_ROOT, 'libs', 'testing', 'src', 'exit-with-parent.js');

export interface PlatformOptions {
  /** Environment shared by every app (DATABASE_URL, KAFKA_BROKERS, S3_*, JWT_SECRET, ...). */
  env: Record<string, string>;
  /** Per-app extra environment. */
  appEnv?: Partial<Record<AppName, Record<string, string>>>;
  apps?: readonly AppName[];
  /** Where each app's JSON log goes (`<dir>/<app>.log`); inherits the parent's stdout when absent. */
  logDir?: string;
  readyTimeoutMs?: number;
  /** Fixed ports (e.g. the gateway on 3000 for local runs); the others get free ones. */
  ports?: Partial<Record<AppName, number>>;
  /** Fixed management ports (`MANAGEMENT_PORT`), likewise. */
  managementPorts?: Partial<Record<AppName, number>>;
  /**
   * Processes per app (default 1). With more, `urls` and `managementUrls` are round-robin balancers in front
   * of each app's replicas, as a Kubernetes Service is in front of its pods (the apps call each other through
   * them too), and `ports`/`managementPorts` are ignored.
   */
  replicas?: number;
}

/** One more process of an app, started by `RunningPlatform.startInstance`. */
export interface AppInstance {
  url: string;
  /** Sends a signal to the process and waits for it to exit (default SIGTERM). */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface RunningPlatform {
  urls: Record<AppName, string>;
  /** Each app's management listener: `/metrics`, the detailed `/health/ready`, the gateway's `/admin`. */
  managementUrls: Record<AppName, string>;
  /** One replica's own management listener (its metrics, where `managementUrls` balances). */
  replicaManagementUrl(app: AppName, replica: number): string;
  /**
   * Sends a signal to one replica of an app (default the first) and waits for it to exit. With replicas, it
   * leaves its balancer first: new connections go to the others, as when a pod terminates.
   */
  kill(app: AppName, signal?: NodeJS.Signals, replica?: number): Promise<number | null>;
  /**
   * Starts a replica again (after `kill`) on the same ports, waits until it is ready and puts it back behind
   * its balancer.
   */
  restart(app: AppName, replica?: number): Promise<void>;
  /**
   * Starts one more process of `app` with the same environment, on a port of its own (log
   * `<app>-<n>.log`), and waits until it is ready: a second replica, e.g. another member of a consumer
   * group. The other apps keep calling the first one (`urls`); `stop()` stops it too. `env` adds to or
   * overrides its environment (e.g. a gateway serving TLS).
   */
  startInstance(app: AppName, env?: Record<string, string>): Promise<AppInstance>;
  /** The process id of a running replica (default the first; benchmarks read its CPU time). */
  pid(app: AppName, replica?: number): number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the compiled apps (`dist/apps/<app>/src/main.js`, built by `npm run build`) as real processes, each
 * on its own loopback ports (public and management) with the service URLs of the others, and waits until
 * each answers `/health/ready` on its management port (which listens last). Used by the e2e suites and by
 * the local start script.
 */
export async function startPlatform(opts: PlatformOptions): Promise<RunningPlatform> {
  const apps = opts.apps ?? APP_NAMES;
  const replicas = opts.replicas ?? 1;
  /**
   * With replicas: each app's balancers (public, management), the address everyone else uses. They listen
   * before the apps' ports are picked: a port picked and released could otherwise come back to a balancer.
   */
  const balancers = new Map<AppName, { pub: RoundRobin; management: RoundRobin }>();
  if (replicas > 1) {
    for (const app of APP_NAMES)
      balancers.set(app, { pub: await RoundRobin.start(), management: await RoundRobin.start() });
  }
  /** Each replica's own ports. */
  const ports = {} as Record<AppName, { port: number; managementPort: number }[]>;
  // Picked together, so no two apps are handed one port (one at a time, a port just released can come back).
  const free = await freePorts(2 * replicas * APP_NAMES.length);
  for (const app of APP_NAMES) {
    ports[app] = Array.from({ length: replicas }, () => ({
      port: (replicas === 1 && opts.ports?.[app]) || free.pop()!,
      managementPort: (replicas === 1 && opts.managementPorts?.[app]) || free.pop()!,
    }));
  }
  const addressOf = (app: AppName) => ({
    port: balancers.get(app)?.pub.port ?? ports[app][0].port,
    managementPort: balancers.get(app)?.management.port ?? ports[app][0].managementPort,
  });
  const urls = Object.fromEntries(
    APP_NAMES.map((a) => [a, `http://127.0.0.1:${addressOf(a).port}`]),
  ) as Record<AppName, string>;
  const managementUrls = Object.fromEntries(
    APP_NAMES.map((a) => [a, `http://127.0.0.1:${addressOf(a).managementPort}`]),
  ) as Record<AppName, string>;
  const serviceUrls = {
    OBJECT_METADATA_URL: urls['object-metadata'],
    STORAGE_URL: urls.storage,
    FLOW_ORCHESTRATOR_URL: urls['flow-orchestrator'],
    USAGE_AGGREGATOR_URL: urls['usage-aggregator'],
  };
  if (opts.logDir) mkdirSync(opts.logDir, { recursive: true });
  /** Each app's replica processes, by replica index. */
  const children = new Map<AppName, ChildProcess[]>(APP_NAMES.map((a) => [a, []]));
  /** Processes started by `startInstance`, and how many of each app there are. */
  const instances = new Set<ChildProcess>();
  const instanceCount = Object.fromEntries(APP_NAMES.map((a) => [a, replicas])) as Record<
    AppName,
    number
  >;

  /**
   * Spawns `app` listening on `port` and `managementPort`, logging to `<logDir>/<logName>.log`; `ready`
   * resolves once it serves.
   */
  const spawnApp = (
    app: AppName,
    port: number,
    managementPort: number,
    logName: string,
    env: Record<string, string> = {},
  ) => {
    const url = `http://127.0.0.1:${port}`;
    const managementUrl = `http://127.0.0.1:${managementPort}`;
    const child = spawn(
      process.execPath,
      ['--require', EXIT_WITH_PARENT, join(REPO_ROOT, 'dist', 'apps', app, 'src', 'main.js')],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          ...serviceUrls,
          ...opts.env,
          ...opts.appEnv?.[app],
          ...env,
          PORT: String(port),
          MANAGEMENT_PORT: String(managementPort),
        },
        stdio: [
          'ignore',
          opts.logDir ? 'pipe' : 'inherit',
          opts.logDir ? 'pipe' : 'inherit',
          'ipc',
        ],
      },
    );
    // The channel only tells the app when this process is gone (EXIT_WITH_PARENT); it keeps nothing alive.
    child.channel?.unref();
    if (opts.logDir) {
      const log = createWriteStream(join(opts.logDir, `${logName}.log`), { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    }
    let exited = false;
    child.once('exit', () => (exited = true));
    const ready = waitFor(
      `${logName} to be ready on ${url}`,
      async () => {
        if (exited) throw new Error(`${logName} exited during start-up (see its log)`);
        const res = await fetch(`${managementUrl}/health/ready`);
        return res.status === 200;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 30_000, intervalMs: 100 },
    );
    return { child, url, ready };
  };

  /** Starts one replica on its ports and, once it is ready, puts it behind its balancers. */
  const launch = async (app: AppName, replica = 0) => {
    const { port, managementPort } = ports[app][replica];
    const logName = replica === 0 ? app : `${app}-${replica + 1}`;
    const { child, ready } = spawnApp(app, port, managementPort, logName);
    children.get(app)![replica] = child;
    await ready;
    balancers.get(app)?.pub.add(port);
    balancers.get(app)?.management.add(managementPort);
  };

  const endProcess = async (child: ChildProcess | undefined, sig: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return child?.exitCode ?? null;
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exit;
    clearTimeout(timer);
    return code;
  };
  const kill = (app: AppName, sig: NodeJS.Signals = 'SIGTERM', replica = 0) => {
    balancers.get(app)?.pub.remove(ports[app][replica].port);
    balancers.get(app)?.management.remove(ports[app][replica].managementPort);
    return endProcess(children.get(app)![replica], sig);
  };

  const startInstance = async (
    app: AppName,
    env?: Record<string, string>,
  ): Promise<AppInstance> => {
    const [port, managementPort] = await freePorts(2);
    const { child, url, ready } = spawnApp(
      app,
      port,
      managementPort,
      `${app}-${++instanceCount[app]}`,
      env,
    );
    instances.add(child);
    try {
      await ready;
    } catch (err) {
      await endProcess(child, 'SIGKILL');
      throw err;
    }
    return { url, kill: (sig = 'SIGTERM') => endProcess(child, sig) };
  };

  const launchAll = (app: AppName) =>
    Promise.all(ports[app].map((_, replica) => launch(app, replica)));
  const stopBalancers = () =>
    Promise.all([...balancers.values()].flatMap((b) => [b.pub.stop(), b.management.stop()]));
  const allChildren = () => [...children.values()].flat();
  try {
    // All at once: the gateway's readiness checks the services it calls, so it is ready after them.
    await Promise.all(apps.map(launchAll));
  } catch (err) {
    await Promise.all(allChildren().map((c) => endProcess(c, 'SIGKILL')));
    await stopBalancers();
    throw err;
  }

  return {
    urls,
    managementUrls,
    replicaManagementUrl: (app, replica) =>
      `http://127.0.0.1:${ports[app][replica].managementPort}`,
    kill,
    restart: launch,
    startInstance,
    pid: (app, replica = 0) => children.get(app)![replica]?.pid,
    stop: async () => {
      await Promise.all([...allChildren(), ...instances].map((c) => endProcess(c, 'SIGTERM')));
      await stopBalancers();
    },
  };
}
