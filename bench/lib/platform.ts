import { prepareTemplateDatabase, startTestPlatform, TestPlatform } from '@lib/testing';

/**
 * The whole local platform for a bench or the soak (`startTestPlatform`: five apps from dist/, Kafka mock,
 * verifying S3, a fresh database, a Redis prefix): apps logging at `warn`, public downloads practically
 * unlimited (the load comes from one address), two minutes to start (slow when other work shares the
 * cores), and BENCH_APP_NODE_OPTIONS given to the apps (e.g. the CPU profiler on a signal).
 */
export async function startBenchPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  await prepareTemplateDatabase();
  return startTestPlatform({
    readyTimeoutMs: 120_000,
    env: {
      LOG_LEVEL: 'warn',
      DOWNLOAD_RATE_LIMIT: '10000000',
      ...(process.env.BENCH_APP_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS }
        : {}),
      ...env,
    },
  });
}
