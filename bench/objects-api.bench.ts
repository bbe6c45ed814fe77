/**
 * Objects API throughput and latency through the gateway, with the whole platform running locally as in
 * the e2e suites (five apps as processes, Postgres, Redis, Apache Kafka, S3Proxy), on
 * the same machine as the load generator. Run: `npm run build && npm run bench:objects`.
 *
 * - create: `POST /v1/objects` (row + outbox event in one transaction, presigned upload URL).
 * - download URL: `GET /v1/objects/{id}/download`, against the same-run baselines of a bare Node server
 *   answering the same JSON (`bench/lib/baseline-server.ts`) and `GET /v1/objects/{id}` (the same auth,
 *   hop and primary-key read, without the presign).
 * - list: the first page against a deep page reached by cursor, over BENCH_LIST_OBJECTS objects of one org
 *   (default 1,000,000, inserted with SQL), `include_total_count=false`; then the first page with the count.
 * - TTL: BENCH_TTL_OBJECTS objects (default 100,000) whose deadlines are spread over one minute, seeded as
 *   create leaves them (rows with SQL; the TTL sweeper reads deadlines from Postgres); lateness = the expiry's
 *   `occurredAt` (the row turned DELETED) and the event's arrival at a Kafka consumer, minus the
 *   deadline. An object not expired 60 s after its deadline counts as missed.
 *
 * Apps log at `warn` (per-request logs off). Prints markdown tables.
 */
import { randomUUID } from 'node:crypto';
import { Topic } from '@lib/contracts';
import { readTopics, TestOrg, TestPlatform } from '@lib/testing';
import { Client } from 'pg';
import { Pool } from 'undici';
import { runBenchMain, sectionWanted } from './lib/bench-main';
import { startBenchPlatform } from './lib/platform';
import { startBaselineServer } from './lib/baseline-server';
import { createObjectRequest, LoadRequest, runLoad, TABLE_HEADER, tableRow } from './lib/load';
import { watchPlatform } from './lib/process-memory';
import { report } from './lib/report';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const LIST_OBJECTS = Number(process.env.BENCH_LIST_OBJECTS ?? 1_000_000);
const TTL_OBJECTS = Number(process.env.BENCH_TTL_OBJECTS ?? 100_000);
const TTL_WINDOW_MS = 60_000;

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A short warm-up, then the measured run (`bench/lib/load.ts`). */
async function measure(
  url: string,
  request: (i: number) => LoadRequest,
  durationMs = DURATION_MS,
  protocol: 'http1' | 'h2c' = 'http1',
) {
  const first = request(0);
  process.stderr.write(`measuring ${first.method} ${first.path} (${protocol})\n`);
  const load = { url, connections: CONNECTIONS, request, protocol };
  await runLoad({ ...load, durationMs: 2_000 });
  return runLoad({ ...load, durationMs, ok: (s) => s === 200 });
}

async function createObject(
  pool: Pool,
  org: TestOrg,
  body: Record<string, unknown>,
): Promise<{ id: string }> {
  const res = await pool.request({
    method: 'POST',
    path: '/v1/objects',
    headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.body.json()) as { id: string };
  if (res.statusCode !== 200)
    throw new Error(`create → ${res.statusCode}: ${JSON.stringify(json)}`);
  return json;
}

async function benchRequests(t: TestPlatform, pool: Pool, org: TestOrg): Promise<void> {
  const headers = { authorization: `Bearer ${org.apiKey}` };
  const ids = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      createObject(pool, org, { name: `bench-${i}.bin`, content_type: 'binary' }).then((o) => o.id),
    ),
  );
  // The same-run baseline: a bare Node server answering a download URL's JSON, in its own process.
  const bare = await startBaselineServer({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ download_url: 'http://127.0.0.1:9000/platform/org/objects/x?X-Amz-…' }),
  });
  try {
    const baseline = await measure(bare.url, () => ({ method: 'GET', path: '/' }));
    const getRequest = (i: number): LoadRequest => ({
      method: 'GET',
      path: `/v1/objects/${ids[i % ids.length]}`,
      headers,
    });
    const downloadRequest = (i: number): LoadRequest => ({
      method: 'GET',
      path: `/v1/objects/${ids[i % ids.length]}/download`,
      headers,
    });
    const createRequest = (i: number) => createObjectRequest(i, headers);
    const get = await measure(t.gatewayUrl, getRequest);
    const download = await measure(t.gatewayUrl, downloadRequest);
    const create = await measure(t.gatewayUrl, createRequest);
    // The same over one HTTP/2 session, as an SDK speaking HTTP/2 sends them.
    const h2 = (request: (i: number) => LoadRequest) =>
      measure(t.gatewayUrl, request, DURATION_MS, 'h2c');
    const getH2 = await h2(getRequest);
    const downloadH2 = await h2(downloadRequest);
    const createH2 = await h2(createRequest);
    process.stdout.write(
      `\n${CONNECTIONS} connections, ${DURATION_MS / 1000} s per run\n\n${TABLE_HEADER}\n` +
        [
          tableRow('bare Node server (baseline)', baseline),
          tableRow('get `GET /v1/objects/{id}`', get, baseline),
          tableRow('download URL `GET /v1/objects/{id}/download`', download, baseline),
          tableRow('create `POST /v1/objects`', create, baseline),
          tableRow('get, HTTP/2 (one session)', getH2, get),
          tableRow('download URL, HTTP/2 (one session)', downloadH2, download),
          tableRow('create, HTTP/2 (one session)', createH2, create),
        ].join('\n') +
        '\n',
    );
  } finally {
    await bare.close();
  }
}

