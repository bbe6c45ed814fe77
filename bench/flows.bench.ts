/**
 * The org trigger (`POST /api/private/trigger/{workflow_id}`) through the run queue, with the whole platform running locally as in the e2e suites
 * (five apps as processes, Postgres, Redis, Apache Kafka, S3Proxy) on the same machine as
 * the load generator. Run: `npm run build && npm run bench:flows`.
 *
 * - latency: BENCH_TRIGGER_RATE triggers/s (default 500) for BENCH_DURATION_MS (default 10 s), open loop
 *   (sent on schedule, whatever the answers); a run has started when a worker moved it QUEUED → RUNNING:
 *   that `run.updated` event's `occurredAt` (stamped by Postgres in the worker's transaction) minus the
 *   moment the trigger was sent. Baseline, same run: a bare BullMQ queue and worker in this process at the
 *   same rate (add → the worker's `process` starts), i.e. the queue's own floor. Also printed: each
 *   process's CPU time (user + system, from /proc: the apps, Postgres, Redis, Kafka, this bench) from the
 *   first trigger until every run started, per started run: what a run costs, a figure that other work on
 *   the machine disturbs less than latencies.
 * - warm-up, before both: BENCH_WARMUP_MS (3 s) of bare adds and of triggers at the rate, not reported.
 * - throughput: closed loop, 64 connections, triggers answered 200 (queued) per second; baseline: a bare
 *   Node server answering the same JSON (`bench/lib/baseline-server.ts`).
 *
 * - upload watch: the `upload-watch` queue resumes over the runs left waiting; after 5 s, checks per second
 *   (the flow-orchestrator's `upload_watch_checks_total`) and its CPU per check over BENCH_WATCH_MS (15 s).
 *
 * The workflow awaits one upload before its `checksum` step (the flows API's usual shape): a triggered run goes QUEUED →
 * RUNNING → WAITING (its edge, PutURL and watch job created) and stays there; the `upload-watch` queue is
 * paused during the trigger measurements, so thousands of watchers do not poll S3 meanwhile. BENCH_EXECUTE=1 uses a
 * workflow with one `http` step instead, so every run also executes to COMPLETE while the load runs (the
 * figure is then bounded by run execution throughput). Apps log at `warn`. Prints markdown tables. The
 * machine is shared with other work: figures are noisy.
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { QueueName, Topic } from '@lib/contracts';
import { queueConnection } from '@lib/queue';
import { readTopics, TEST_REDIS_URL, TestOrg, type TopicReader } from '@lib/testing';
import { Pool } from 'undici';
import { runBenchMain } from './lib/bench-main';
import { startBenchPlatform } from './lib/platform';
import { startBaselineServer } from './lib/baseline-server';
import { runLoad, TABLE_HEADER, tableRow } from './lib/load';
import { cpuMsOf, pidsNamed, startGroupCpu } from './lib/process-cpu';
import { watchPlatform } from './lib/process-memory';
import { report } from './lib/report';

const RATE = Number(process.env.BENCH_TRIGGER_RATE ?? 500);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const EXECUTE = process.env.BENCH_EXECUTE === '1';
const WATCH_WARMUP_MS = 5_000;
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 3_000);
const WATCH_MS = Number(process.env.BENCH_WATCH_MS ?? 15_000);

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The flow-orchestrator's `upload_watch_checks_total`, all outcomes. */
async function watchChecks(orchestratorUrl: string): Promise<number> {
  const text = await (await fetch(`${orchestratorUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('upload_watch_checks_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/**
 * The upload watcher's steady load: the watch queue (paused while triggers were measured) resumes over the
 * thousands of runs left waiting; after WATCH_WARMUP_MS, checks per second and the flow-orchestrator's CPU
 * per check over WATCH_MS.
 */
async function measureWatchers(
  orchestratorUrl: string,
  pid: number,
  watch: Queue,
): Promise<string> {
  const waiting = await watch.getJobCountByTypes('delayed', 'paused', 'wait');
  await watch.resume();
  await sleep(WATCH_WARMUP_MS);
  process.stderr.write(`measuring upload watch checks\n`);
  const checksBefore = await watchChecks(orchestratorUrl);
  const cpuBefore = cpuMsOf(pid) ?? 0;
  const t0 = performance.now();
  await sleep(WATCH_MS);
  const cpu = (cpuMsOf(pid) ?? 0) - cpuBefore;
  const seconds = (performance.now() - t0) / 1000;
  const checks = (await watchChecks(orchestratorUrl)) - checksBefore;
  const cpuPerCheck = (cpu * 1000) / checks;
  report({
    scenario: `upload watch checks, ${waiting} runs waiting (${cpuPerCheck.toFixed(0)} µs flow-orchestrator CPU per check)`,
    unit: 'checks/s',
    rate: checks / seconds,
    errors: 0,
  });
  return (
    `\nUpload watch: ${waiting} runs waiting (watch jobs when the queue resumed), measured ` +
    `${seconds.toFixed(0)} s after ${WATCH_WARMUP_MS / 1000} s: ${(checks / seconds).toFixed(0)} checks/s, ` +
    `flow-orchestrator CPU ${(cpu / 10 / seconds).toFixed(0)} % of a core, ` +
    `${cpuPerCheck.toFixed(0)} µs per check\n`
  );
}

/** Calls `fire(i)` at RATE per second for `durationMs`, on schedule (open loop). */
async function openLoop(fire: (i: number) => void, durationMs = DURATION_MS): Promise<number> {
  const count = Math.round((RATE * durationMs) / 1000);
  const interval = 1000 / RATE;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    fire(i);
  }
  return count;
}

function row(name: string, latencies: number[], sent: number, baseline?: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = percentile(sorted, 0.99);
  const ratio = baseline
    ? (
        p99 /
        percentile(
          [...baseline].sort((a, b) => a - b),
          0.99,
        )
      ).toFixed(1)
    : '1.0';
  report({
    scenario: `${name}, ${RATE}/s open loop`,
    unit: 'triggers/s offered',
    rate: RATE,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: p99,
    baseline: baseline && 'bare BullMQ p99',
    ratio: baseline && Number(ratio),
  });
  return `| ${name} | ${sent} | ${latencies.length} | ${percentile(sorted, 0.5).toFixed(1)} | ${p99.toFixed(1)} | ${sorted[sorted.length - 1].toFixed(1)} | ${ratio} |`;
}

/** The run a `run.updated` message moved QUEUED → RUNNING, and when (its `occurredAt`); else undefined. */
function runStarted(message: { value: string }): { runId: string; at: number } | undefined {
  const { data } = JSON.parse(message.value) as {
    data: { runId: string; status: string; previousStatus: string; occurredAt: string };
  };
  return data.previousStatus === 'QUEUED' && data.status === 'RUNNING'
    ? { runId: data.runId, at: Date.parse(data.occurredAt) }
    : undefined;
}

/** Waits until `count` runs went QUEUED → RUNNING (the warm-up's, the first the reader sees). */
async function waitForRunsStarted(reader: TopicReader, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  let started = 0;
  for (let scanned = 0; started < count && Date.now() < deadline; await sleep(200)) {
    for (; scanned < reader.messages.length; scanned++)
      if (runStarted(reader.messages[scanned])) started++;
  }
}

async function bareQueueLatencies(
  prefix: string,
  durationMs = DURATION_MS,
): Promise<{ latencies: number[]; sent: number }> {
  const connection = queueConnection(TEST_REDIS_URL);
  const queue = new Queue('bench-baseline', { connection, prefix });
  const latencies: number[] = [];
  const worker = new Worker(
    'bench-baseline',
    async (job) => {
      latencies.push(Date.now() - (job.data as { sentAt: number }).sentAt);
      return Promise.resolve();
    },
    { connection, prefix, concurrency: 16 },
  );
  const sent = await openLoop((i) => {
    void queue.add('x', { sentAt: Date.now() }, { jobId: `b.${i}`, removeOnComplete: true });
  }, durationMs);
  const deadline = Date.now() + 60_000;
  while (latencies.length < sent && Date.now() < deadline) await sleep(100);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { latencies, sent };
}

async function main(): Promise<void> {
  const received = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => received.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(received.address() as AddressInfo).port}/`;
  const t = await startBenchPlatform({
    RUN_CONCURRENCY: '64',
    HTTP_STEP_ALLOW_PRIVATE_NETWORKS: 'true',
  });
  watchPlatform(t.platform.urls);
  const reader = await readTopics(t.kafka.brokers, [Topic.RunUpdated]);
  try {
    const org: TestOrg = await t.createOrg();
    const pool = new Pool(t.gatewayUrl, { connections: CONNECTIONS });
    const defined = await pool.request({
      method: 'POST',
      path: '/api/v1/flow/bench',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        EXECUTE
          ? {
              Flow: {
                Steps: [{ ID: 'go', Type: 'http', Config: { URL: hook } }],
                StartingStepID: 'go',
              },
            }
          : {
              Flow: {
                DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'in.bin' }],
                Steps: [{ ID: 'sum', Type: 'checksum', Inputs: ['in'] }],
                StartingStepID: 'sum',
              },
            },
      ),
    });
    const { WorkflowID } = (await defined.body.json()) as { WorkflowID: string };
    const trigger = {
      method: 'POST' as const,
      path: `/api/private/trigger/${WorkflowID}`,
      headers: { 'api-key': org.orgPrivateKey, 'content-type': 'application/json' },
    };

    const watch = new Queue(QueueName.UploadWatch, {
      connection: queueConnection(TEST_REDIS_URL),
      prefix: t.redisPrefix,
    });
    await watch.pause();

    // Warm-up, not reported: both paths at the rate for WARMUP_MS, so that what follows measures warm
    // code (V8 optimizes the apps' and this process's hot paths, the Kafka JVM compiles its own, within
    // seconds: a cold first round measured the start-up, not the queue).
    process.stderr.write(`warming up for ${WARMUP_MS / 1000} s\n`);
    await bareQueueLatencies(`${t.redisPrefix}-warmup`, WARMUP_MS);
    const warmups: Promise<boolean>[] = [];
    await openLoop((i) => {
      warmups.push(
        pool
          .request({ ...trigger, body: JSON.stringify({ warmup: i }) })
          .then(async (res) => {
            await res.body.dump();
            return res.statusCode === 200;
          })
          .catch(() => false),
      );
    }, WARMUP_MS);
    const warmed = (await Promise.all(warmups)).filter(Boolean).length;
    await waitForRunsStarted(reader, warmed);

    // Baseline first: the queue's own floor at the same rate.
    const bare = await bareQueueLatencies(`${t.redisPrefix}-bench`);

    process.stderr.write(`measuring trigger → run started at ${RATE} triggers/s\n`);
    const orchestrator = t.platform.pid('flow-orchestrator')!;
    const apps = ['gateway', 'flow-orchestrator', 'object-metadata', 'usage-aggregator'] as const;
    const groupCpu = startGroupCpu({
      ...Object.fromEntries(apps.map((app) => [app, () => [t.platform.pid(app)!]])),
      Postgres: () => pidsNamed('postgres'),
      Redis: () => pidsNamed('redis-server'),
      Kafka: () => t.kafka.nodes.flatMap((node) => (node.pid === undefined ? [] : [node.pid])),
      'this bench (load, Kafka reader)': () => [process.pid],
    });
    const sentAt = new Map<string, number>();
    const answered: number[] = []; // trigger sent → its 200 answer (the run queued)
    let failed = 0;
    const scannedBefore = reader.messages.length;
    const sent = await openLoop((i) => {
      const at = Date.now();
      void pool
        .request({ ...trigger, body: JSON.stringify({ i }) })
        .then(async (res) => {
          const json = (await res.body.json()) as { data?: { runId: string } };
          if (res.statusCode === 200 && json.data) {
            sentAt.set(json.data.runId, at);
            answered.push(Date.now() - at);
          } else failed++;
        })
        .catch(() => failed++);
    });
    const started = new Map<string, number>();
    const deadline = Date.now() + 120_000;
    let scanned = scannedBefore;
    while (started.size < sent - failed && Date.now() < deadline) {
      for (; scanned < reader.messages.length; scanned++) {
        const run = runStarted(reader.messages[scanned]);
        if (run) started.set(run.runId, run.at);
      }
      await sleep(200);
    }
    const usPerRun = Object.entries(groupCpu.end()).map(
      ([name, ms]) => [name, (ms * 1000) / started.size] as const,
    );
    const cpuPerRun = Object.fromEntries(usPerRun)['flow-orchestrator'];
    const perProcess = usPerRun.map(([name, us]) => `| ${name} | ${us.toFixed(0)} |`).join('\n');
    const latencies = [...started].flatMap(([runId, at]) =>
      sentAt.has(runId) ? [at - sentAt.get(runId)!] : [],
    );

    const baselineServer = await startBaselineServer({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        success: true,
        data: { runId: 'x', result: { jobId: 'run.execute.x', queue: 'runs', state: 'waiting' } },
      }),
    });
    let baselineLoad;
    let triggerLoad;
    try {
      await runLoad({
        url: baselineServer.url,
        connections: CONNECTIONS,
        durationMs: 2_000,
        request: () => ({ method: 'POST', path: '/' }),
      });
      baselineLoad = await runLoad({
        url: baselineServer.url,
        connections: CONNECTIONS,
        durationMs: DURATION_MS,
        request: () => ({ method: 'POST', path: '/' }),
      });
      process.stderr.write(`measuring sustained trigger rate (closed loop)\n`);
      triggerLoad = await runLoad({
        url: t.gatewayUrl,
        connections: CONNECTIONS,
        durationMs: DURATION_MS,
        request: (i) => ({ ...trigger, body: JSON.stringify({ i }) }),
        ok: (s) => s === 200,
      });
    } finally {
      await baselineServer.close();
    }
    await pool.close();
    const watchLine = EXECUTE
      ? ''
      : await measureWatchers(t.platform.managementUrls['flow-orchestrator'], orchestrator, watch);
    await watch.close();

    process.stdout.write(
      `\nTrigger → run started (QUEUED → RUNNING), ${RATE} triggers/s open loop for ${DURATION_MS / 1000} s` +
        `${EXECUTE ? ', runs executing an http step' : ', runs awaiting an upload'}; ` +
        `${failed} trigger(s) failed; flow-orchestrator CPU (user + system) per started run: ` +
        `${cpuPerRun.toFixed(0)} µs\n\n` +
        '| scenario | sent | started | p50 ms | p99 ms | max ms | p99 ratio to baseline |\n|---|---|---|---|---|---|---|\n' +
        [
          row('bare BullMQ add → worker (baseline)', bare.latencies, bare.sent),
          row(
            '`POST /api/private/trigger/{id}` → answered (run queued)',
            answered,
            sent,
            bare.latencies,
          ),
          row('`POST /api/private/trigger/{id}` → run RUNNING', latencies, sent, bare.latencies),
        ].join('\n') +
        `\n\nCPU (user + system) per started run, µs, from the first trigger until every run started:\n\n` +
        `| process | µs per run |\n|---|---|\n${perProcess}` +
        `\n\nSustained trigger rate, closed loop, ${CONNECTIONS} connections, ${DURATION_MS / 1000} s\n\n${TABLE_HEADER}\n` +
        [
          tableRow('bare Node server (baseline)', baselineLoad),
          tableRow('trigger `POST /api/private/trigger/{id}` (queued)', triggerLoad, baselineLoad),
        ].join('\n') +
        '\n' +
        watchLine,
    );
  } finally {
    await reader.stop();
    await t.stop();
    received.close();
  }
}

runBenchMain(main);
