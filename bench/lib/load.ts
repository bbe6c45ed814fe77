import { Pool } from 'undici';
import { connectHttp2, http2Request } from '@lib/testing';
import { startCpuWindow, type CpuWindow } from './process-cpu';
import { processesServing, resetPeakRssOfAll, summedPeakRss } from './process-memory';
import { loadRow, report, ReportRow } from './report';

export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** Origin of the server under load, on loopback. */
  url: string;
  connections: number;
  durationMs: number;
  /** Builds the i-th request (vary ids, names, cursors). */
  request: (i: number) => LoadRequest;
  /** Status counted as success (default: any 2xx or 3xx). */
  ok?: (status: number) => boolean;
  /**
   * `http1` (default): `connections` keep-alive HTTP/1.1 connections, one request in flight on each.
   * `h2c`: one cleartext HTTP/2 session with prior knowledge (what an SDK opens to an http:// base URL),
   * `connections` streams in flight on it.
   */
  protocol?: 'http1' | 'h2c';
}

export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Peak RSS summed over the processes registered as serving `url` (process-memory.ts), if any. */
  peakRssBytes?: number;
  /** CPU of the serving processes per request and of the watched servers (process-cpu.ts). */
  cpu: CpuWindow;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * A closed-loop load generator: `connections` workers each send one request at a time over keep-alive
 * connections for `durationMs` (bounded in time and only to the given loopback origin), recording each
 * latency. Returns throughput and latency percentiles; errors are counted, never retried.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const ok = opts.ok ?? ((s: number) => s >= 200 && s < 400);
  if (opts.protocol === 'h2c') {
    const session = await connectHttp2(opts.url);
    try {
      return await closedLoop({
        connections: opts.connections,
        durationMs: opts.durationMs,
        servedBy: opts.url,
        exchange: async (i) => ok((await http2Request(session, opts.request(i))).status),
      });
    } finally {
      session.close();
    }
  }
  const pool = new Pool(opts.url, { connections: opts.connections, pipelining: 1 });
  try {
    return await closedLoop({
      connections: opts.connections,
      durationMs: opts.durationMs,
      servedBy: opts.url,
      exchange: async (i) => {
        const req = opts.request(i);
        const res = await pool.request({
          method: req.method,
          path: req.path,
          headers: req.headers,
          body: req.body,
        });
        await res.body.dump();
        return ok(res.statusCode);
      },
    });
  } finally {
    await pool.close();
  }
}

/**
 * The loop under `runLoad`, for exchanges of several requests (e.g. a redirect followed): `connections`
 * workers each await `exchange(i)` in turn for `durationMs`; false or a throw counts as an error. When
 * `servedBy` is given, the peak RSS of the processes registered as serving it (process-memory.ts) is reset
 * before and read after.
 */
export async function closedLoop(opts: {
  connections: number;
  durationMs: number;
  servedBy?: string;
  exchange: (i: number) => Promise<boolean>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + opts.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      try {
        if (!(await opts.exchange(next++))) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - start);
    }
  };
  const serving = opts.servedBy ? processesServing(opts.servedBy) : [];
  resetPeakRssOfAll(serving);
  const cpu = startCpuWindow(serving);
  const started = performance.now();
  await Promise.all(Array.from({ length: opts.connections }, worker));
  const elapsed = performance.now() - started;
  const cpuWindow = cpu.end(latencies.length);
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    errors,
    perSecond: (latencies.length / elapsed) * 1000,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? 0,
    peakRssBytes: summedPeakRss(serving),
    cpu: cpuWindow,
  };
}

const rowNames = new WeakMap<LoadResult, string>();

/**
 * A markdown table row: name, req/s, p50, p99, errors, ratio to a baseline's req/s. Also reports the row
 * for `npm run bench` (bench/lib/report.ts; the baseline named as its own row was), so that every bench's
 * load rows reach the one table without a second call.
 */
export function tableRow(
  name: string,
  r: LoadResult,
  baseline?: LoadResult,
  extra?: Partial<ReportRow>,
): string {
  rowNames.set(r, name);
  const base = baseline && { scenario: rowNames.get(baseline) ?? 'baseline', result: baseline };
  report(loadRow(name, r, base, extra));
  const ratio = baseline ? (r.perSecond / baseline.perSecond).toFixed(2) : '1.00';
  return `| ${name} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.errors} | ${ratio} |`;
}

export const TABLE_HEADER =
  '| scenario | req/s | p50 ms | p99 ms | errors | ratio to baseline |\n|---|---|---|---|---|---|';

/** `POST /v1/objects` of the `i`-th object of a load (the create scenario of the objects and hotpath benches). */
export function createObjectRequest(i: number, headers: Record<string, string>): LoadRequest {
  return {
    method: 'POST',
    path: '/v1/objects',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `load-${i}.txt`,
      content_type: 'text',
      metadata: { run: 'bench' },
    }),
  };
}
