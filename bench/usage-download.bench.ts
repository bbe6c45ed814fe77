/**
 * Storage usage and public download benchmarks, with the whole platform running locally as in the e2e suites (five apps as
 * processes, Postgres, Redis, Apache Kafka, S3Proxy) on the same machine as the load.
 * Run: `npm run build && npm run bench:usage` (`BENCH_ONLY=usage,aggregator,lag,download` to pick).
 *
 * - usage: `GET /api/v1/objects/storage-usage` for an org of BENCH_USAGE_FILES files (default 1,000,000,
 *   seeded with SQL into the aggregator's tables as its consumer leaves them: 50 workflows, 20 users), at 1
 *   connection (latency) and 64 (throughput), against a bare Node server answering the same JSON.
 * - aggregator: BENCH_EVENTS `storage_file.updated` events (default 30,000: 15,000 files × created +
 *   overwritten, 20 orgs, 50 workflows) are put on the topic while the usage-aggregator is stopped; then a
 *   raw kafkajs consumer (a new group, `eachBatch`, no work) reads them all, and the aggregator is started
 *   and catches up. Rates are counted from the first to the last event each handles (group joins excluded):
 *   the raw consumer by its own clock, the aggregator by `processed_events.processed_at`. CPU time per event
 *   too, steadier than rates on a shared machine: the raw consumer's `process.cpuUsage`, the aggregator's
 *   `process_cpu_seconds_total` (its `/metrics`) from its restart to the end of the catch-up.
 * - lag: objects created and completed through the API at 16 in flight; per event, `processed_at` in the
 *   aggregator minus the event's `occurredAt` (set just before the commit).
 * - download: `GET /api/v1/objects/download?objectKey=…` (302 to a presigned GET) over 1,000 READ_ONLY
 *   objects, against a bare Node server answering a constant 302, at 64 connections.
 *
 * Apps log at `warn`. The machine is shared: figures are noisy. Prints markdown tables.
 */
import { randomUUID } from 'node:crypto';
import { newKeyToken, OBJECT_METADATA_BATCH_OPS, Topic } from '@lib/contracts';
import { buildCloudEvent, eventHeaders } from '@lib/events';
import { consumerConfig, createKafka, producerConfig } from '@lib/kafka';
import { INTERNAL_BATCH_PATH } from '@lib/internal-http';
import { readTopics, TestOrg, TestPlatform } from '@lib/testing';
import { logLevel } from 'kafkajs';
import { Client } from 'pg';
import { startCpuWindow } from './lib/process-cpu';
import { Pool } from 'undici';
import { runBenchMain, sectionWanted } from './lib/bench-main';
import { startBenchPlatform } from './lib/platform';
import { startBaselineServer } from './lib/baseline-server';
import { LoadRequest, runLoad, TABLE_HEADER, tableRow } from './lib/load';
import { seedReadOnlyObjects } from './lib/seed-objects';
import { watchPlatform } from './lib/process-memory';
import { report } from './lib/report';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const USAGE_FILES = Number(process.env.BENCH_USAGE_FILES ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000);
const LAG_OBJECTS = Number(process.env.BENCH_LAG_OBJECTS ?? 2_000);
const ALL_USERS = '00000000-0000-0000-0000-000000000000';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function measure(
  url: string,
  connections: number,
  request: (i: number) => LoadRequest,
  ok: (s: number) => boolean = (s) => s === 200,
) {
  await runLoad({ url, connections, durationMs: 2_000, request });
  return runLoad({ url, connections, durationMs: DURATION_MS, request, ok });
}

async function withDb<T>(t: TestPlatform, work: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: t.db.url });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

