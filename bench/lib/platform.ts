import { prepareTemplateDatabase, startTestPlatform, TestPlatform } from '@lib/testing';
import { watchInfrastructure } from './process-cpu';

/**
 * The whole local platform for a bench or the soak (`startTestPlatform`: five apps from dist/, Apache Kafka,
 * S3Proxy, a fresh database, a Redis prefix): the Kafka and S3 JVMs with their default compilers (as servers
 * run in production, not the tests' fast-start profile), S3 reached directly (no fault proxy in between) and
 * keeping objects outside its heap (a burst of big uploads would fill it),
 * their CPU watched by every load run; apps logging at `warn`, public downloads practically unlimited (the load
 * comes from one address; BENCH_LOG_LEVEL to see more), two minutes to start (slow when other work shares the cores), and
 * BENCH_APP_NODE_OPTIONS given to the apps (e.g. the CPU profiler on a signal).
 */
export async function startBenchPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  await prepareTemplateDatabase();
  const t = await startTestPlatform({
    readyTimeoutMs: 120_000,
    kafka: { jvm: 'throughput' },
    s3: { jvm: 'throughput', faults: false, objectsOutsideHeap: true },
    env: {
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      DOWNLOAD_RATE_LIMIT: '10000000',
      ...(process.env.BENCH_APP_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS }
        : {}),
      ...env,
    },
  });
  watchInfrastructure(
    'kafka',
    t.kafka.nodes.flatMap((node) => (node.pid === undefined ? [] : [node.pid])),
  );
  watchInfrastructure('s3', [t.s3.pid]);
  return t;
}
