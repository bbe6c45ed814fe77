/**
 * `npm run build && npm run soak`: a mixed-load soak of the whole platform, not part of CI. The platform runs
 * locally as in the e2e suites and the benches (five apps as processes, Postgres, Redis, Apache Kafka,
 * S3Proxy), on the same machine as the load.
 *
 * 1. Capacity: the mix below in a closed loop (SOAK_CONNECTIONS, default 16) for SOAK_CAPACITY_MS (default
 *    20 s) after a 5 s warm-up: exchanges per second.
 * 2. Soak: the same mix in an open loop (sent on schedule, whatever the answers) at SOAK_LOAD_FRACTION
 *    (default 0.5) of that capacity for SOAK_DURATION_MS (default 600,000: 10 minutes). At most 512
 *    exchanges in flight: one that would exceed it is not sent and counts as an error ("overload").
 * 3. Every SOAK_SAMPLE_MS (default duration / 20, between 3 and 15 s) each app's RSS (/proc) and V8 heap
 *    used (`nodejs_heap_size_used_bytes` of its `/metrics`).
 *
 * The mix, one exchange of each kind in turn: create + upload (PUT to the presigned URL on S3) + complete an
 * object; get an object; its download URL; list a page of 100 (`include_total_count=false`); org storage
 * upload 1 KB (500 names, overwritten in turn) and download; a trigger of a workflow whose one `http` step
 * calls a hook served here (every run executes to COMPLETE); storage usage; a public 1 KB download
 * (`stream=true`). Every answer outside 2xx/3xx and every network error counts, by route.
 *
 * Verdict (printed, written to .local/bench/soak.md, exit code 1 when not met): zero errors, and each app's
 * memory flat after warm-up (SOAK_WARMUP_MS, default a fifth of the duration, at most 2 minutes): the
 * least-squares trend of RSS and of heap used after warm-up predicts a growth over the rest of the run of at
 * most 10 % of the value at warm-up end or 16 MiB, whichever is larger (`bench/lib/soak-verdict.ts`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { APP_NAMES, AppName, TestOrg, TestPlatform } from '@lib/testing';
import { Pool } from 'undici';
import { runBenchMain } from './lib/bench-main';
import { closedLoop } from './lib/load';
import { startBenchPlatform } from './lib/platform';
import { MULTIPART_CONTENT_TYPE, multipartFile } from './lib/multipart';
import { pidListeningOn, rssOf } from './lib/process-memory';
import { MemorySample, memoryVerdict, SOAK_BOUND } from './lib/soak-verdict';

const DURATION_MS = Number(process.env.SOAK_DURATION_MS ?? 600_000);
const WARMUP_MS = Number(process.env.SOAK_WARMUP_MS ?? Math.min(120_000, DURATION_MS / 5));
const SAMPLE_MS = Number(
  process.env.SOAK_SAMPLE_MS ?? Math.max(3_000, Math.min(15_000, DURATION_MS / 20)),
);
const CAPACITY_MS = Number(process.env.SOAK_CAPACITY_MS ?? 20_000);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 16);
const LOAD_FRACTION = Number(process.env.SOAK_LOAD_FRACTION ?? 0.5);
const MAX_IN_FLIGHT = 512;
const ONE_KB = 'k'.repeat(1024);

const MiB = (n: number) => (n / 2 ** 20).toFixed(1);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests, errors and latencies per route (method + route template). */
class RouteStats {
  readonly routes = new Map<
    string,
    { requests: number; errors: number; statuses: Set<string>; ms: number[] }
  >();
  count(route: string, ok: boolean, status: string, ms: number): void {
    let r = this.routes.get(route);
    if (!r) this.routes.set(route, (r = { requests: 0, errors: 0, statuses: new Set(), ms: [] }));
    r.requests++;
    r.ms.push(ms);
    if (!ok) {
      r.errors++;
      r.statuses.add(status);
    }
  }

  get errors(): number {
    return [...this.routes.values()].reduce((n, r) => n + r.errors, 0);
  }
  get requests(): number {
    return [...this.routes.values()].reduce((n, r) => n + r.requests, 0);
  }
  reset(): void {
    this.routes.clear();
  }
}

