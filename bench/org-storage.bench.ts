/**
 * Org storage benchmarks, with the whole platform running locally as in the e2e suites (five
 * apps as processes, Postgres, Redis, Apache Kafka, S3Proxy). Run:
 * `npm run build && npm run bench:org-storage`. Figures are noisy on a shared 2-core machine.
 *
 * - Streaming uploads: BENCH_UPLOADS (default 100) concurrent 10 MiB multipart uploads to
 *   `POST /api/private/storage/upload`, streamed by the gateway to S3: uploads/s, CPU per upload of the
 *   gateway, object-metadata and the S3 server, and the peak RSS (Linux VmHWM, reset before the burst) of
 *   the serving processes (gateway and object-metadata), fresh from start-up; against the same-run
 *   baseline of a fresh server that buffers each file whole (Fastify + @fastify/multipart `toBuffer()`, in
 *   a process of its own) and then stores it in one PUT to the same S3 server, and the ceiling of that
 *   server storing nothing.
 * - Folder rename: a folder holding BENCH_FOLDER_FILES files (default 100,000, inserted with SQL) renamed
 *   through the API, against the same-run baseline of renaming an empty folder; then how long the
 *   background worker takes to publish the files' `moved` events.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { TestOrg, TestPlatform, waitFor } from '@lib/testing';
import { Client } from 'pg';
import { runBenchMain } from './lib/bench-main';
import { startBenchPlatform } from './lib/platform';
import { cpuMsOf } from './lib/process-cpu';
import { peakRssOf, pidListeningOn, resetPeakRss, rssOf } from './lib/process-memory';
import { report } from './lib/report';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 100);
const FILE_BYTES = 10 * 1024 * 1024;
const FOLDER_FILES = Number(process.env.BENCH_FOLDER_FILES ?? 100_000);
const RENAMES = 3;

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * A server that buffers each uploaded file whole (Fastify + @fastify/multipart `toBuffer()`), in a process
 * of its own. With BUFFERING_STORE=1 it then sends the file in one presigned PUT to the same S3 server
 * (what a gateway that buffers would do); without, it stores nothing (a ceiling: the bytes cross loopback
 * once and no S3 server spends CPU on them).
 */
const BUFFERING_SERVER = `
const app = require('fastify')({ bodyLimit: 11 * 1024 * 1024 });
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');
const { request } = require('undici');
const env = process.env;
const s3 = new S3Client({
  endpoint: env.S3_ENDPOINT,
  region: env.S3_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
});
app.register(require('@fastify/multipart'), { limits: { fileSize: 11 * 1024 * 1024 } });
app.post('/upload', async (req) => {
  const part = await req.file();
  const bytes = await part.toBuffer();
  if (env.BUFFERING_STORE !== '1') {
    await new Promise((r) => setTimeout(r, 50)); // as if sent on
    return { size: bytes.length };
  }
  const key = 'buffering-baseline/' + Math.random().toString(36).slice(2) + '/' + part.filename;
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: key }), {
    expiresIn: 300,
  });
  const res = await request(url, { method: 'PUT', body: bytes });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error('S3 answered ' + res.statusCode);
  return { size: bytes.length };
});
app.listen({ port: 0, host: '127.0.0.1' }).then(() => console.log(app.server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`;