async function benchUsage(t: TestPlatform, org: TestOrg): Promise<void> {
  const seedStart = performance.now();
  await withDb(t, async (db) => {
    const users = Array.from({ length: 20 }, () => randomUUID());
    for (let from = 0; from < USAGE_FILES; from += 250_000) {
      await db.query(
        `INSERT INTO usage.file_usage (object_id, org_id, org_key, workflow_id, created_by, direction,
           size_bytes, live, version)
         SELECT 'bench-' || g, $1, $2, 'wf-' || (g % 50), ($3::uuid[])[1 + g % 20],
           CASE WHEN g % 2 = 0 THEN 'input' ELSE 'output' END, 1000 + g % 4096, true, 1
         FROM generate_series($4::bigint, $5::bigint) AS g`,
        [org.orgId, org.orgKey, users, from, Math.min(USAGE_FILES, from + 250_000) - 1],
      );
    }
    // The totals exactly as the consumer keeps them (one row per org/user/workflow bucket).
    await db.query(
      `INSERT INTO usage.usage_totals (org_id, user_id, workflow_id, total_bytes, input_bytes, output_bytes, file_count)
       SELECT f.org_id, u.user_id, w.workflow_id, sum(f.size_bytes),
              coalesce(sum(f.size_bytes) FILTER (WHERE f.direction = 'input'), 0),
              coalesce(sum(f.size_bytes) FILTER (WHERE f.direction = 'output'), 0), count(*)
       FROM usage.file_usage f
       CROSS JOIN LATERAL (VALUES ('${ALL_USERS}'::uuid), (f.created_by)) AS u(user_id)
       CROSS JOIN LATERAL (VALUES (''::text), (f.workflow_id)) AS w(workflow_id)
       WHERE f.org_id = $1 AND u.user_id IS NOT NULL AND w.workflow_id IS NOT NULL
       GROUP BY 1, 2, 3`,
      [org.orgId],
    );
    await db.query(
      `INSERT INTO usage.workflows (workflow_id, org_id, name, named_at)
       SELECT 'wf-' || g, $1, 'workflow ' || g, now() FROM generate_series(0, 49) AS g`,
      [org.orgId],
    );
    await db.query('VACUUM ANALYZE usage.file_usage');
    await db.query('VACUUM ANALYZE usage.usage_totals');
  });
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const headers = { authorization: `Bearer ${org.adminJwt}` };
  const probe = await fetch(`${t.gatewayUrl}/api/v1/objects/storage-usage`, { headers });
  const answer = await probe.text();
  const json = JSON.parse(answer) as { fileCount: number; breakdown: unknown[] };
  if (json.fileCount !== USAGE_FILES) throw new Error(`usage answered ${answer.slice(0, 200)}`);

  const bare = await startBaselineServer({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: answer,
  });
  try {
    const rows: string[] = [];
    for (const connections of [1, 64]) {
      // The gateway's token for the org's admin, as it signs one for the public route (valid 2 minutes).
      const internalToken = t.serviceToken('gateway', 'usage-aggregator', {
        orgId: org.orgId,
        orgKey: org.orgKey,
        userId: org.adminUserId,
        role: 'admin',
        actor: { type: 'user', id: org.adminUserId },
        workflowId: null,
      });
      const baseline = await measure(bare.url, connections, () => ({ method: 'GET', path: '/' }));
      const gateway = await measure(t.gatewayUrl, connections, () => ({
        method: 'GET',
        path: '/api/v1/objects/storage-usage',
        headers,
      }));
      const internal = await measure(t.platform.urls['usage-aggregator'], connections, () => ({
        method: 'GET',
        path: '/internal/usage',
        headers: { authorization: `Bearer ${internalToken}` },
      }));
      rows.push(
        tableRow(`bare Node server, same JSON (baseline), ${connections} conn.`, baseline),
        tableRow(`\`GET /api/v1/objects/storage-usage\`, ${connections} conn.`, gateway, baseline),
        tableRow(`usage-aggregator internal read, ${connections} conn.`, internal, baseline),
      );
    }
    process.stdout.write(
      `\nstorage usage: ${fmt(USAGE_FILES)} files in one org (${json.breakdown.length} workflows; ` +
        `seeded in ${seedSeconds.toFixed(0)} s)\n\n${TABLE_HEADER}\n${rows.join('\n')}\n`,
    );
  } finally {
    await bare.close();
  }
}

