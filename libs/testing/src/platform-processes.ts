import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './repo-root';
import { waitFor } from './wait';

export const APP_NAMES = [
  'object-metadata',
  'storage',
  'flow-orchestrator',
  'usage-aggregator',
  'gateway',
] as const;
export type AppName = (typeof APP_NAMES)[number];

/** A free TCP port on loopback (the OS picks it; we release it just before the app binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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
  /** Sends a signal to one app and waits for it to exit. */
  kill(app: AppName, signal?: NodeJS.Signals): Promise<number | null>;
  /** Starts an app again (after `kill`) on the same port and waits until it is ready. */
  restart(app: AppName): Promise<void>;
  /**
   * Starts one more process of `app` with the same environment, on a port of its own (log
   * `<app>-<n>.log`), and waits until it is ready: a second replica, e.g. another member of a consumer
   * group. The other apps keep calling the first one (`urls`); `stop()` stops it too. `env` adds to or
   * overrides its environment (e.g. a gateway serving TLS).
   */
  startInstance(app: AppName, env?: Record<string, string>): Promise<AppInstance>;
  /** The process id of a running app (benchmarks read its CPU time). */
  pid(app: AppName): number | undefined;
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
  const portsOf = async (fixed: PlatformOptions['ports']) =>
    Object.fromEntries(
      await Promise.all(APP_NAMES.map(async (a) => [a, fixed?.[a] ?? (await freePort())] as const)),
    ) as Record<AppName, number>;
  const [ports, managementPorts] = await Promise.all([
    portsOf(opts.ports),
    portsOf(opts.managementPorts),
  ]);
  const urls = Object.fromEntries(
    APP_NAMES.map((a) => [a, `http://127.0.0.1:${ports[a]}`]),
  ) as Record<AppName, string>;
  const managementUrls = Object.fromEntries(
    APP_NAMES.map((a) => [a, `http://127.0.0.1:${managementPorts[a]}`]),
  ) as Record<AppName, string>;
  const serviceUrls = {
    OBJECT_METADATA_URL: urls['object-metadata'],
    STORAGE_URL: urls.storage,
    FLOW_ORCHESTRATOR_URL: urls['flow-orchestrator'],
    USAGE_AGGREGATOR_URL: urls['usage-aggregator'],
  };
  if (opts.logDir) mkdirSync(opts.logDir, { recursive: true });
  const children = new Map<AppName, ChildProcess>();
  /** Processes started by `startInstance`, and how many of each app there are. */
  const instances = new Set<ChildProcess>();
  const instanceCount = Object.fromEntries(APP_NAMES.map((a) => [a, 1])) as Record<AppName, number>;

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
      [join(REPO_ROOT, 'dist', 'apps', app, 'src', 'main.js')],
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
        stdio: ['ignore', opts.logDir ? 'pipe' : 'inherit', opts.logDir ? 'pipe' : 'inherit'],
      },
    );
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

  const launch = async (app: AppName) => {
    const { child, ready } = spawnApp(app, ports[app], managementPorts[app], app);
    children.set(app, child);
    await ready;
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
  const kill = (app: AppName, sig: NodeJS.Signals = 'SIGTERM') =>
    endProcess(children.get(app), sig);

  const startInstance = async (
    app: AppName,
    env?: Record<string, string>,
  ): Promise<AppInstance> => {
    const { child, url, ready } = spawnApp(
      app,
      await freePort(),
      await freePort(),
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

  try {
    // Services first, the gateway last: its readiness checks its dependencies.
    await Promise.all(apps.filter((a) => a !== 'gateway').map(launch));
    if (apps.includes('gateway')) await launch('gateway');
  } catch (err) {
    await Promise.all(apps.map((a) => kill(a, 'SIGKILL')));
    throw err;
  }

  return {
    urls,
    managementUrls,
    kill,
    restart: launch,
    startInstance,
    pid: (app) => children.get(app)?.pid,
    stop: async () => {
      await Promise.all([...children.values(), ...instances].map((c) => endProcess(c, 'SIGTERM')));
    },
  };
}