interface Call {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The mix: one function per kind of exchange, each resolving to true when all its requests succeeded. */
function mix(t: TestPlatform, org: TestOrg, seeds: Seeds, stats: RouteStats) {
  const pool = new Pool(t.gatewayUrl, { connections: 64 });
  const s3 = new Pool(t.s3.settings.endpoint!, { connections: 16 });
  const bearer = { authorization: `Bearer ${org.apiKey}` };
  const privateKey = { 'api-key': org.orgPrivateKey };
  const send = async (route: string, call: Call, via = pool) => {
    const start = performance.now();
    try {
      const res = await via.request(call);
      const text = await res.body.text();
      const ok = res.statusCode >= 200 && res.statusCode < 400;
      stats.count(route, ok, String(res.statusCode), performance.now() - start);
      return ok ? text : undefined;
    } catch (err) {
      stats.count(route, false, (err as Error).name, performance.now() - start);
      return undefined;
    }
  };
  const pick = <T>(xs: T[], i: number) => xs[i % xs.length];
  const exchanges: ((i: number) => Promise<boolean>)[] = [
    async (i) => {
      const created = await send('POST /v1/objects', {
        method: 'POST',
        path: '/v1/objects',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `soak-${i}.txt`, content_type: 'text' }),
      });
      if (!created) return false;
      const { id, upload_url } = JSON.parse(created) as { id: string; upload_url: string };
      const url = new URL(upload_url);
      const put = await send(
        'PUT upload_url (S3)',
        { method: 'PUT', path: url.pathname + url.search, body: ONE_KB },
        s3,
      );
      if (put === undefined) return false;
      return (
        (await send('POST /v1/objects/{id}/complete', {
          method: 'POST',
          path: `/v1/objects/${id}/complete`,
          headers: bearer,
        })) !== undefined
      );
    },
    async (i) =>
      (await send('GET /v1/objects/{id}', {
        method: 'GET',
        path: `/v1/objects/${pick(seeds.objectIds, i)}`,
        headers: bearer,
      })) !== undefined,
    async (i) =>
      (await send('GET /v1/objects/{id}/download', {
        method: 'GET',
        path: `/v1/objects/${pick(seeds.objectIds, i)}/download`,
        headers: bearer,
      })) !== undefined,
    async () =>
      (await send('GET /v1/objects?limit=100', {
        method: 'GET',
        path: '/v1/objects?limit=100&include_total_count=false',
        headers: bearer,
      })) !== undefined,
    async (i) =>
      (await send('POST /api/private/storage/upload', {
        method: 'POST',
        path: '/api/private/storage/upload',
        headers: { ...privateKey, 'content-type': MULTIPART_CONTENT_TYPE },
        body: multipartFile(`soak-${i % 500}.bin`, 'soak', ONE_KB),
      })) !== undefined,
    async (i) =>
      (await send('GET /api/private/storage/download', {
        method: 'GET',
        path: `/api/private/storage/download?path=${encodeURIComponent(pick(seeds.filePaths, i))}`,
        headers: privateKey,
      })) !== undefined,
    async (i) =>
      (await send('POST /api/private/trigger/{id}', {
        method: 'POST',
        path: `/api/private/trigger/${seeds.workflowId}`,
        headers: { ...privateKey, 'content-type': 'application/json' },
        body: JSON.stringify({ i }),
      })) !== undefined,
    async () =>
      (await send('GET /api/v1/objects/storage-usage', {
        method: 'GET',
        path: '/api/v1/objects/storage-usage',
        headers: bearer,
      })) !== undefined,
    async (i) =>
      (await send('GET /api/v1/objects/download?stream=true', {
        method: 'GET',
        path: `/api/v1/objects/download?stream=true&objectKey=${encodeURIComponent(pick(seeds.objectKeys, i))}`,
      })) !== undefined,
  ];
  return {
    exchange: (i: number) => exchanges[i % exchanges.length](i),
    close: async () => {
      await pool.close();
      await s3.close();
    },
  };
}

interface Seeds {
  objectIds: string[];
  filePaths: string[];
  objectKeys: string[];
  workflowId: string;
}