async function startBufferingServer(t: TestPlatform, store: boolean) {
  const { settings } = t.s3;
  const child = spawn(process.execPath, ['-e', BUFFERING_SERVER], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      BUFFERING_STORE: store ? '1' : '0',
      S3_ENDPOINT: t.s3.endpoint,
      S3_REGION: settings.region,
      S3_BUCKET: settings.bucket,
      S3_ACCESS_KEY_ID: settings.credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: settings.credentials.secretAccessKey,
    },
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return {
    url: `http://127.0.0.1:${line.toString().trim()}`,
    pid: child.pid!,
    close: async () => {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}

async function uploadBurst(url: string, headers: Record<string, string>, file: Blob) {
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: UPLOADS }, async (_, i) => {
      const form = new FormData();
      form.append('path', 'bench');
      form.append('file', file, `file-${i}.bin`);
      const res = await fetch(url, { method: 'POST', headers, body: form }).catch((err: Error) => {
        throw new Error(`upload ${i}: ${String((err.cause as Error | undefined) ?? err.message)}`);
      });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  const bad = statuses.filter((s) => s !== 200 && s !== 201);
  if (bad.length > 0) throw new Error(`uploads failed: ${bad.slice(0, 5).join(', ')}`);
  return performance.now() - started;
}

/** What one process did over a burst: RSS before it, peak RSS (Linux VmHWM, reset before), CPU per upload. */
interface ProcessDuringBurst {
  before: number;
  peak: number;
  cpuPerUpload: number;
}

/**
 * A burst of `UPLOADS` uploads to `url`, with the RSS and CPU of the `processes` serving it and the S3
 * server's CPU per upload.
 */
async function measuredBurst(
  url: string,
  headers: Record<string, string>,
  file: Blob,
  processes: Record<string, number>,
  s3Pid: number,
) {
  const cpu = (pid: number) => cpuMsOf(pid) ?? 0;
  const pids = Object.entries(processes);
  const before = new Map(pids.map(([name, pid]) => [name, { rss: rssOf(pid), cpu: cpu(pid) }]));
  for (const [, pid] of pids) resetPeakRss(pid);
  const s3Before = cpu(s3Pid);
  const took = await uploadBurst(url, headers, file);
  const each: Record<string, ProcessDuringBurst> = Object.fromEntries(
    pids.map(([name, pid]) => {
      const start = before.get(name)!;
      return [
        name,
        { before: start.rss, peak: peakRssOf(pid), cpuPerUpload: (cpu(pid) - start.cpu) / UPLOADS },
      ];
    }),
  );
  return { took, each, s3CpuPerUpload: (cpu(s3Pid) - s3Before) / UPLOADS };
}

/** A burst through a buffering server, a fresh process (`server` in `each`). */
async function bufferingBurst(t: TestPlatform, store: boolean, file: Blob) {
  const server = await startBufferingServer(t, store);
  try {
    return await measuredBurst(`${server.url}/upload`, {}, file, { server: server.pid }, t.s3.pid);
  } finally {
    await server.close();
  }
}

async function benchUploads(t: TestPlatform, org: TestOrg): Promise<void> {
  const file = new Blob([Buffer.alloc(FILE_BYTES, 7)]);
  const port = (url: string) => Number(new URL(url).port);
  // No warm-up on either side: V8 keeps the heap a first burst grew, so a warmed-up process would hide
  // what the burst costs. Every side starts from a fresh, idle process.
  const ours = await measuredBurst(
    `${t.gatewayUrl}/api/private/storage/upload`,
    { 'api-key': org.orgPrivateKey },
    file,
    {
      gateway: pidListeningOn(port(t.gatewayUrl)),
      metadata: pidListeningOn(port(t.platform.urls['object-metadata'])),
    },
    t.s3.pid,
  );
  const { gateway, metadata } = ours.each;
  const servingPeak = gateway.peak + metadata.peak;
  const stored = await bufferingBurst(t, true, file);
  const ceiling = await bufferingBurst(t, false, file);

  report({
    scenario: `${UPLOADS} concurrent 10 MiB uploads: buffering server storing in S3 (baseline)`,
    unit: 'uploads/s',
    rate: UPLOADS / (stored.took / 1000),
    peakRssMiB: stored.each.server.peak / 2 ** 20,
    platformCpuUsPerOp: stored.each.server.cpuPerUpload * 1000,
    s3CpuPct: ((stored.s3CpuPerUpload * UPLOADS) / stored.took) * 100,
  });
  report({
    scenario: `${UPLOADS} concurrent 10 MiB uploads: buffering server storing nothing (ceiling)`,
    unit: 'uploads/s',
    rate: UPLOADS / (ceiling.took / 1000),
    peakRssMiB: ceiling.each.server.peak / 2 ** 20,
    platformCpuUsPerOp: ceiling.each.server.cpuPerUpload * 1000,
  });
  report({
    scenario: `${UPLOADS} concurrent 10 MiB uploads: gateway streaming to S3`,
    unit: 'uploads/s',
    rate: UPLOADS / (ours.took / 1000),
    peakRssMiB: servingPeak / 2 ** 20,
    platformCpuUsPerOp: (gateway.cpuPerUpload + metadata.cpuPerUpload) * 1000,
    s3CpuPct: ((ours.s3CpuPerUpload * UPLOADS) / ours.took) * 100,
    baseline: 'buffering server storing in S3, uploads/s',
    ratio: stored.took / ours.took,
  });
  const row = (name: string, p: ProcessDuringBurst, took?: number, s3CpuPerUpload?: number) =>
    `| ${name} | ${mib(p.before)} | ${mib(p.peak)} | ${mib(p.peak - p.before)} | ` +
    `${took === undefined ? '' : ms(took)} | ${took === undefined ? '' : (UPLOADS / (took / 1000)).toFixed(1)} | ` +
    `${ms(p.cpuPerUpload)} | ${s3CpuPerUpload === undefined ? '' : ms(s3CpuPerUpload)} |`;
  console.log(
    `\n### ${UPLOADS} concurrent 10 MiB uploads (${mib(UPLOADS * FILE_BYTES)} in flight)\n`,
  );
  console.log(
    '| process | RSS before | peak RSS | growth | burst time | uploads/s | CPU per upload | S3 server CPU per upload |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(
    row(
      'gateway (streams to S3 within S3_WRITE_BUFFER_MIB)',
      gateway,
      ours.took,
      ours.s3CpuPerUpload,
    ),
  );
  console.log(row('object-metadata (records)', metadata));
  console.log(
    row(
      'baseline: buffering server, one PUT to the same S3 server',
      stored.each.server,
      stored.took,
      stored.s3CpuPerUpload,
    ),
  );
  console.log(row('ceiling: buffering server storing nothing', ceiling.each.server, ceiling.took));
  console.log(
    `\nServing processes' peak ${mib(servingPeak)} (gateway + object-metadata) against the buffering ` +
      `baseline's ${mib(stored.each.server.peak)}; uploads/s ${(stored.took / ours.took).toFixed(2)}× the ` +
      `buffering baseline's, ${(ceiling.took / ours.took).toFixed(2)}× the ceiling's.`,
  );
}

async function benchRename(t: TestPlatform, org: TestOrg): Promise<void> {
  const api = async (path: string, body: unknown) => {
    const started = performance.now();
    const res = await fetch(`${t.gatewayUrl}/api/private/storage${path}`, {
      method: 'POST',
      headers: { 'api-key': org.orgPrivateKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${path} → ${res.status} ${text}`);
    return performance.now() - started;
  };
  await api('/folder', { name: 'big0' });
  await api('/folder', { name: 'empty0' });
  const db = new Client({ connectionString: t.db.url });
  await db.connect();
  try {
    const [{ id: folderId }] = (
      await db.query<{ id: string }>(
        `SELECT id FROM object_metadata.org_folders WHERE org_id = $1 AND name = 'big0'`,
        [org.orgId],
      )
    ).rows;
    const seeded = performance.now();
    await db.query(
      `INSERT INTO object_metadata.org_files (id, org_id, org_key, folder_id, name, object_key,
         size_bytes, version)
       SELECT 'file_' || lpad(g::text, 32, '0'), $1::uuid, $2::text, $3::uuid, 'f' || g || '.bin',
              $2::text || '/files/' || lpad(g::text, 32, '0'), 1024, 1
       FROM generate_series(1, $4::int) g`,
      [org.orgId, org.orgKey, folderId, FOLDER_FILES],
    );
    await db.query(
      `UPDATE object_metadata.org_folders SET file_count = $2::bigint, byte_count = $2::bigint * 1024
       WHERE id = $1`,
      [folderId, FOLDER_FILES],
    );
    await db.query('ANALYZE object_metadata.org_files');
    await db.query('ANALYZE object_metadata.org_folders');
    console.log(
      `\nSeeded ${FOLDER_FILES.toLocaleString('en-US')} files in ${ms(performance.now() - seeded)}.`,
    );

    const pendingMoves = async () =>
      Number(
        (
          await db.query<{ n: string }>(
            'SELECT count(*) AS n FROM object_metadata.org_folder_moves',
          )
        ).rows[0].n,
      );
    const drained = () =>
      waitFor('the moved events of the rename', async () => (await pendingMoves()) === 0, {
        timeoutMs: 30 * 60_000,
        intervalMs: 200,
      });
    const empty: number[] = [];
    for (let i = 0; i < RENAMES; i++) {
      empty.push(await api('/rename', { path: `empty${i}`, new_name: `empty${i + 1}` }));
    }
    // Each rename of the big folder while nothing else runs (the request's own cost), then the
    // background worker publishes its files' `moved` events before the next one.
    const big: number[] = [];
    const drains: number[] = [];
    for (let i = 0; i < RENAMES; i++) {
      big.push(await api('/rename', { path: `big${i}`, new_name: `big${i + 1}` }));
      const started = performance.now();
      await drained();
      drains.push(performance.now() - started);
    }
    // One more while the worker is busy with the previous rename's events (same process, same CPU).
    await api('/rename', { path: `big${RENAMES}`, new_name: 'big-busy' });
    const busy = await api('/rename', { path: 'big-busy', new_name: 'big-final' });
    await drained();
    console.log(`\n### Folder rename through the API (${RENAMES} renames each, median)\n`);
    console.log('| folder | median | max |');
    console.log('| --- | --- | --- |');
    console.log(`| empty (baseline) | ${ms(median(empty))} | ${ms(Math.max(...empty))} |`);
    console.log(
      `| ${FOLDER_FILES.toLocaleString('en-US')} files | ${ms(median(big))} | ${ms(Math.max(...big))} |`,
    );
    console.log(
      `| ${FOLDER_FILES.toLocaleString('en-US')} files, while the worker publishes the previous rename's events | ${ms(busy)} | |`,
    );
    console.log(`\nRatio: ${(median(big) / median(empty)).toFixed(2)}× the empty folder's rename.`);
    report({
      scenario: 'rename an empty folder (baseline), median',
      unit: '',
      p50Ms: median(empty),
    });
    report({
      scenario: `rename a folder of ${FOLDER_FILES.toLocaleString('en-US')} files, median`,
      unit: '',
      p50Ms: median(big),
      baseline: 'empty folder (time)',
      ratio: median(big) / median(empty),
    });
    report({
      scenario: `its ${FOLDER_FILES.toLocaleString('en-US')} moved events published`,
      unit: 'events/s',
      rate: FOLDER_FILES / (median(drains) / 1000),
    });
    console.log(
      `Background: the ${FOLDER_FILES.toLocaleString('en-US')} moved events of one rename written in ` +
        `${ms(median(drains))} (median; ${Math.round(FOLDER_FILES / (median(drains) / 1000)).toLocaleString('en-US')} events/s).`,
    );
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  // A hundred 10 MiB uploads from one process, with the platform and S3 on the same two cores: a
  // connection's request headers can take longer than the gateway's 10 s default to arrive whole.
  const t = await startBenchPlatform({ HTTP_HEADERS_TIMEOUT_MS: '60000' });
  try {
    const org = await t.createOrg();
    if (process.env.BENCH_SKIP_UPLOADS !== '1') await benchUploads(t, org);
    if (process.env.BENCH_SKIP_RENAME !== '1') await benchRename(t, org);
  } finally {
    await t.stop();
  }
}

runBenchMain(main);