async function benchList(t: TestPlatform, org: TestOrg): Promise<void> {
  const db = new Client({ connectionString: t.db.url });
  await db.connect();
  const seedStart = performance.now();
  // Time-ordered ids like the service's (48-bit ms, version 7, variant), one per millisecond.
  const base = Date.now() - LIST_OBJECTS;
  for (let from = 0; from < LIST_OBJECTS; from += 250_000) {
    await db.query(
      `INSERT INTO object_metadata.objects (id, org_id, org_key, name, content_type, state, object_key,
         create_time_ms, is_public, purge_pending, version)
       SELECT 'obj_' || lpad(to_hex($3::bigint + g), 12, '0') || '7000' || '8000' || lpad(to_hex(g), 12, '0'),
         $1, $2, 'file-' || g || '.bin', 'binary', 'READ_ONLY', $2 || '/objects/' || g, $3::bigint + g,
         false, false, 1
       FROM generate_series($4::bigint, $5::bigint) AS g`,
      [org.orgId, org.orgKey, base, from, Math.min(LIST_OBJECTS, from + 250_000) - 1],
    );
  }
  await db.query('VACUUM ANALYZE object_metadata.objects');
  const seedSeconds = (performance.now() - seedStart) / 1000;
  // The id 90% of the way down the newest-first order.
  const deep = LIST_OBJECTS - Math.floor(LIST_OBJECTS * 0.9);
  const cursor = `obj_${(base + deep).toString(16).padStart(12, '0')}70008000${deep.toString(16).padStart(12, '0')}`;
  await db.end();

  const headers = { authorization: `Bearer ${org.apiKey}` };
  const page = (query: string) => () => ({
    method: 'GET' as const,
    path: `/v1/objects?limit=20${query}`,
    headers,
  });
  const first = await measure(t.gatewayUrl, page('&include_total_count=false'));
  const deepPage = await measure(
    t.gatewayUrl,
    page(`&include_total_count=false&starting_after=${cursor}`),
  );
  const counted = await measure(t.gatewayUrl, page(''), 5_000);
  // Filtered pages with and without the count: state and content type are counted from the per-org
  // counters; name and search count the matching rows (every seeded object matches state and type).
  const filters: [string, string][] = [
    ['`state=READ_ONLY`', '&state=READ_ONLY'],
    ['`content_type=binary`', '&content_type=binary'],
    ['`name=file-12345`', '&name=file-12345'],
    ['`search=file-12345`', '&search=file-12345'],
  ];
  const filtered: string[] = [];
  for (const [label, query] of filters) {
    const without = await measure(t.gatewayUrl, page(`${query}&include_total_count=false`), 5_000);
    const withCount = await measure(t.gatewayUrl, page(query), 5_000);
    filtered.push(
      tableRow(`first page, ${label}`, without, first),
      tableRow(`first page, ${label}, with \`total_count\``, withCount, without),
    );
  }
  process.stdout.write(
    `\n${fmt(LIST_OBJECTS)} objects in one org (seeded in ${seedSeconds.toFixed(0)} s), limit 20; ` +
      `ratios to the first page, or to the same page without the count\n\n${TABLE_HEADER}\n` +
      [
        tableRow('first page', first),
        tableRow('page at 90% (`starting_after` cursor)', deepPage, first),
        tableRow('first page with `total_count` (default)', counted, first),
        ...filtered,
      ].join('\n') +
      '\n',
  );
}

