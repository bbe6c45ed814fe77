/**
 * `npm run bench`: every bench of bench/ in sequence, each as a child process of its own (its own platform,
 * its own tables on stdout), with BENCH_REPORT pointing at one JSON-lines file that each bench appends its
 * rows to (`bench/lib/report.ts`); then ONE markdown table of every row, headed by the date, the machine, the
 * Node version and the load average before the run, printed and written to .local/bench/latest.md.
 * Builds nothing: run `npm run build && npm run bench` (the benches start the apps from dist/).
 *
 * BENCH_ONLY=objects,peer picks benches (names below); `objects:requests+list` also passes
 * BENCH_ONLY=requests,list to that bench (the sections objects-api, usage-download and peer accept). Every other
 * BENCH_* knob reaches the benches as is (e.g. BENCH_DURATION_MS=5000, BENCH_LIST_OBJECTS=100000).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatReportTable, parseReport } from './lib/report';
import { parseBenchSelection } from './lib/selection';

/** Every bench, in the order run: the cheapest first. */
export const BENCHES = {
  presign: 'bench/presign.bench.ts',
  peer: 'bench/peer.bench.ts',
  objects: 'bench/objects-api.bench.ts',
  usage: 'bench/usage-download.bench.ts',
  'org-storage': 'bench/org-storage.bench.ts',
  flows: 'bench/flows.bench.ts',
} as const;

const ROOT = join(__dirname, '..');
const OUT_DIR = join(ROOT, '.local', 'bench');

async function runBench(
  name: string,
  file: string,
  sections: string[] | undefined,
  reportFile: string,
) {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_REPORT: reportFile, BENCH_NAME: name };
  delete env.BENCH_ONLY;
  if (sections) env.BENCH_ONLY = sections.join(',');
  process.stderr.write(`\n== ${name} (${file}) ==\n`);
  const started = performance.now();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', file], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { name, code, seconds: (performance.now() - started) / 1000 };
}

/**
 * The figures of the last full run on the stand-ins that tests used for Kafka and S3 before the real servers
 * (librdkafka's mock cluster, s3rver), by `bench|scenario`: the table shows them beside today's.
 */
function standInFigures(): Record<string, string> {
  const file = join(ROOT, 'bench', 'stand-in-figures.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { figures: Record<string, string> }).figures;
}

async function main(): Promise<void> {
  const selection = parseBenchSelection(process.env.BENCH_ONLY, Object.keys(BENCHES));
  mkdirSync(OUT_DIR, { recursive: true });
  const reportFile = join(OUT_DIR, 'latest.jsonl');
  rmSync(reportFile, { force: true });
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const startedAt = new Date();
  const runs = [];
  for (const [name, sections] of selection) {
    runs.push(await runBench(name, BENCHES[name as keyof typeof BENCHES], sections, reportFile));
  }
  let rows: ReturnType<typeof parseReport> = [];
  try {
    rows = parseReport(readFileSync(reportFile, 'utf8'));
  } catch {
    /* no bench reported anything */
  }
  const failed = runs.filter((r) => r.code !== 0);
  const markdown =
    `### Latest \`npm run bench\` table\n\n` +
    `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; load average before the run ${load}; ` +
    `benches: ${runs.map((r) => `${r.name} ${r.seconds.toFixed(0)} s`).join(', ')}` +
    `${failed.length > 0 ? `; FAILED: ${failed.map((r) => `${r.name} (exit ${r.code})`).join(', ')}` : ''}.\n\n` +
    `${formatReportTable(rows, standInFigures())}\n`;
  writeFileSync(join(OUT_DIR, 'latest.md'), markdown);
  process.stdout.write(`\n${markdown}\n(written to .local/bench/latest.md)\n`);
  process.exit(failed.length > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
