/**
 * The four scenarios measured on a peer open-source storage service (Fastify, Postgres metadata, file
 * backend, no S3 latency) on this machine kind at 10 connections:
 * our goal is at least twice each. The whole platform runs locally as in the e2e suites (five apps as
 * processes, Postgres, Redis, Apache Kafka, S3Proxy) on the same machine as the load.
 * Run: `npm run build && npm run bench:reference` (`BENCH_ONLY=download-url,upload,list,public` to pick).
 *
 * - create signed download URL: `GET /v1/objects/{id}/download` over 100 objects (peer: 1,649 req/s).
 * - upload 1 KB: `POST /api/private/storage/upload`, one multipart request per new file, streamed to S3 and
 *   recorded (peer: 274 req/s).
 * - list a page of 100: `GET /v1/objects?limit=100` over BENCH_REFERENCE_OBJECTS objects (default 10,000,
 *   as the peer's figure; inserted with SQL), with `include_total_count=false` and with the default count
 *   (peer: 537 req/s).
 * - public 1 KB download: `GET /api/v1/objects/download?objectKey=…&stream=true` (bytes through the
 *   gateway) over 100 uploaded files, and the default 302 to a presigned GET followed to the local S3 as a
 *   second row (peer: 613 req/s).
 *
 * Each scenario's same-run baseline is a bare Node server (`bench/lib/baseline-server.ts`) answering the
 * route's real answer (status, headers that matter, body) at the same 10 connections. Peak RSS: the five
 * apps' VmHWM summed, reset before each measured run. Apps log at `warn`. Prints a markdown table.
 */
import { TestOrg, TestPlatform } from '@lib/testing';
import { Client } from 'pg';
import { Pool } from 'undici';
import { runBenchMain, sectionWanted } from './lib/bench-main';
import { startBaselineServer } from './lib/baseline-server';
import { closedLoop, LoadRequest, LoadResult, runLoad, TABLE_HEADER, tableRow } from './lib/load';
import { MULTIPART_CONTENT_TYPE, multipartFile } from './lib/multipart';
import { startBenchPlatform } from './lib/platform';
import { watchPlatform } from './lib/process-memory';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_REFERENCE_CONNECTIONS ?? 10);
const LIST_OBJECTS = Number(process.env.BENCH_REFERENCE_OBJECTS ?? 10_000);
const ONE_KB = 'x'.repeat(1024);

/** The peer's figures (req/s at 10 connections) and our goal, twice each. */
const PEER = { downloadUrl: 1_649, upload: 274, list: 537, publicDownload: 613 } as const;

/** A short warm-up, then the measured run; answers outside 2xx/3xx count as errors. */
async function measure(url: string, request: (i: number) => LoadRequest) {
  const first = request(0);
  process.stderr.write(`measuring ${first.method} ${first.path.slice(0, 80)}\n`);
  await runLoad({ url, connections: CONNECTIONS, durationMs: 2_000, request });
  return runLoad({ url, connections: CONNECTIONS, durationMs: DURATION_MS, request });
}

/** One real request, to give the baseline server the same answer to send. */
async function answerOf(url: string, req: LoadRequest) {
  const res = await fetch(`${url}${req.path}`, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    redirect: 'manual',
  });
  const body = await res.text();
  if (res.status >= 400) throw new Error(`${req.method} ${req.path} → ${res.status}: ${body}`);
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'location', 'etag', 'content-disposition']) {
    const value = res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: res.status, headers, body };
}

/**
 * Measures the route against a bare server answering its real answer, prints and reports both rows;
 * `reference` is the peer's figure for the route (goal: twice it).
 */
async function scenario(
  t: TestPlatform,
  name: string,
  request: (i: number) => LoadRequest,
  reference: number,
): Promise<string[]> {
  const bare = await startBaselineServer(await answerOf(t.gatewayUrl, request(-1)));
  const baselineName = 'bare Node server, same answer (baseline)';
  let baseline: LoadResult;
  try {
    baseline = await measure(bare.url, () => ({ method: 'GET', path: '/' }));
  } finally {
    await bare.close();
  }
  const route = await measure(t.gatewayUrl, request);
  return [
    tableRow(baselineName, baseline),
    tableRow(name, route, baseline, { reference, goal: 2 * reference }),
  ];
}