async function benchAggregator(t: TestPlatform): Promise<void> {
  const kafka = createKafka({
    brokers: t.kafka.brokers,
    clientId: 'bench',
    logLevel: logLevel.NOTHING,
  });
  await t.platform.kill('usage-aggregator');
  const before = await withDb(t, async (db) =>
    Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM usage.processed_events`)).rows[0].n,
    ),
  );

  const admin = kafka.admin();
  await admin.connect();
  const highBefore = new Map(
    (await admin.fetchTopicOffsets(Topic.StorageFileUpdated)).map((o) => [
      o.partition,
      Number(o.high),
    ]),
  );

  // The events, produced in batches while the aggregator is down.
  const producer = kafka.producer(producerConfig());
  await producer.connect();
  const orgs = Array.from({ length: 20 }, () => ({
    id: randomUUID(),
    key: `bench-${newKeyToken()
      .slice(0, 8)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`,
  }));
  const files = EVENTS / 2;
  const produceStart = performance.now();
  for (let from = 0; from < EVENTS; from += 1_000) {
    const messages = [];
    for (let i = from; i < Math.min(EVENTS, from + 1_000); i++) {
      const file = i % files;
      const version = i < files ? 1 : 2;
      const org = orgs[file % orgs.length];
      const objectId = `bench-file-${file}`;
      const event = buildCloudEvent(
        Topic.StorageFileUpdated,
        {
          orgId: org.id,
          orgKey: org.key,
          objectId,
          objectKey: `${org.key}/files/${objectId}`,
          workflowId: `wf-${file % 50}`,
          direction: file % 2 ? 'input' : 'output',
          sizeBytes: version * 1000,
          previousSizeBytes: (version - 1) * 1000,
          change: version === 1 ? 'created' : 'overwritten',
          version,
          actor: { type: 'system', id: 'bench' },
          createdBy: null,
          occurredAt: new Date().toISOString(),
        },
        { source: '/bench', subject: objectId, id: randomUUID() },
      );
      messages.push({ key: objectId, value: JSON.stringify(event), headers: eventHeaders(event) });
    }
    await producer.send({ topic: Topic.StorageFileUpdated, messages });
  }
  const produceSeconds = (performance.now() - produceStart) / 1000;
  await producer.disconnect();

  // Baseline: a raw kafkajs consumer reading the whole topic (a new group), doing nothing with the events.
  const raw = kafka.consumer(consumerConfig(`bench-raw-${randomUUID()}`));
  await raw.connect();
  await raw.subscribe({ topics: [Topic.StorageFileUpdated], fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  let rawCpuStart: NodeJS.CpuUsage | undefined;
  const offsets = await admin.fetchTopicOffsets(Topic.StorageFileUpdated);
  await admin.disconnect();
  // Every event on the topic (those of the other scenarios included).
  const target = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const fresh = offsets.reduce(
    (n, o) => n + Number(o.high) - Math.max(Number(o.low), highBefore.get(o.partition) ?? 0),
    0,
  );
  const rawWindow = startCpuWindow([]);
  const done = new Promise<void>((resolve) => {
    void raw.run({
      eachBatch: async ({ batch }) => {
        if (first === 0) {
          first = performance.now();
          rawCpuStart = process.cpuUsage();
        }
        seen += batch.messages.length;
        last = performance.now();
        if (seen >= target) resolve();
        await Promise.resolve();
      },
    });
  });
  await done;
  const rawKafka = rawWindow.end(seen).infrastructurePct;
  const rawCpu = process.cpuUsage(rawCpuStart);
  await raw.disconnect();
  const rawRate = (seen - 1) / ((last - first) / 1000);
  const rawCpuPerEvent = (rawCpu.user + rawCpu.system) / seen;

  // The aggregator catches up from where its group stopped; its CPU time is read before and after.
  await t.platform.restart('usage-aggregator');
  const aggWindow = startCpuWindow([]);
  const cpuBefore = await processCpuSeconds(t.platform.managementUrls['usage-aggregator']);
  const stats = await withDb(t, async (db) => {
    const deadline = Date.now() + 600_000;
    for (;;) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM usage.processed_events`,
      );
      if (Number(rows[0].n) >= before + fresh) break;
      if (Date.now() > deadline) throw new Error('the aggregator did not catch up in 10 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    const { rows } = await db.query<{ first: Date; last: Date; n: string; batches: string }>(
      `SELECT min(processed_at) AS first, max(processed_at) AS last, count(*) AS n,
              count(DISTINCT processed_at) AS batches
       FROM (SELECT processed_at FROM usage.processed_events ORDER BY processed_at DESC LIMIT $1) e`,
      [fresh],
    );
    return rows[0];
  });
  const aggKafka = aggWindow.end(fresh).infrastructurePct;
  const aggCpuPerEvent =
    (((await processCpuSeconds(t.platform.managementUrls['usage-aggregator'])) - cpuBefore) * 1e6) /
    fresh;
  const aggSeconds = (stats.last.getTime() - stats.first.getTime()) / 1000;
  const aggRate = (Number(stats.n) - 1) / aggSeconds;
  report({
    scenario: 'raw kafkajs consumer (baseline)',
    unit: 'events/s',
    rate: rawRate,
    kafkaCpuPct: rawKafka.kafka,
  });
  report({
    scenario: 'usage-aggregator consuming storage_file.updated',
    unit: 'events/s',
    rate: aggRate,
    baseline: 'raw kafkajs consumer',
    ratio: aggRate / rawRate,
    platformCpuUsPerOp: aggCpuPerEvent,
    kafkaCpuPct: aggKafka.kafka,
  });
  process.stdout.write(
    `\nusage-aggregator throughput: ${fmt(EVENTS)} storage_file.updated events on 6 partitions ` +
      `(produced in ${produceSeconds.toFixed(1)} s); the aggregator applied them in ${stats.batches} ` +
      `transactions\n\n| consumer | events/s | ratio to raw | CPU µs per event |\n|---|---|---|---|\n` +
      `| raw kafkajs consumer, eachBatch, no work (baseline) | ${fmt(rawRate)} | 1.00 | ${rawCpuPerEvent.toFixed(1)} |\n` +
      `| usage-aggregator (dedupe + versions + aggregates, one transaction per batch) | ${fmt(aggRate)} | ${(aggRate / rawRate).toFixed(2)} | ${aggCpuPerEvent.toFixed(1)} |\n`,
  );
}

