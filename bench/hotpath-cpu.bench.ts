/**
 * CPU cost per request of each app on the request hot paths, with the whole platform running locally as
 * in the e2e suites. Run: `npm run build && npm run bench:hotpath`.
 *
 * Throughput on a shared 2-core machine swings with whatever else runs; the CPU time each app process
 * spends per request (utime + stime from /proc/<pid>/stat over the measured run, divided by the requests
 * answered) hardly does, so a change to one app shows in its own column. Scenarios (64 connections, 2 s
 * warm-up, then BENCH_DURATION_MS, default 10 s): a bare Node 302 server (same-run baseline),
 * `GET /v1/objects/{id}/download`, `POST /v1/objects`, `GET /v1/objects?limit=100&include_total_count=false` (a page of 100 of 10,000),
 * `POST /api/private/storage/upload` (org storage, 1 KB multipart, a new file each),
 * `GET /api/v1/objects/download?stream=true&objectKey=` (1 KB through the gateway, of 100 uploaded files),
 * `GET /api/v1/objects/download?objectKey=` (302 to a presigned GET).
 * `BENCH_ONLY=download-url,create,list,upload,stream,redirect` picks scenarios.
 *
 * Profiles: with `BENCH_APP_NODE_OPTIONS="--require ./bench/lib/cpu-profile-on-signal.js"` and
 * `BENCH_PROFILE=<scenario>`, the five apps get SIGUSR2 around that scenario's measured
 * run and write `.local/profiles/<app>-<pid>.cpuprofile` (profiling inflates the CPU figures of that run).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_NAMES, AppName, REPO_ROOT, TestPlatform } from '@lib/testing';
import { Client } from 'pg';
import { runBenchMain, sectionWanted } from './lib/bench-main';
import { startBenchPlatform } from './lib/platform';
import { startBaselineServer } from './lib/baseline-server';
import { createObjectRequest, LoadRequest, LoadResult, runLoad } from './lib/load';
import { cpuMsOf } from './lib/process-cpu';
import { MULTIPART_CONTENT_TYPE, multipartFile } from './lib/multipart';
import { seedReadOnlyObjects } from './lib/seed-objects';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONNECTIONS = 64;
const IDLE_MS = 5_000;
const ONE_KB = 'x'.repeat(1024);

/** The pid of each app process this benchmark started (found by its entry point's path). */
function appPids(): Record<AppName, number> {
  const pids: Partial<Record<AppName, number>> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    for (const app of APP_NAMES) {
      if (cmdline.includes(join(REPO_ROOT, 'dist', 'apps', app, 'src', 'main.js')))
        pids[app] = Number(entry);
    }
  }
  for (const app of APP_NAMES) if (!pids[app]) throw new Error(`no process found for ${app}`);
  return pids as Record<AppName, number>;
}

/** CPU seconds (user + system) a process has used so far. */
const cpuSeconds = (pid: number) => (cpuMsOf(pid) ?? 0) / 1000;

/** The processes whose CPU is measured: the five apps, the Kafka broker, S3Proxy, and this bench's own process. */
const MEASURED = [...APP_NAMES, 'kafka', 's3', 'bench'] as const;
type Measured = (typeof MEASURED)[number];
type Pids = Record<Measured, number>;

function measuredPids(t: TestPlatform): Pids {
  const kafka = t.kafka.nodes[0].pid;
  if (kafka === undefined) throw new Error('the Kafka broker is not running');
  return { ...appPids(), kafka, s3: t.s3.pid, bench: process.pid };
}

/** CPU each process burns per second with no requests (pollers, consumers, relays): subtracted below. */
async function idleCpuPerSecond(pids: Pids): Promise<number[]> {
  const before = MEASURED.map((a) => cpuSeconds(pids[a]));
  await new Promise((r) => setTimeout(r, IDLE_MS));
  return MEASURED.map((a, i) => (cpuSeconds(pids[a]) - before[i]) / (IDLE_MS / 1000));
}

interface Result {
  name: string;
  load: LoadResult;
  /** CPU µs per answered request, per process. */
  cpuUs: Record<Measured, number>;
}

async function measure(
  name: string,
  url: string,
  request: (i: number) => LoadRequest,
  ok: (status: number) => boolean,
  pids: Pids,
  idle: number[],
): Promise<Result> {
  process.stderr.write(`measuring ${name}\n`);
  await runLoad({ url, connections: CONNECTIONS, durationMs: 2_000, request });
  const profile = process.env.BENCH_PROFILE === name;
  if (profile) for (const app of APP_NAMES) process.kill(pids[app], 'SIGUSR2');
  const start = performance.now();
  const before = MEASURED.map((a) => cpuSeconds(pids[a]));
  const load = await runLoad({
    url,
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
    request,
    ok,
  });
  const after = MEASURED.map((a) => cpuSeconds(pids[a]));
  const seconds = (performance.now() - start) / 1000;
  if (profile) for (const app of APP_NAMES) process.kill(pids[app], 'SIGUSR2');
  const cpuUs = Object.fromEntries(
    MEASURED.map((a, i) => [
      a,
      ((after[i] - before[i] - idle[i] * seconds) * 1e6) / Math.max(1, load.requests),
    ]),
  ) as Record<Measured, number>;
  return { name, load, cpuUs };
}