async function seedObjects(t: TestPlatform, org: TestOrg): Promise<void> {
  const db = new Client({ connectionString: t.db.url });
  await db.connect();
  try {
    // UUIDv7-like ids (48-bit ms, version 7, variant), one per millisecond, as the service's sort.
    const base = Date.now() - LIST_OBJECTS;
    await db.query(
      `INSERT INTO object_metadata.objects (id, org_id, org_key, name, content_type, state, object_key,
         create_time_ms, is_public, purge_pending, version, size_bytes)
       SELECT 'obj_' || lpad(to_hex($3::bigint + g), 12, '0') || '7000' || '8000' || lpad(to_hex(g), 12, '0'),
         $1, $2, 'listed-' || g || '.bin', 'binary', 'READ_ONLY', $2 || '/objects/listed-' || g,
         $3::bigint + g, false, false, 2, 1024
       FROM generate_series(1, $4::bigint) AS g`,
      [org.orgId, org.orgKey, base, LIST_OBJECTS],
    );
    await db.query('VACUUM ANALYZE object_metadata.objects');
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const t = await startBenchPlatform();
  watchPlatform(t.platform.urls);
  const pool = new Pool(t.gatewayUrl, { connections: CONNECTIONS });
  try {
    const org = await t.createOrg();
    const bearer = { authorization: `Bearer ${org.apiKey}` };
    const privateKey = { 'api-key': org.orgPrivateKey };

    // 100 objects to sign download URLs for; 100 uploaded 1 KB files to download publicly.
    const ids: string[] = [];
    const keys: string[] = [];
    for (let i = 0; i < 100; i++) {
      const created = await pool.request({
        method: 'POST',
        path: '/v1/objects',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `signed-${i}.bin`, content_type: 'binary' }),
      });
      ids.push(((await created.body.json()) as { id: string }).id);
      const uploaded = await pool.request({
        method: 'POST',
        path: '/api/private/storage/upload',
        headers: { ...privateKey, 'content-type': MULTIPART_CONTENT_TYPE },
        body: multipartFile(`public-${i}.bin`, 'public', ONE_KB),
      });
      const json = (await uploaded.body.json()) as { data: { objectKey: string } };
      if (uploaded.statusCode !== 201) throw new Error(`upload → ${uploaded.statusCode}`);
      keys.push(json.data.objectKey);
    }
    const seedStart = performance.now();
    // The list runs against an org of its own holding LIST_OBJECTS objects.
    const listOrg = await t.createOrg();
    await seedObjects(t, listOrg);
    const seedSeconds = (performance.now() - seedStart) / 1000;

    let uploads = 0; // every upload a new file (201), across warm-up and measured run
    const rows: string[] = [];
    if (sectionWanted('download-url'))
      rows.push(
        ...(await scenario(
          t,
          'create signed download URL `GET /v1/objects/{id}/download`',
          (i) => ({
            method: 'GET',
            path: `/v1/objects/${ids[Math.abs(i) % ids.length]}/download`,
            headers: bearer,
          }),
          PEER.downloadUrl,
        )),
      );
    if (sectionWanted('upload'))
      rows.push(
        ...(await scenario(
          t,
          'upload 1 KB `POST /api/private/storage/upload` (multipart, new file)',
          () => ({
            method: 'POST',
            path: '/api/private/storage/upload',
            headers: { ...privateKey, 'content-type': MULTIPART_CONTENT_TYPE },
            body: multipartFile(`load-${uploads++}.bin`, 'load', ONE_KB),
          }),
          PEER.upload,
        )),
      );
    if (sectionWanted('list'))
      for (const withCount of [false, true])
        rows.push(
          ...(await scenario(
            t,
            `list a page of 100 of ${LIST_OBJECTS.toLocaleString('en-US')}, ` +
              (withCount ? 'with `total_count` (default)' : '`include_total_count=false`'),
            () => ({
              method: 'GET',
              path: `/v1/objects?limit=100${withCount ? '' : '&include_total_count=false'}`,
              headers: { authorization: `Bearer ${listOrg.apiKey}` },
            }),
            PEER.list,
          )),
        );
    if (sectionWanted('public')) {
      rows.push(
        ...(await scenario(
          t,
          'public 1 KB download `GET /api/v1/objects/download?stream=true` (bytes)',
          (i) => ({
            method: 'GET',
            path: `/api/v1/objects/download?stream=true&objectKey=${encodeURIComponent(keys[Math.abs(i) % keys.length])}`,
          }),
          PEER.publicDownload,
        )),
      );
      rows.push(...(await redirectFollowed(t, keys)));
    }
    process.stdout.write(
      `\nreference scenarios, ${CONNECTIONS} connections, ${DURATION_MS / 1000} s per run ` +
        `(list org seeded in ${seedSeconds.toFixed(1)} s)\n\n${TABLE_HEADER}\n${rows.join('\n')}\n`,
    );
  } finally {
    await pool.close();
    await t.stop();
  }
}

/**
 * The public download as a browser does it: the gateway's 302, then the presigned GET on S3 (the bytes),
 * each closed-loop worker doing both in turn; the baseline is a bare server's 302 followed to a bare
 * server's 1 KB answer. One row per pair of requests.
 */
async function redirectFollowed(t: TestPlatform, keys: string[]): Promise<string[]> {
  const name = 'public 1 KB download, 302 followed to S3 (two requests)';
  const bareBytes = await startBaselineServer({
    status: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: ONE_KB,
  });
  const bareRedirect = await startBaselineServer({
    status: 302,
    headers: { location: `${bareBytes.url}/bytes` },
  });
  try {
    const run = async (origin: string, path: (i: number) => string) => {
      const pool = new Pool(origin, { connections: CONNECTIONS });
      const exchange = async (i: number): Promise<boolean> => {
        const res = await pool.request({ method: 'GET', path: path(i) });
        await res.body.dump();
        const location = res.headers.location;
        if (res.statusCode !== 302 || typeof location !== 'string') return false;
        const bytes = await fetch(location);
        return bytes.status === 200 && (await bytes.arrayBuffer()).byteLength === 1024;
      };
      process.stderr.write(`measuring 302 followed on ${origin}\n`);
      try {
        const loop = { connections: CONNECTIONS, servedBy: origin, exchange };
        await closedLoop({ ...loop, durationMs: 2_000 });
        return await closedLoop({ ...loop, durationMs: DURATION_MS });
      } finally {
        await pool.close();
      }
    };
    const baseline = await run(bareRedirect.url, () => '/');
    const route = await run(
      t.gatewayUrl,
      (i) => `/api/v1/objects/download?objectKey=${encodeURIComponent(keys[i % keys.length])}`,
    );
    const baselineName = 'bare Node servers, 302 then 1 KB (baseline)';
    return [
      tableRow(baselineName, baseline),
      tableRow(name, route, baseline, {
        reference: PEER.publicDownload,
        goal: 2 * PEER.publicDownload,
      }),
    ];
  } finally {
    await bareRedirect.close();
    await bareBytes.close();
  }
}

runBenchMain(main);
