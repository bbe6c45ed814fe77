import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './repo-root';

/** Where scripts/fetch-servers.sh writes each server's class path. */
const CLASSPATH_DIR = join(REPO_ROOT, '.local', 'servers');

export type ServerName = 'kafka' | 's3proxy';

/** The class path of a server resolved by `scripts/fetch-servers.sh` (run by `npm run setup`). */
export function serverClasspath(name: ServerName): string {
  const file = join(CLASSPATH_DIR, `${name}.classpath`);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(
      `${file} is missing: run \`npm run setup\` (it resolves ${name} from Maven Central)`,
    );
  }
}

/**
 * Class data sharing: the first JVM of a class path on this machine writes, when it exits, an archive of the
 * classes it loaded; later JVMs of that class path map it instead of parsing and verifying those classes
 * again (a broker is up ~1 s sooner with ~1 s less CPU, and the tests start dozens). A JVM of another build
 * ignores the archive.
 */
function classArchive(classpath: string): { options: string[]; keep(): Promise<void> } {
  const shared = sharedClassesOptions(classpath);
  if (shared.length > 0) return { options: shared, keep: async () => {} };
  const archive = classArchivePath(classpath);
  const written = `${archive}.${process.pid}-${++archivesWritten}.tmp`;
  return {
    options: [`-XX:ArchiveClassesAtExit=${written}`],
    // Put in place only once a JVM maps it: a JVM stopped while writing leaves a truncated file, which
    // would crash every JVM that maps it.
    keep: async () => {
      if (!existsSync(written)) return;
      try {
        await promisify(execFile)('java', [
          '-Xshare:on',
          `-XX:SharedArchiveFile=${written}`,
          '-cp',
          classpath,
          '-version',
        ]);
        await rename(written, archive);
      } catch {
        await rm(written, { force: true });
      }
    },
  };
}
let archivesWritten = 0;

function classArchivePath(classpath: string): string {
  const key = createHash('sha256').update(classpath).digest('hex').slice(0, 16);
  return join(CLASSPATH_DIR, `classes-${key}.jsa`);
}

/** The options that map the class archive of `classpath` when there is one (for a JVM of a tool). */
export function sharedClassesOptions(classpath: string): string[] {
  const archive = classArchivePath(classpath);
  return existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : [];
}

/**
 * JVM options. `fast-start` (tests, local runs): the client compiler only and a small serial-collected
 * heap, so a broker is up in ~2 s and idles at a few % of a core; `throughput` (benchmarks): the JVM's
 * default compilers, as servers run in production.
 */
export type JvmProfile = 'fast-start' | 'throughput';

const JVM_OPTIONS: Record<JvmProfile, string[]> = {
  'fast-start': ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xss512k'],
  throughput: ['-Xms256m', '-Xmx1g', '-XX:+UseParallelGC'],
};

export interface JavaServerOptions {
  /** For messages and the log file name. */
  name: string;
  classpath: string;
  mainClass: string;
  args: string[];
  jvm?: JvmProfile;
  /** Extra `-D…` / `-X…` options. */
  jvmOptions?: string[];
  /** Where the server's stdout and stderr go (appended). */
  logFile: string;
  /** True when a line of the server's output says it is ready. */
  ready(line: string): boolean;
  /** Default 60 s. */
  startTimeoutMs?: number;
}

export interface JavaServer {
  /** The JVM's process id. */
  readonly pid: number;
  /** Resolves with the exit code (null after a signal) once the JVM is gone. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` to the JVM and waits for it to exit (SIGKILL after `timeoutMs`, default 20 s). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/**
 * Starts a JVM under a small bash watchdog that kills it when this process's end of the pipe closes, so a
 * test run that crashes never leaves a broker or an S3 server behind. Resolves once `ready` matched a line of
 * the server's output; rejects (and kills the JVM) when the JVM exits first or the time runs out.
 */
export async function startJavaServer(opts: JavaServerOptions): Promise<JavaServer> {
  const profile = opts.jvm ?? 'fast-start';
  const classes = profile === 'fast-start' ? classArchive(opts.classpath) : undefined;
  const jvm = [...JVM_OPTIONS[profile], ...(classes?.options ?? []), ...(opts.jvmOptions ?? [])];
  // The watchdog prints the JVM's pid first, then waits: when stdin (kept as fd 3: a background job's own
  // stdin is /dev/null) reaches EOF, because we exited or died, it kills the JVM; when the JVM exits on its
  // own, the watchdog exits with the JVM's status.
  const watchdog =
    'exec 3<&0; java "$@" </dev/null 2>&1 & jvm=$!; echo "pid $jvm"; ' +
    '(cat <&3 >/dev/null; kill -9 $jvm 2>/dev/null) & guard=$!; ' +
    'wait $jvm; status=$?; kill $guard 2>/dev/null; exit $status';
  const child: ChildProcessWithoutNullStreams = spawn(
    'bash',
    ['-c', watchdog, 'java', ...jvm, '-cp', opts.classpath, opts.mainClass, ...opts.args],
    { stdio: 'pipe' },
  );
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  child.stdin.on('error', () => undefined);
  let tail = '';
  let pid = 0;
  let buffered = '';
  let onReady: (() => void) | undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    log.write(chunk);
    tail = (tail + chunk).slice(-4_000);
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (pid === 0 && line.startsWith('pid ')) pid = Number(line.slice(4));
      else if (onReady && opts.ready(line)) onReady();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      log.end();
      resolve(code);
    }),
  ).then(async (code) => {
    await classes?.keep();
    return code;
  });

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${opts.name}: not ready after ${timeoutMs} ms\n${tail}`)),
        timeoutMs,
      );
      onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${opts.name} exited (${code}) before it was ready\n${tail}`));
      });
    });
  } catch (err) {
    child.stdin.end();
    if (pid) kill(pid, 'SIGKILL');
    await exited;
    throw err;
  }
  onReady = undefined;
  // Idle servers must not keep a test runner alive; stop() is what waits for them.
  for (const handle of [child, child.stdin, child.stdout, child.stderr]) {
    (handle as unknown as { unref(): void }).unref();
  }

  return {
    pid,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 20_000) {
      kill(pid, signal);
      const timer = setTimeout(() => kill(pid, 'SIGKILL'), stopTimeoutMs);
      (child as unknown as { ref(): void }).ref();
      await exited;
      clearTimeout(timer);
      child.stdin.end();
    },
  };
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * A new directory for a server's data, named after this process (`<prefix>-<pid>-<random>`), in `/dev/shm`
 * (memory) when it is writable, else in the temp dir: the local servers stand in for remote ones, so their
 * disk is no part of what tests and benchmarks measure. Directories of processes that died before removing
 * theirs are removed first (in memory they would last until a reboot).
 */
export async function freshServerDirectory(prefix: string): Promise<string> {
  const root = writable('/dev/shm') ? '/dev/shm' : tmpdir();
  const owned = new RegExp(`^${prefix}-(\\d+)-`);
  for (const name of await readdir(root)) {
    const owner = owned.exec(name);
    if (owner && !alive(Number(owner[1]))) {
      await rm(join(root, name), { recursive: true, force: true });
    }
  }
  return mkdtemp(join(root, `${prefix}-${process.pid}-`));
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Free loopback ports, held together until all are known so that no two are the same. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
