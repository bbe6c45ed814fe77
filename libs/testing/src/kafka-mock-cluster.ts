import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Topic, TOPIC_PARTITIONS } from '@lib/contracts';
import { REPO_ROOT } from './repo-root';

/**
 * A librdkafka mock cluster (tools/local-kafka/mock-cluster.c) owned by the calling process: real
 * Kafka wire protocol on 127.0.0.1, brokers 1..N, plus fault injection. See
 * /work/shared/notes/local-infra.md for what the mock supports (no admin CreateTopics, no
 * controller, so no idempotent producer nor transactions).
 */
export interface KafkaMockCluster {
  /** Bootstrap list, `host:port` per broker; broker ids are 1..N in this order. */
  readonly brokers: string[];
  /** Disconnects broker `id` and refuses new connections. Leadership does NOT move. */
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  /** The next `codes.length` requests of `apiKey`, on any broker, fail with these codes in order. */
  pushRequestErrors(apiKey: number, ...codes: number[]): Promise<void>;
  /** The next `count` requests of `apiKey` to broker `brokerId` fail with `errCode` after `rttMs`. */
  pushBrokerRequestErrors(
    brokerId: number,
    apiKey: number,
    count: number,
    errCode: number,
    rttMs?: number,
  ): Promise<void>;
  /** Drops pending cluster-wide errors of `apiKey`. */
  clearRequestErrors(apiKey: number): Promise<void>;
  /** Delays every response of broker `brokerId` (-1: all brokers) by `ms`. */
  setRtt(brokerId: number, ms: number): Promise<void>;
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  createTopic(name: string, partitions: number, replication?: number): Promise<void>;
  /** Sends one raw launcher command (see mock-cluster.c); resolves on `ok`, rejects on `error`. */
  command(line: string): Promise<void>;
  /** Closes the launcher's stdin and waits for it to exit (SIGKILL after a timeout). Idempotent. */
  stop(): Promise<void>;
}

export interface KafkaMockTopic {
  name: string;
  partitions: number;
  /** Default: min(brokers, 3). */
  replication?: number;
}

export interface KafkaMockClusterOptions {
  /** Default 3. */
  brokers?: number;
  /** Topics created before the bootstrap list is printed. Default: `platformTopics()`. */
  topics?: KafkaMockTopic[];
}

/** Kafka protocol API keys, for fault injection. */
export const KafkaApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
} as const;

/** Kafka protocol error codes (and librdkafka's local `Transport`: the broker drops the connection). */
export const KafkaErrorCode = {
  Transport: -195,
  UnknownTopicOrPartition: 3,
  LeaderNotAvailable: 5,
  NotLeaderForPartition: 6,
  RequestTimedOut: 7,
  NetworkException: 13,
  CoordinatorNotAvailable: 15,
  NotCoordinator: 16,
  NotEnoughReplicas: 19,
  RebalanceInProgress: 27,
} as const;

/** The platform's topics (from @lib/contracts), each with TOPIC_PARTITIONS partitions. */
export function platformTopics(): KafkaMockTopic[] {
  return Object.values(Topic).map((name) => ({ name, partitions: TOPIC_PARTITIONS }));
}

const STARTUP_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_TAIL = 4_000;

