/**
 * Side by side with Supabase Storage, the closest open-source peer (TypeScript, Fastify, Postgres metadata;
 * file backend, one tenant): the four operations both serve, measured on the peer and on the whole local
 * platform (five apps as processes, Postgres, Redis, Apache Kafka, S3Proxy) on this machine, with the same
 * load tool, wrk. Our goal is at least twice the peer's rate on each.
 * Run: build and start the peer (`bench/peer/setup-peer.sh` prints how and the env to export: PEER_URL,
 * PEER_SERVICE_KEY, PEER_DATABASE_URL), then `npm run build && npm run bench:peer`
 * (`BENCH_ONLY=download-url,upload,list,public` to pick).
 *
 * - create a signed download URL for a 1 KB object: ours `GET /v1/objects/{id}/download` over 100 objects
 *   (created, uploaded to S3, completed); the peer's `POST /object/sign/{bucket}/{path}` over 100 objects.
 * - upload 1 KB as a new object: ours `POST /api/private/storage/upload`, one multipart request per new
 *   file, streamed to S3 and recorded (the Objects API's create → PUT → complete takes three); the peer's
 *   `POST /object/{bucket}/{path}`, multipart, to its file backend. A new name per request (a Lua counter).
 * - list a page of 100 of BENCH_PEER_OBJECTS objects (default 10,000; inserted with SQL on both sides, the
 *   tables VACUUM ANALYZEd before): ours `GET /v1/objects?limit=100` with `include_total_count=false` and
 *   with the count (default); the peer's `POST /object/list/{bucket}`, which counts nothing.
 * - public 1 KB download: ours `GET /api/v1/objects/download?objectKey=…&stream=true` (bytes through the
 *   gateway) over 100 uploaded files; the peer's `GET /object/public/{bucket}/{path}` from a public bucket.
 *   (Our default answer, a 302 to a presigned GET, is measured by the usage bench.)
 *
 * Each run: `wrk -t1 -c10` (BENCH_PEER_CONNECTIONS), BENCH_PEER_WARMUP_MS of warm-up (3 s), then
 * BENCH_DURATION_MS measured (10 s); BENCH_PEER_ROUNDS rounds (2), each measuring every operation on the
 * peer, then on ours, after an unreported round 0 that warms both up. During each measured run, the CPU time (/proc/<pid>/stat utime + stime, before and
 * after) of every process serving it: our five apps, Postgres (every postgres process of the machine),
 * the Kafka JVM, the S3Proxy JVM and Redis, or the peer's node process and Postgres; and wrk's own. Apps log
 * at `warn`, as the peer does. Prints the rate table and the CPU-per-request table (also written to
 * .local/bench/peer.md) and reports each run's row for `npm run bench`.
 */
import { APP_NAMES, AppName, TEST_REDIS_URL, TestPlatform } from '@lib/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { startBaselineServer } from './lib/baseline-server';
import { runBenchMain, sectionWanted } from './lib/bench-main';
import { MULTIPART_CONTENT_TYPE, multipartBody, multipartFile } from './lib/multipart';
import { startBenchPlatform } from './lib/platform';
import { pidsNamed, startGroupCpu } from './lib/process-cpu';
import { pidListeningOn } from './lib/process-memory';
import { report } from './lib/report';
import { runWrk, WrkLoad, WrkResult } from './lib/wrk';

const CONNECTIONS = Number(process.env.BENCH_PEER_CONNECTIONS ?? 10);
const WARMUP_MS = Number(process.env.BENCH_PEER_WARMUP_MS ?? 3_000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_PEER_ROUNDS ?? 2);
const LIST_OBJECTS = Number(process.env.BENCH_PEER_OBJECTS ?? 10_000);
const ONE_KB = 'x'.repeat(1024);
const PEER = 'Supabase Storage';
/** Our apps in the CPU table's order: the one the load enters first. */
const OUR_APPS: readonly AppName[] = ['gateway', ...APP_NAMES.filter((app) => app !== 'gateway')];
/** The peer's buckets: `bench` (public) holds the 100 fixed objects and the uploads, `bench-list` the list. */
const BUCKET = 'bench';
const LIST_BUCKET = 'bench-list';