/** 50 completed objects, 50 org files (their paths and object keys), and the triggered workflow. */
async function seed(t: TestPlatform, org: TestOrg, hook: string): Promise<Seeds> {
  const json = async (path: string, init: RequestInit) => {
    const res = await fetch(`${t.gatewayUrl}${path}`, init);
    const body = await res.text();
    if (res.status >= 300) throw new Error(`seed ${path} → ${res.status}: ${body}`);
    return JSON.parse(body) as Record<string, unknown>;
  };
  const bearer = { authorization: `Bearer ${org.apiKey}` };
  const seeds: Seeds = { objectIds: [], filePaths: [], objectKeys: [], workflowId: '' };
  for (let i = 0; i < 50; i++) {
    const created = await json('/v1/objects', {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `seed-${i}.txt`, content_type: 'text' }),
    });
    const put = await fetch(created.upload_url as string, { method: 'PUT', body: ONE_KB });
    if (put.status !== 200) throw new Error(`seed PUT → ${put.status}`);
    await json(`/v1/objects/${created.id as string}/complete`, { method: 'POST', headers: bearer });
    seeds.objectIds.push(created.id as string);
    const uploaded = await json('/api/private/storage/upload', {
      method: 'POST',
      headers: { 'api-key': org.orgPrivateKey, 'content-type': MULTIPART_CONTENT_TYPE },
      body: multipartFile(`seed-${i}.bin`, 'seed', ONE_KB),
    });
    seeds.filePaths.push(`seed/seed-${i}.bin`);
    seeds.objectKeys.push((uploaded.data as { objectKey: string }).objectKey);
  }
  const flow = await json('/api/v1/flow/soak', {
    method: 'POST',
    headers: { ...bearer, 'content-type': 'application/json' },
    body: JSON.stringify({
      Flow: { Steps: [{ ID: 'go', Type: 'http', Config: { URL: hook } }], StartingStepID: 'go' },
    }),
  });
  seeds.workflowId = flow.WorkflowID as string;
  return seeds;
}