async function benchTtl(t: TestPlatform, org: TestOrg): Promise<void> {
  const reader = await readTopics(t.kafka.brokers, [Topic.StorageFileUpdated]);
  const arrivals = new Map<string, { occurredAt: number; receivedAt: number }>();
  const seen = reader.messages;
  let scanned = 0;
  const collect = () => {
    for (; scanned < seen.length; scanned++) {
      const { data } = JSON.parse(seen[scanned].value) as {
        data: { objectId: string; change: string; occurredAt: string };
      };
      if (data.change === 'expired') {
        arrivals.set(data.objectId, {
          occurredAt: Date.parse(data.occurredAt),
          receivedAt: Date.now(), // when this process saw it (scanned every 50 ms)
        });
      }
    }
  };
  const scanner = setInterval(collect, 50);

  // The rows as create would leave them (the create path is measured above; a deadline is a column, no
  // job): inserted with SQL, deadlines spread evenly over one minute.
  const seedStart = Date.now();
  const windowStart = seedStart + 30_000;
  const deadlines = new Map<string, number>();
  for (let i = 0; i < TTL_OBJECTS; i++) {
    const id = `obj_${randomUUID().replaceAll('-', '')}`;
    deadlines.set(id, windowStart + Math.floor((i / TTL_OBJECTS) * TTL_WINDOW_MS));
  }
  const db = new Client({ connectionString: t.db.url });
  await db.connect();
  const entries = [...deadlines];
  for (let from = 0; from < entries.length; from += 20_000) {
    await db.query(
      `INSERT INTO object_metadata.objects (id, org_id, org_key, name, content_type, state, object_key,
         create_time_ms, delete_after_time_ms, is_public, purge_pending, version)
       SELECT r.id, $1, $2, 'ttl-' || r.id, 'text', 'UPLOADING', $2 || '/objects/' || r.id, $3, r.deadline,
         false, false, 1
       FROM jsonb_to_recordset($4::jsonb) AS r(id text, deadline bigint)`,
      [
        org.orgId,
        org.orgKey,
        seedStart,
        JSON.stringify(
          entries.slice(from, from + 20_000).map(([id, deadline]) => ({ id, deadline })),
        ),
      ],
    );
  }
  await db.end();
  const seedSeconds = (Date.now() - seedStart) / 1000;
  if (Date.now() > windowStart) throw new Error('seeding took longer than planned');
  const end = windowStart + TTL_WINDOW_MS + 60_000;
  while (Date.now() < end && arrivals.size < deadlines.size) {
    await new Promise((r) => setTimeout(r, 500));
  }
  clearInterval(scanner);
  collect();
  await reader.stop();

  const stateLateness: number[] = [];
  const eventLateness: number[] = [];
  let missed = 0;
  for (const [id, deadline] of deadlines) {
    const a = arrivals.get(id);
    if (!a) {
      missed++;
      continue;
    }
    stateLateness.push(a.occurredAt - deadline);
    eventLateness.push(a.receivedAt - deadline);
  }
  stateLateness.sort((a, b) => a - b);
  eventLateness.sort((a, b) => a - b);
  const line = (name: string, l: number[]) => {
    report({
      scenario: `TTL: ${name}`,
      unit: 'ms late',
      p50Ms: percentile(l, 0.5),
      p99Ms: percentile(l, 0.99),
      errors: missed,
    });
    return `| ${name} | ${fmt(percentile(l, 0.5))} | ${fmt(percentile(l, 0.99))} | ${fmt(l[l.length - 1])} |\n`;
  };
  process.stdout.write(
    `\n${fmt(TTL_OBJECTS)} objects seeded in ${seedSeconds.toFixed(0)} s, deadlines over ` +
      `${TTL_WINDOW_MS / 1000} s; missed (not expired 60 s after the deadline): ${missed}\n\n` +
      '| lateness after the deadline | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n' +
      line('row DELETED (`occurredAt`)', stateLateness) +
      line('event received from Kafka', eventLateness),
  );
}

async function main(): Promise<void> {
  const t = await startBenchPlatform();
  watchPlatform(t.platform.urls);
  const pool = new Pool(t.gatewayUrl, { connections: CONNECTIONS, pipelining: 1 });
  try {
    const org = await t.createOrg();
    if (sectionWanted('requests')) await benchRequests(t, pool, org);
    if (sectionWanted('list')) await benchList(t, await t.createOrg());
    if (sectionWanted('ttl')) await benchTtl(t, await t.createOrg());
  } finally {
    await pool.close();
    await t.stop();
  }
}

runBenchMain(main);