/** Builds the launcher when missing or older than its source (the script decides, idempotently). */
async function ensureBinary(root: string): Promise<string> {
  const override = process.env.KAFKA_MOCK_CLUSTER_BIN;
  if (override) return override;
  try {
    await promisify(execFile)('bash', [join(root, 'scripts', 'build-local-kafka.sh')], {
      cwd: root,
      timeout: 120_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`building kafka-mock-cluster failed: ${String(err)}\n${stderr}`);
  }
  return join(root, '.local', 'bin', 'kafka-mock-cluster');
}

interface Pending {
  resolve(line: string): void;
  reject(err: Error): void;
}

/**
 * Starts a mock cluster (default: 3 brokers, `platformTopics()`). The child process dies with its
 * stdin, so even a crashed test process leaves nothing behind; its handles are unref'ed while idle
 * so a forgotten `stop()` does not keep Jest alive.
 */
export async function startKafkaMockCluster(
  opts: KafkaMockClusterOptions = {},
): Promise<KafkaMockCluster> {
  const brokerCount = opts.brokers ?? 3;
  const topics = opts.topics ?? platformTopics();
  const args = ['--brokers', String(brokerCount)];
  for (const t of topics) {
    const repl = t.replication ?? Math.min(brokerCount, 3);
    args.push('--topic', `${t.name}:${t.partitions}:${repl}`);
  }

  const bin = await ensureBinary(REPO_ROOT);
  const child: ChildProcessWithoutNullStreams = spawn(bin, args, { stdio: 'pipe' });

  let stderr = '';
  let stdoutBuf = '';
  let exited = false;
  const waiters: Pending[] = []; // FIFO: one answer line per command, in order
  const exitPromise = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const describe = () => (stderr.trim() ? `\nstderr: ${stderr.trim()}` : '');

  // The event loop is kept alive only while something awaits the child (startup, a command,
  // stop): a forgotten stop() must not keep Jest running, yet a plain script awaiting a command
  // must not exit under it. Counted, since stop() may overlap a command.
  let holds = 0;
  const handles = [child, child.stdin, child.stdout, child.stderr] as unknown as {
    ref(): void;
    unref(): void;
  }[];
  const hold = (): (() => void) => {
    if (holds++ === 0) handles.forEach((h) => h.ref());
    return () => {
      if (--holds === 0) handles.forEach((h) => h.unref());
    };
  };

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdoutBuf += chunk;
    let nl: number;
    while ((nl = stdoutBuf.indexOf('\n')) >= 0) {
      const line = stdoutBuf.slice(0, nl);
      stdoutBuf = stdoutBuf.slice(nl + 1);
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(line);
    }
  });
  // Writes after the child died fail with EPIPE; the exit handler already rejected the waiter.
  child.stdin.on('error', () => undefined);
  child.once('error', (err) => failAll(new Error(`kafka-mock-cluster: ${err.message}`)));
  child.once('exit', () => (exited = true));
  // 'close' (not 'exit') comes after stdout is drained: an answer already written is not lost.
  child.once('close', (code, signal) => {
    exited = true;
    failAll(new Error(`kafka-mock-cluster exited (code ${code}, signal ${signal})${describe()}`));
  });

  function failAll(err: Error) {
    for (const w of waiters.splice(0)) w.reject(err);
  }

  /** Waits for the next stdout line, bounded by `timeoutMs`. */
  function nextLine(what: string, timeoutMs: number): Promise<string> {
    if (exited) return Promise.reject(new Error(`kafka-mock-cluster is not running (${what})`));
    const release = hold();
    return new Promise<string>((resolve, reject) => {
      const waiter: Pending = {
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        // Answers come in order: a late answer must not be taken for the next command's.
        const i = waiters.indexOf(waiter);
        if (i >= 0) waiters.splice(i, 1);
        child.kill('SIGKILL');
        reject(
          new Error(`kafka-mock-cluster: no answer to ${what} in ${timeoutMs} ms${describe()}`),
        );
      }, timeoutMs);
      waiters.push(waiter);
    }).finally(release);
  }

  let bootstrap: string;
  try {
    bootstrap = await nextLine('startup', STARTUP_TIMEOUT_MS);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const brokers = bootstrap.split(',').filter(Boolean);
  if (brokers.length !== brokerCount) {
    child.kill('SIGKILL');
    throw new Error(`kafka-mock-cluster: unexpected bootstrap line "${bootstrap}"${describe()}`);
  }

  let queue: Promise<unknown> = Promise.resolve();
  const command = (line: string): Promise<void> => {
    if (/[\r\n]/.test(line)) return Promise.reject(new Error('command must be a single line'));
    const run = async () => {
      const answer = nextLine(`"${line}"`, COMMAND_TIMEOUT_MS);
      child.stdin.write(`${line}\n`);
      const reply = await answer;
      if (reply !== 'ok') throw new Error(`kafka-mock-cluster: "${line}" → ${reply}`);
    };
    // Serialized: each command runs after the previous one settled, whatever its outcome.
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const release = hold();
      child.stdin.end(); // EOF: the launcher destroys the cluster and exits
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exitPromise;
      clearTimeout(timer);
      release();
    })());

  return {
    brokers,
    brokerDown: (id) => command(`down ${id}`),
    brokerUp: (id) => command(`up ${id}`),
    pushRequestErrors: (apiKey, ...codes) => command(`errors ${apiKey} ${codes.join(' ')}`),
    pushBrokerRequestErrors: (brokerId, apiKey, count, errCode, rttMs = 0) =>
      command(`broker-errors ${brokerId} ${apiKey} ${count} ${errCode} ${rttMs}`),
    clearRequestErrors: (apiKey) => command(`clear ${apiKey}`),
    setRtt: (brokerId, ms) => command(`rtt ${brokerId} ${ms}`),
    setLeader: (topic, partition, brokerId) => command(`leader ${topic} ${partition} ${brokerId}`),
    createTopic: (name, partitions, replication = Math.min(brokerCount, 3)) =>
      command(`topic ${name} ${partitions} ${replication}`),
    command,
    stop,
  };
}