async function main(): Promise<void> {
  const t = await startBenchPlatform();
  const results: Result[] = [];
  let idleCpu: number[] = [];
  const bare = await startBaselineServer({
    status: 302,
    headers: { location: 'http://127.0.0.1:9000/platform/org/objects/x?X-Amz-Signature=0' },
  });
  try {
    const pids = measuredPids(t);
    const idle = await idleCpuPerSecond(pids);
    idleCpu = idle;
    const org = await t.createOrg();
    const headers = { authorization: `Bearer ${org.apiKey}` };
    const is = (status: number) => (s: number) => s === status;
    const db = new Client({ connectionString: t.db.url });
    await db.connect();
    const listOrg = await t.createOrg();
    const objects = await seedReadOnlyObjects(db, org, 1_000);
    await seedReadOnlyObjects(db, listOrg, 10_000).finally(() => db.end());
    const ids = objects.map((o) => o.id);
    const keys = objects.map((o) => o.key);
    results.push(
      await measure(
        'bare-302',
        bare.url,
        () => ({ method: 'GET', path: '/' }),
        is(302),
        pids,
        idle,
      ),
    );
    if (sectionWanted('download-url'))
      results.push(
        await measure(
          'download-url',
          t.gatewayUrl,
          (i) => ({ method: 'GET', path: `/v1/objects/${ids[i % ids.length]}/download`, headers }),
          is(200),
          pids,
          idle,
        ),
      );
    if (sectionWanted('create'))
      results.push(
        await measure(
          'create',
          t.gatewayUrl,
          (i) => createObjectRequest(i, headers),
          is(200),
          pids,
          idle,
        ),
      );
    if (sectionWanted('list'))
      results.push(
        await measure(
          'list',
          t.gatewayUrl,
          () => ({
            method: 'GET',
            path: '/v1/objects?limit=100&include_total_count=false',
            headers: { authorization: `Bearer ${listOrg.apiKey}` },
          }),
          is(200),
          pids,
          idle,
        ),
      );
    if (sectionWanted('upload')) {
      const privateKey = { 'api-key': org.orgPrivateKey, 'content-type': MULTIPART_CONTENT_TYPE };
      results.push(
        await measure(
          'upload',
          t.gatewayUrl,
          (i) => ({
            method: 'POST',
            path: '/api/private/storage/upload',
            headers: privateKey,
            body: multipartFile(`load-${i}-${Math.random()}.bin`, 'load', ONE_KB),
          }),
          is(201),
          pids,
          idle,
        ),
      );
    }
    if (sectionWanted('stream')) {
      // 100 stored 1 KB files (org storage uploads), streamed back through the gateway.
      const stored: string[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${t.gatewayUrl}/api/private/storage/upload`, {
          method: 'POST',
          headers: { 'api-key': org.orgPrivateKey, 'content-type': MULTIPART_CONTENT_TYPE },
          body: multipartFile(`stream-${i}.bin`, 'stream', ONE_KB),
        });
        stored.push(((await res.json()) as { data: { objectKey: string } }).data.objectKey);
      }
      results.push(
        await measure(
          'stream',
          t.gatewayUrl,
          (i) => ({
            method: 'GET',
            path: `/api/v1/objects/download?stream=true&objectKey=${encodeURIComponent(stored[i % stored.length])}`,
          }),
          is(200),
          pids,
          idle,
        ),
      );
    }
    if (sectionWanted('redirect'))
      results.push(
        await measure(
          'redirect',
          t.gatewayUrl,
          (i) => ({
            method: 'GET',
            path: `/api/v1/objects/download?objectKey=${encodeURIComponent(keys[i % keys.length])}`,
          }),
          is(302),
          pids,
          idle,
        ),
      );
  } finally {
    await bare.close();
    await t.stop();
  }
  const baseline = results[0].load.perSecond;
  process.stdout.write(
    `\nidle CPU ms/s: ${MEASURED.map((a, i) => `${a} ${Math.round(idleCpu[i] * 1000)}`).join(', ')}\n`,
  );
  const cols = [
    'gateway',
    'object-metadata',
    'usage-aggregator',
    'storage',
    'flow-orchestrator',
    'kafka',
    's3',
    'bench',
  ] as const;
  process.stdout.write(
    `\n${CONNECTIONS} connections, ${DURATION_MS / 1000} s per run; CPU µs per request per process (idle CPU subtracted; kafka = the broker, s3 = S3Proxy, bench = the load generator)\n\n` +
      `| scenario | req/s | p50 ms | p99 ms | errors | ratio | ${cols.join(' | ')} |\n` +
      `|---|---|---|---|---|---|${cols.map(() => '---').join('|')}|\n` +
      results
        .map(
          (r) =>
            `| ${r.name} | ${Math.round(r.load.perSecond)} | ${r.load.p50Ms.toFixed(1)} | ` +
            `${r.load.p99Ms.toFixed(1)} | ${r.load.errors} | ${(r.load.perSecond / baseline).toFixed(3)} | ` +
            cols.map((c) => Math.round(r.cpuUs[c])).join(' | ') +
            ' |',
        )
        .join('\n') +
      '\n',
  );
}

runBenchMain(main);