/** The app's V8 heap used, from its Prometheus metrics; NaN when it does not answer. */
async function heapUsed(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes'));
    return Number(line?.split(' ').pop() ?? NaN);
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  let hookCalls = 0;
  const hookServer = createServer((req, res) => {
    hookCalls++;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/`;

  const t = await startBenchPlatform({ HTTP_STEP_ALLOW_PRIVATE_NETWORKS: 'true' });
  const stats = new RouteStats();
  let load: ReturnType<typeof mix> | undefined;
  try {
    const org = await t.createOrg();
    const seeds = await seed(t, org, hook);
    load = mix(t, org, seeds, stats);
    const pids = Object.fromEntries(
      APP_NAMES.map((app) => [app, pidListeningOn(Number(new URL(t.platform.urls[app]).port))]),
    ) as Record<AppName, number>;

    process.stderr.write(`capacity: the mix, closed loop, ${CONNECTIONS} connections\n`);
    const loop = { connections: CONNECTIONS, exchange: load.exchange };
    await closedLoop({ ...loop, durationMs: 5_000 });
    stats.reset();
    const capacity = await closedLoop({ ...loop, durationMs: CAPACITY_MS });
    const capacityRequests = stats.requests / (CAPACITY_MS / 1000);
    const capacityErrors = stats.errors;
    stats.reset();
    const rate = capacity.perSecond * LOAD_FRACTION;
    process.stderr.write(
      `capacity ${capacity.perSecond.toFixed(1)} exchanges/s (${capacityErrors} errors); ` +
        `soaking at ${rate.toFixed(1)}/s for ${DURATION_MS / 1000} s\n`,
    );

    // The open loop, with memory sampled alongside.
    const rss = new Map<AppName, MemorySample[]>(APP_NAMES.map((a) => [a, []]));
    const heap = new Map<AppName, MemorySample[]>(APP_NAMES.map((a) => [a, []]));
    const t0 = performance.now();
    const sample = async () => {
      const atMs = performance.now() - t0;
      for (const app of APP_NAMES) {
        rss.get(app)!.push({ atMs, bytes: rssOf(pids[app]) });
        const bytes = await heapUsed(t.platform.managementUrls[app]);
        if (!Number.isNaN(bytes)) heap.get(app)!.push({ atMs, bytes });
      }
    };
    await sample();
    const sampler = setInterval(() => void sample(), SAMPLE_MS);
    let inFlight = 0;
    let overload = 0;
    const pending = new Set<Promise<unknown>>();
    const count = Math.floor((rate * DURATION_MS) / 1000);
    for (let i = 0; i < count; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      if (inFlight >= MAX_IN_FLIGHT) {
        overload++;
        continue;
      }
      inFlight++;
      const p = load.exchange(i).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await Promise.all(pending);
    clearInterval(sampler);
    await sample();
    const elapsedS = (performance.now() - t0) / 1000;

    const verdicts = APP_NAMES.map((app) => ({
      app,
      rss: memoryVerdict(rss.get(app)!, WARMUP_MS),
      heap: memoryVerdict(heap.get(app)!, WARMUP_MS),
    }));
    const flat = verdicts.every((v) => v.rss.flat && v.heap.flat);
    const errors = stats.errors + overload;
    const pct = (ms: number[], p: number) => {
      const s = [...ms].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
    };
    const md =
      `### Soak: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n` +
      `Capacity of the mix (closed loop, ${CONNECTIONS} connections, ${CAPACITY_MS / 1000} s): ` +
      `${capacity.perSecond.toFixed(1)} exchanges/s (${fmt(capacityRequests)} requests/s, ${capacityErrors} errors). ` +
      `Soak: ${rate.toFixed(1)} exchanges/s (${LOAD_FRACTION} of it) for ${elapsedS.toFixed(0)} s, open loop; ` +
      `${fmt(stats.requests)} requests (${fmt(stats.requests / elapsedS)}/s), ${hookCalls} runs executed ` +
      `their http step; warm-up ${WARMUP_MS / 1000} s, memory sampled every ${SAMPLE_MS / 1000} s. ` +
      `Load average before ${loadBefore}, after ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}.\n\n` +
      '| route | requests | errors | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- |\n' +
      [...stats.routes]
        .map(
          ([route, r]) =>
            `| \`${route}\` | ${fmt(r.requests)} | ${r.errors}${r.errors ? ` (${[...r.statuses].join(', ')})` : ''} | ${pct(r.ms, 0.5).toFixed(1)} | ${pct(r.ms, 0.99).toFixed(1)} |`,
        )
        .join('\n') +
      (overload
        ? `\n| not sent: ${MAX_IN_FLIGHT} exchanges in flight (overload) | ${overload} | ${overload} | | |`
        : '') +
      '\n\n| app | RSS MiB at warm-up end → end | RSS trend MiB/min | heap MiB at warm-up end → end | heap trend MiB/min | flat |\n' +
      '| --- | --- | --- | --- | --- | --- |\n' +
      verdicts
        .map(
          ({ app, rss: r, heap: h }) =>
            `| ${app} | ${MiB(r.atWarmupEnd)} → ${MiB(r.atEnd)} | ${MiB(r.slopePerMinute)} | ` +
            `${MiB(h.atWarmupEnd)} → ${MiB(h.atEnd)} | ${MiB(h.slopePerMinute)} | ${r.flat && h.flat ? 'yes' : `NO (trend growth RSS ${MiB(r.trendGrowth)}, heap ${MiB(h.trendGrowth)} MiB; bound ${MiB(r.bound)} / ${MiB(h.bound)})`} |`,
        )
        .join('\n') +
      `\n\nVerdict: ${errors === 0 ? 'zero errors' : `${errors} ERRORS`}; memory ${flat ? 'flat' : 'NOT flat'} ` +
      `after warm-up (trend growth within ${SOAK_BOUND.maxGrowthFraction * 100} % or ${MiB(SOAK_BOUND.minBoundBytes)} MiB per app). ` +
      `${errors === 0 && flat ? 'PASS' : 'FAIL'}.\n`;
    const dir = join(__dirname, '..', '.local', 'bench');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'soak.md'), md);
    writeFileSync(
      join(dir, 'soak-samples.json'),
      JSON.stringify({ rss: [...rss], heap: [...heap] }),
    );
    process.stdout.write(`\n${md}\n(written to .local/bench/soak.md)\n`);
    process.exitCode = errors === 0 && flat ? 0 : 1;
  } finally {
    await load?.close();
    await t.stop();
    hookServer.close();
  }
}

runBenchMain(main);