/** An app's `process_cpu_seconds_total` (user + system) from its `/metrics`. */
async function processCpuSeconds(appUrl: string): Promise<number> {
  const text = await (await fetch(`${appUrl}/metrics`)).text();
  const match = /^process_cpu_seconds_total(?:\{[^}]*\})? (\S+)$/m.exec(text);
  if (!match) throw new Error(`no process_cpu_seconds_total at ${appUrl}/metrics`);
  return Number(match[1]);
}

async function benchLag(t: TestPlatform, org: TestOrg): Promise<void> {
  const reader = await readTopics(t.kafka.brokers, [Topic.StorageFileUpdated]);
  const pool = new Pool(t.gatewayUrl, { connections: 16, pipelining: 1 });
  const headers = { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' };
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < LAG_OBJECTS) {
      const i = next++;
      const res = await pool.request({
        method: 'POST',
        path: '/v1/objects',
        headers,
        body: JSON.stringify({ name: `lag-${i}.txt`, content_type: 'text' }),
      });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  const lags = await withDb(t, async (db) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM usage.usage_totals WHERE org_id = $1 AND user_id = $2 AND workflow_id = ''
           AND file_count >= $3`,
        [org.orgId, ALL_USERS, LAG_OBJECTS],
      );
      if (rows.length > 0 && rows[0].n === '1') break;
      if (Date.now() > deadline) throw new Error('usage did not catch up within 2 minutes');
      await new Promise((r) => setTimeout(r, 200));
    }
    const events = reader.messages
      .map(
        (m) => JSON.parse(m.value) as { id: string; data: { orgId: string; occurredAt: string } },
      )
      .filter((e) => e.data.orgId === org.orgId);
    const { rows } = await db.query<{ event_id: string; processed_at: Date }>(
      `SELECT event_id, processed_at FROM usage.processed_events WHERE event_id = ANY($1)`,
      [events.map((e) => e.id)],
    );
    const at = new Map(rows.map((r) => [r.event_id, r.processed_at.getTime()]));
    return events
      .map((e) => (at.get(e.id.toLowerCase()) ?? NaN) - Date.parse(e.data.occurredAt))
      .filter((n) => !Number.isNaN(n))
      .sort((a, b) => a - b);
  });
  await reader.stop();
  report({
    scenario: 'lag: object created → usage updated',
    unit: 'creates/s',
    rate: LAG_OBJECTS / seconds,
    p50Ms: percentile(lags, 0.5),
    p99Ms: percentile(lags, 0.99),
  });
  process.stdout.write(
    `\nend-to-end lag, object created (committed) → usage updated: ${fmt(LAG_OBJECTS)} creates at 16 in ` +
      `flight (${fmt(LAG_OBJECTS / seconds)}/s)\n\n| events | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n` +
      `| ${fmt(lags.length)} | ${fmt(percentile(lags, 0.5))} | ${fmt(percentile(lags, 0.99))} | ${fmt(lags[lags.length - 1])} |\n`,
  );
}

async function benchDownload(t: TestPlatform, org: TestOrg): Promise<void> {
  const keys = await withDb(t, (db) => seedReadOnlyObjects(db, org, 1_000));
  const bare = await startBaselineServer({
    status: 302,
    headers: { location: `http://127.0.0.1:9000/platform/${keys[0].key}?X-Amz-Signature=0` },
  });
  const is302 = (s: number) => s === 302;
  try {
    const baseline = await measure(bare.url, 64, () => ({ method: 'GET', path: '/' }), is302);
    const redirect = await measure(
      t.gatewayUrl,
      64,
      (i) => ({
        method: 'GET',
        path: `/api/v1/objects/download?objectKey=${encodeURIComponent(keys[i % keys.length].key)}`,
      }),
      is302,
    );
    // Where the time goes: the internal hop alone, and the gateway alone (rate limit + validation, 400).
    // The gateway's token for object-metadata, acting for no org (the public download's calls).
    const authorization = `Bearer ${t.serviceToken('gateway', 'object-metadata')}`;
    const internal = await measure(t.platform.urls['object-metadata'], 64, (i) => ({
      method: 'POST',
      path: INTERNAL_BATCH_PATH,
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({
        calls: [
          {
            op: OBJECT_METADATA_BATCH_OPS.fileDownloadUrl,
            args: { objectKey: keys[i % keys.length].key, type: 'attachment' },
          },
        ],
      }),
    }));
    const gatewayOnly = await measure(
      t.gatewayUrl,
      64,
      () => ({ method: 'GET', path: '/api/v1/objects/download?objectKey=not-a-key' }),
      (s) => s === 400,
    );
    process.stdout.write(
      `\npublic download redirect, 1,000 objects, 64 connections\n\n${TABLE_HEADER}\n` +
        [
          tableRow('bare Node server answering a constant 302 (baseline)', baseline),
          tableRow('`GET /api/v1/objects/download` → 302 presigned GET', redirect, baseline),
          tableRow(
            'object-metadata alone: one `files.downloadUrl` call (lookup + presign)',
            internal,
            baseline,
          ),
          tableRow('gateway alone: rate limit + validation → 400, no hop', gatewayOnly, baseline),
        ].join('\n') +
        '\n',
    );
  } finally {
    await bare.close();
  }
}

async function main(): Promise<void> {
  const t = await startBenchPlatform({
    ...(process.env.BENCH_USAGE_CONCURRENCY
      ? { USAGE_CONSUMER_CONCURRENCY: process.env.BENCH_USAGE_CONCURRENCY }
      : {}),
  });
  watchPlatform(t.platform.urls);
  try {
    if (sectionWanted('download')) await benchDownload(t, await t.createOrg());
    if (sectionWanted('usage')) await benchUsage(t, await t.createOrg());
    if (sectionWanted('lag')) await benchLag(t, await t.createOrg());
    if (sectionWanted('aggregator')) await benchAggregator(t);
  } finally {
    await t.stop();
  }
}

runBenchMain(main);
