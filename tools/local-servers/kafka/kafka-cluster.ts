import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  freePorts,
  freshServerDirectory,
  serverClasspath,
  sharedClassesOptions,
  startJavaServer,
  type JavaServer,
  type JvmProfile,
} from '../java-server';

const LOG4J_CONFIG = join(__dirname, 'log4j2.properties');

export type KafkaSecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export interface KafkaClusterOptions {
  /** Combined broker + controller nodes (KRaft). Default 1. */
  nodes?: number;
  jvm?: JvmProfile;
  /**
   * Where the nodes keep their logs and metadata. Default: a fresh directory, removed by `stop`. A given
   * directory is kept, and nodes already formatted there start with their data (local runs).
   */
  directory?: string;
  /** Client ports, one per node (local runs); default: free ports. */
  clientPorts?: number[];
  /** Security of the listener clients use (brokers talk to each other in plaintext). Default PLAINTEXT. */
  clientProtocol?: KafkaSecurityProtocol;
  /** Broker properties added to (or replacing) the defaults, on every node. */
  properties?: Record<string, string>;
  /** Extra arguments of the storage tool's `format` (for example `--add-scram …`). */
  formatArgs?: string[];
}

export interface KafkaNode {
  readonly id: number;
  /** `127.0.0.1:port` of its client listener. */
  readonly address: string;
  readonly running: boolean;
  /** The node's JVM process id while it runs. */
  readonly pid: number | undefined;
  /** SIGKILL: the node dies at once, as in a crash; its data stays. */
  kill(): Promise<void>;
  /** SIGTERM: a controlled shutdown (leadership moves first). */
  stop(): Promise<void>;
  /** Starts the node again on its data and waits until it serves. */
  start(): Promise<void>;
}

export interface KafkaCluster {
  /** Bootstrap list, `127.0.0.1:port` per node. */
  readonly brokers: string[];
  readonly nodes: readonly KafkaNode[];
  readonly directory: string;
  /** Stops every node (and removes the directory when the cluster made it). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Apache Kafka in KRaft mode on 127.0.0.1, every node both broker and controller, started from the jars
 * that `scripts/fetch-servers.sh` resolved: the storage formatted with the broker's own tool
 * (`kafka.tools.StorageTool`), each node run by its own main class (`kafka.Kafka`). Topic auto-creation is
 * off; internal topics are replicated to min(nodes, 3).
 */
export async function startKafkaCluster(opts: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const count = opts.nodes ?? 1;
  const ownsDirectory = opts.directory === undefined;
  const directory = opts.directory ?? (await freshServerDirectory('platform-kafka'));
  await mkdir(directory, { recursive: true });
  const classpath = serverClasspath('kafka');
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const ports = await freePorts(3 * count);
  const clientPorts = opts.clientPorts ?? ports.slice(0, count);
  const internalPorts = ports.slice(count, 2 * count);
  const controllerPorts = ports.slice(2 * count);
  const voters = ids.map((id, i) => `${id}@127.0.0.1:${controllerPorts[i]}`).join(',');
  const replicas = String(Math.min(count, 3));
  const minIsr = String(Math.min(count, 2));

  const configFile = (id: number) => join(directory, `node-${id}.properties`);
  const dataDir = (id: number) => join(directory, `node-${id}`);
  await Promise.all(
    ids.map((id, i) => {
      const properties: Record<string, string> = {
        'process.roles': 'broker,controller',
        'node.id': String(id),
        'controller.quorum.voters': voters,
        listeners: `CLIENT://127.0.0.1:${clientPorts[i]},INTERNAL://127.0.0.1:${internalPorts[i]},CONTROLLER://127.0.0.1:${controllerPorts[i]}`,
        'advertised.listeners': `CLIENT://127.0.0.1:${clientPorts[i]},INTERNAL://127.0.0.1:${internalPorts[i]}`,
        'listener.security.protocol.map': `CLIENT:${opts.clientProtocol ?? 'PLAINTEXT'},INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT`,
        'inter.broker.listener.name': 'INTERNAL',
        'controller.listener.names': 'CONTROLLER',
        'log.dirs': dataDir(id),
        'auto.create.topics.enable': 'false',
        'offsets.topic.replication.factor': replicas,
        'offsets.topic.num.partitions': '10',
        'transaction.state.log.replication.factor': replicas,
        'transaction.state.log.min.isr': minIsr,
        'share.coordinator.state.topic.replication.factor': replicas,
        'share.coordinator.state.topic.min.isr': minIsr,
        'group.initial.rebalance.delay.ms': '0',
        ...opts.properties,
      };
      const text = Object.entries(properties)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n');
      return writeFile(configFile(id), `${text}\n`);
    }),
  );

  const clusterId = kafkaUuid();
  await Promise.all(
    ids
      .filter((id) => !existsSync(join(dataDir(id), 'meta.properties')))
      .map((id) =>
        promisify(execFile)(
          'java',
          [
            '-XX:TieredStopAtLevel=1',
            '-XX:+UseSerialGC',
            ...sharedClassesOptions(classpath),
            `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
            '-cp',
            classpath,
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            configFile(id),
            ...(opts.formatArgs ?? []),
          ],
          { timeout: 60_000 },
        ),
      ),
  );

  const nodes = ids.map((id, i) => {
    let server: JavaServer | undefined;
    const node = {
      id,
      address: `127.0.0.1:${clientPorts[i]}`,
      get running() {
        return server !== undefined;
      },
      get pid() {
        return server?.pid;
      },
      async start() {
        if (server) return;
        server = await startJavaServer({
          name: `kafka node ${id}`,
          classpath,
          mainClass: 'kafka.Kafka',
          args: [configFile(id)],
          jvm: opts.jvm,
          jvmOptions: [`-Dlog4j2.configurationFile=${LOG4J_CONFIG}`],
          logFile: join(directory, `node-${id}.log`),
          ready: (line) => line.includes('Kafka Server started'),
          // A restarted node of a cluster catches up on the metadata log before it serves.
          startTimeoutMs: 90_000,
        });
        const current = server;
        void current.exited.then(() => {
          if (server === current) server = undefined;
        });
      },
      async kill() {
        const current = server;
        server = undefined;
        await current?.stop('SIGKILL');
      },
      async stop() {
        const current = server;
        server = undefined;
        await current?.stop('SIGTERM');
      },
    };
    return node;
  });

  const stopAll = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    if (ownsDirectory) await rm(directory, { recursive: true, force: true });
  };
  try {
    // A multi-node quorum elects its controller only once a majority runs: start them together.
    await Promise.all(nodes.map((node) => node.start()));
  } catch (err) {
    await stopAll();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    brokers: nodes.map((node) => node.address),
    nodes,
    directory,
    stop: () => (stopping ??= stopAll()),
  };
}

/** A Kafka `Uuid` string: 16 random bytes, base64url without padding, never starting with `-`. */
function kafkaUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