function env(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run bench/peer/setup-peer.sh and export what it prints`);
  return value;
}

/** Processes whose CPU is read during a run, by column of the CPU table. */
type Processes = Record<string, () => readonly number[]>;

/** One side of a comparison: where it answers, what it is sent, and which processes serve it. */
interface Target {
  side: 'peer' | 'ours';
  route: string;
  url: string;
  /** The load of one wrk run; `run` makes names unique across runs. */
  load: (run: string) => WrkLoad;
  processes: Processes;
}

interface Operation {
  section: string;
  name: string;
  peer: Target;
  ours: Target[];
}

interface Measured {
  target: Target;
  result: WrkResult;
  /** CPU time during the measured run per process column, and wrk's, in ms. */
  cpuMs: Record<string, number>;
}

/** Each wrk run's tag, `<bench start>-<run>`: with wrk's counter, a new upload name per request. */
const stamp = Date.now().toString(36);
let runs = 0;

async function measure(target: Target): Promise<Measured> {
  const wrk = (durationMs: number) =>
    runWrk({
      url: target.url,
      connections: CONNECTIONS,
      durationMs,
      load: target.load(`${stamp}-${runs++}`),
    });
  process.stderr.write(`measuring ${target.side}: ${target.route}\n`);
  await wrk(WARMUP_MS);
  const cpu = startGroupCpu(target.processes);
  const result = await wrk(DURATION_MS);
  return { target, result, cpuMs: { ...cpu.end(), wrk: result.cpuMs } };
}

/** The peer's state for the bench: its two buckets, 100 fixed 1 KB objects, the listed objects. */
async function preparePeer(url: string, headers: Record<string, string>): Promise<string[]> {
  const call = async (method: string, path: string, init: RequestInit) => {
    const res = await fetch(`${url}${path}`, {
      ...init,
      method,
      headers: { ...headers, ...init.headers },
    });
    return { status: res.status, body: await res.text() };
  };
  for (const [name, isPublic] of [
    [BUCKET, true],
    [LIST_BUCKET, false],
  ] as const) {
    const res = await call('POST', '/bucket', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: name, name, public: isPublic }),
    });
    if (res.status !== 200 && !res.body.includes('already exists'))
      throw new Error(`peer bucket ${name} → ${res.status}: ${res.body}`);
  }
  const paths: string[] = [];
  for (let i = 0; i < 100; i++) {
    const path = `fixed/file-${i}.bin`;
    const res = await call('POST', `/object/${BUCKET}/${path}`, {
      headers: { 'content-type': MULTIPART_CONTENT_TYPE, 'x-upsert': 'true' },
      body: multipartBody({ cacheControl: '3600' }, 'file', 'file.bin', ONE_KB),
    });
    if (res.status !== 200) throw new Error(`peer upload → ${res.status}: ${res.body}`);
    paths.push(path);
  }
  const db = new Client({ connectionString: env('PEER_DATABASE_URL') });
  await db.connect();
  try {
    await db.query('BEGIN');
    // The peer refuses direct deletes unless told they are meant.
    await db.query(`SELECT set_config('storage.allow_delete_query', 'true', true)`);
    await db.query('DELETE FROM storage.objects WHERE bucket_id = $1', [LIST_BUCKET]);
    await db.query(
      `INSERT INTO storage.objects (bucket_id, name, metadata)
       SELECT $1, 'listed-' || g || '.bin', jsonb_build_object('size', 1024, 'mimetype',
         'application/octet-stream', 'eTag', '"' || md5(g::text) || '"', 'cacheControl', 'max-age=3600')
       FROM generate_series(1, $2::bigint) AS g`,
      [LIST_BUCKET, LIST_OBJECTS],
    );
    await db.query('COMMIT');
    await db.query('VACUUM ANALYZE storage.objects');
  } finally {
    await db.end();
  }
  return paths;
}

/** Our state: 100 completed 1 KB objects, 100 uploaded 1 KB org files, an org of LIST_OBJECTS objects. */
async function prepareOurs(t: TestPlatform) {
  const org = await t.createOrg();
  const bearer = { authorization: `Bearer ${org.apiKey}` };
  const privateKey = { 'api-key': org.orgPrivateKey };
  const call = async (path: string, init: RequestInit) => {
    const res = await fetch(`${t.gatewayUrl}${path}`, init);
    const body = await res.text();
    if (res.status >= 300) throw new Error(`${path} → ${res.status}: ${body}`);
    return JSON.parse(body) as Record<string, unknown>;
  };
  const ids: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < 100; i++) {
    const created = await call('/v1/objects', {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `signed-${i}.bin`, content_type: 'binary' }),
    });
    const put = await fetch(created.upload_url as string, { method: 'PUT', body: ONE_KB });
    if (put.status !== 200) throw new Error(`PUT upload_url → ${put.status}`);
    await call(`/v1/objects/${created.id as string}/complete`, { method: 'POST', headers: bearer });
    ids.push(created.id as string);
    const uploaded = await call('/api/private/storage/upload', {
      method: 'POST',
      headers: { ...privateKey, 'content-type': MULTIPART_CONTENT_TYPE },
      body: multipartFile(`public-${i}.bin`, 'public', ONE_KB),
    });
    keys.push((uploaded.data as { objectKey: string }).objectKey);
  }
  const listOrg = await t.createOrg();
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
      [listOrg.orgId, listOrg.orgKey, base, LIST_OBJECTS],
    );
    await db.query('VACUUM ANALYZE object_metadata.objects');
  } finally {
    await db.end();
  }
  return {
    bearer,
    privateKey,
    ids,
    keys,
    listBearer: { authorization: `Bearer ${listOrg.apiKey}` },
  };
}

function operations(
  t: TestPlatform,
  ours: Awaited<ReturnType<typeof prepareOurs>>,
  peerPaths: string[],
) {
  const peerUrl = env('PEER_URL');
  const service = { authorization: `Bearer ${env('PEER_SERVICE_KEY')}` };
  const peerPid = pidListeningOn(Number(new URL(peerUrl).port));
  const redisPid = pidListeningOn(Number(new URL(TEST_REDIS_URL).port || 6379));
  const postgres = () => pidsNamed('postgres');
  const known = (pid?: number) => (pid === undefined ? [] : [pid]);
  const peerProcesses: Processes = { [PEER]: () => [peerPid], Postgres: postgres };
  const ourProcesses: Processes = {
    ...Object.fromEntries(OUR_APPS.map((app) => [app, () => known(t.platform.pid(app))])),
    Postgres: postgres,
    Kafka: () => t.kafka.nodes.flatMap((node) => known(node.pid)),
    S3Proxy: () => [t.s3.pid],
    Redis: () => [redisPid],
  };
  const peer = (route: string, load: Target['load']): Target => ({
    side: 'peer',
    route,
    url: peerUrl,
    load,
    processes: peerProcesses,
  });
  const our = (route: string, load: Target['load']): Target => ({
    side: 'ours',
    route,
    url: t.gatewayUrl,
    load,
    processes: ourProcesses,
  });
  const json = { ...service, 'content-type': 'application/json' };
  const count = LIST_OBJECTS.toLocaleString('en-US');
  const all: Operation[] = [
    {
      section: 'download-url',
      name: 'create signed download URL, 1 KB object',
      peer: peer('`POST /object/sign/{bucket}/{path}`', () => ({
        method: 'POST',
        paths: peerPaths.map((p) => `/object/sign/${BUCKET}/${p}`),
        headers: json,
        body: JSON.stringify({ expiresIn: 3600 }),
      })),
      ours: [
        our('`GET /v1/objects/{id}/download`', () => ({
          method: 'GET',
          paths: ours.ids.map((id) => `/v1/objects/${id}/download`),
          headers: ours.bearer,
        })),
      ],
    },
    {
      section: 'upload',
      name: 'upload 1 KB as a new object (multipart)',
      peer: peer('`POST /object/{bucket}/{path}`', (run) => ({
        method: 'POST',
        paths: [`/object/${BUCKET}/load/${run}-{n}.bin`],
        headers: { ...service, 'content-type': MULTIPART_CONTENT_TYPE },
        body: multipartBody({ cacheControl: '3600' }, 'file', 'load.bin', ONE_KB),
      })),
      ours: [
        our('`POST /api/private/storage/upload`', (run) => ({
          method: 'POST',
          paths: ['/api/private/storage/upload'],
          headers: { ...ours.privateKey, 'content-type': MULTIPART_CONTENT_TYPE },
          body: multipartFile(`load-${run}-{n}.bin`, 'load', ONE_KB),
        })),
      ],
    },
    {
      section: 'list',
      name: `list a page of 100 of ${count}`,
      peer: peer('`POST /object/list/{bucket}` (no count)', () => ({
        method: 'POST',
        paths: [`/object/list/${LIST_BUCKET}`],
        headers: json,
        body: JSON.stringify({ prefix: '', limit: 100, offset: 0 }),
      })),
      ours: [false, true].map((withCount) =>
        our(
          withCount
            ? '`GET /v1/objects?limit=100`, with `total_count` (default)'
            : '`GET /v1/objects?limit=100&include_total_count=false`',
          () => ({
            method: 'GET',
            paths: [`/v1/objects?limit=100${withCount ? '' : '&include_total_count=false'}`],
            headers: ours.listBearer,
          }),
        ),
      ),
    },
    {
      section: 'public',
      name: 'public 1 KB download (bytes)',
      peer: peer('`GET /object/public/{bucket}/{path}`', () => ({
        method: 'GET',
        paths: peerPaths.map((p) => `/object/public/${BUCKET}/${p}`),
      })),
      ours: [
        our('`GET /api/v1/objects/download?objectKey=…&stream=true`', () => ({
          method: 'GET',
          paths: ours.keys.map(
            (key) => `/api/v1/objects/download?stream=true&objectKey=${encodeURIComponent(key)}`,
          ),
        })),
      ],
    },
  ];
  return all.filter((op) => sectionWanted(op.section));
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const latency = (r: WrkResult) => `${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)}`;
const perRequest = (ms: number, r: WrkResult) => (r.requests > 0 ? (ms * 1000) / r.requests : 0);
const sum = (cpu: Record<string, number>, names: readonly string[]) =>
  names.reduce((s, name) => s + (cpu[name] ?? 0), 0);

/** Reports the runs of one operation in one round for `npm run bench`: the peer's row, then ours against it. */
function reportRound(op: Operation, round: number, peer: Measured, ours: Measured[]): void {
  const row = (m: Measured, scenario: string, serving: readonly string[]) => ({
    scenario,
    unit: 'req/s',
    rate: m.result.perSecond,
    p50Ms: m.result.p50Ms,
    p99Ms: m.result.p99Ms,
    errors: m.result.errors,
    platformCpuUsPerOp: perRequest(sum(m.cpuMs, serving), m.result),
  });
  const peerScenario = `${PEER}: ${op.name} ${peer.target.route}, round ${round}`;
  report(row(peer, peerScenario, [PEER]));
  for (const m of ours) {
    const share = (name: string) => ((m.cpuMs[name] ?? 0) / DURATION_MS) * 100;
    report({
      ...row(m, `${op.name} ${m.target.route}, round ${round}`, OUR_APPS),
      baseline: peerScenario,
      ratio: m.result.perSecond / peer.result.perSecond,
      reference: peer.result.perSecond,
      goal: 2 * peer.result.perSecond,
      kafkaCpuPct: share('Kafka'),
      s3CpuPct: share('S3Proxy'),
    });
  }
}

const CPU_COLUMNS = [...OUR_APPS, PEER, 'Postgres', 'Kafka', 'S3Proxy', 'Redis'];

function tables(rounds: { round: number; op: Operation; peer: Measured; ours: Measured[] }[]) {
  const rates = rounds.flatMap(({ round, op, peer, ours }) =>
    ours.map(
      (m) =>
        `| ${op.name}: ${m.target.route} | ${round} | ${thousands(peer.result.perSecond)} | ` +
        `${latency(peer.result)} | ${thousands(m.result.perSecond)} | ${latency(m.result)} | ` +
        `${peer.result.errors} / ${m.result.errors} | ` +
        `${(m.result.perSecond / peer.result.perSecond).toFixed(2)} |`,
    ),
  );
  const cpu = rounds.flatMap(({ round, op, peer, ours }) =>
    [peer, ...ours].map((m) => {
      const cells = CPU_COLUMNS.map((name) =>
        name in m.cpuMs ? thousands(perRequest(m.cpuMs[name], m.result)) : '',
      );
      const servers = perRequest(sum(m.cpuMs, CPU_COLUMNS), m.result);
      const side = m.target.side === 'peer' ? PEER : 'ours';
      return (
        `| ${op.name}: ${side} ${m.target.route} | ${round} | ${thousands(m.result.perSecond)} | ` +
        `${cells.join(' | ')} | ${thousands(servers)} | ${thousands(perRequest(m.cpuMs.wrk, m.result))} |`
      );
    }),
  );
  return (
    `| operation: our route | round | ${PEER} req/s | p50 / p99 ms | ours req/s | p50 / p99 ms | ` +
    `errors (peer / ours) | ours / peer |\n|---|---|---|---|---|---|---|---|\n${rates.join('\n')}\n\n` +
    `CPU per request, µs (user + system during the measured run):\n\n` +
    `| operation: side, route | round | req/s | ${CPU_COLUMNS.join(' | ')} | servers | wrk |\n` +
    `|${'---|'.repeat(CPU_COLUMNS.length + 5)}\n${cpu.join('\n')}\n`
  );
}

/** The machine's speed this run: a bare Node server's req/s under the same load (the platform idle). */
async function machineSpeed(): Promise<number> {
  const bare = await startBaselineServer({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  try {
    process.stderr.write('measuring a bare Node server\n');
    const run = (durationMs: number) =>
      runWrk({
        url: bare.url,
        connections: CONNECTIONS,
        durationMs,
        load: { method: 'GET', paths: ['/'] },
      });
    await run(WARMUP_MS);
    const { perSecond } = await run(DURATION_MS);
    report({
      scenario: 'bare Node server, same load (machine speed)',
      unit: 'req/s',
      rate: perSecond,
    });
    return perSecond;
  } finally {
    await bare.close();
  }
}

async function main(): Promise<void> {
  const peerUrl = env('PEER_URL');
  const peerPaths = await preparePeer(peerUrl, {
    authorization: `Bearer ${env('PEER_SERVICE_KEY')}`,
  });
  const t = await startBenchPlatform();
  try {
    const ours = await prepareOurs(t);
    const ops = operations(t, ours, peerPaths);
    const speed = await machineSpeed();
    const measured = [];
    // Round 0 warms both sides up and is not reported: V8 optimizes the peer's hot paths within seconds,
    // while the Kafka and S3Proxy JVMs take longer to compile theirs.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const op of ops) {
        const peer = await measure(op.peer);
        const our = [];
        for (const target of op.ours) our.push(await measure(target));
        if (round === 0) continue;
        reportRound(op, round, peer, our);
        measured.push({ round, op, peer, ours: our });
      }
    }
    const md =
      `${PEER} and ours side by side: wrk -t1 -c${CONNECTIONS}, ${WARMUP_MS / 1000} s warm-up, ` +
      `${DURATION_MS / 1000} s measured, ${ROUNDS} round(s) after a warm-up round, the peer first in each. ` +
      `The machine's speed: a bare Node server answering \`200 {}\` took ${thousands(speed)} req/s with ` +
      `the same load.\n\n${tables(measured)}`;
    const dir = join(__dirname, '..', '.local', 'bench');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'peer.md'), md);
    process.stdout.write(`\n${md}\n(written to .local/bench/peer.md)\n`);
  } finally {
    await t.stop();
  }
}

runBenchMain(main);
