import { appendFileSync } from 'node:fs';
import type { LoadResult } from './load';

/**
 * One row of the `npm run bench` table (`bench/run-all.ts`). Each bench prints its own tables and also
 * calls `report(row)` beside each printed row; with BENCH_REPORT set (a file path), rows are appended there
 * as JSON lines and the runner gathers them into one markdown table.
 */
export interface ReportRow {
  /** The bench that measured it (`objects`, `usage`, ...): the runner's BENCH_NAME when unset. */
  bench?: string;
  scenario: string;
  /** What `rate` counts: 'req/s', 'events/s', 'uploads/s', ... */
  unit: string;
  rate?: number;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
  /** Peak RSS (VmHWM) summed over the processes serving the scenario, in MiB (see process-memory.ts). */
  peakRssMiB?: number;
  /** The same-run baseline: its scenario name and the ratio to it (> 1 better for rates). */
  baseline?: string;
  ratio?: number;
  /** An outside reference figure in `unit` (e.g. a peer service on this machine kind) and our goal. */
  reference?: number;
  goal?: number;
  /** CPU of the platform's processes serving the scenario, per operation, in µs. */
  platformCpuUsPerOp?: number;
  /** CPU of the Kafka brokers and of the S3 server during the scenario, in % of one core. */
  kafkaCpuPct?: number;
  s3CpuPct?: number;
}

/** Appends the row to BENCH_REPORT when set (the runner sets it); a no-op otherwise. */
export function report(row: ReportRow): void {
  const file = process.env.BENCH_REPORT;
  if (!file) return;
  const bench = row.bench ?? process.env.BENCH_NAME ?? 'unnamed';
  appendFileSync(file, `${JSON.stringify({ ...row, bench })}\n`);
}

/** `rate / baselineRate`, or undefined when either is missing or the baseline is zero. */
export function rateRatio(rate?: number, baselineRate?: number): number | undefined {
  if (rate === undefined || baselineRate === undefined || baselineRate === 0) return undefined;
  return rate / baselineRate;
}

/** A report row from a load run (`bench/lib/load.ts`), its ratio to a same-run baseline's req/s. */
export function loadRow(
  scenario: string,
  result: LoadResult,
  baseline?: { scenario: string; result: LoadResult },
  extra: Partial<ReportRow> = {},
): ReportRow {
  return {
    scenario,
    unit: 'req/s',
    rate: result.perSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.errors,
    peakRssMiB: result.peakRssBytes === undefined ? undefined : result.peakRssBytes / 2 ** 20,
    baseline: baseline?.scenario,
    ratio: baseline ? rateRatio(result.perSecond, baseline.result.perSecond) : undefined,
    platformCpuUsPerOp: result.cpu.platformUsPerOp,
    kafkaCpuPct: result.cpu.infrastructurePct.kafka,
    s3CpuPct: result.cpu.infrastructurePct.s3,
    ...extra,
  };
}

/** Parses the JSON lines of a BENCH_REPORT file (blank lines skipped). */
export function parseReport(text: string): ReportRow[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ReportRow);
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? thousands(n) : n.toFixed(1));
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** 1 decimal from 10 up, 2 from 0.1 up, else 2 significant digits (0.0036): small ratios stay readable. */
export function formatRatioValue(ratio: number): string {
  if (ratio >= 10) return ratio.toFixed(1);
  if (ratio >= 0.1 || ratio === 0) return ratio.toFixed(2);
  return ratio.toPrecision(2);
}

function formatRatio(row: ReportRow): string {
  if (row.ratio === undefined) return row.baseline ? '—' : '';
  return `${formatRatioValue(row.ratio)} × ${cell(row.baseline ?? 'baseline')}`;
}

function formatReference(row: ReportRow): string {
  if (row.reference === undefined) return '';
  const goal = row.goal === undefined ? '' : `; goal ${thousands(row.goal)}`;
  const verdict =
    row.goal === undefined || row.rate === undefined
      ? ''
      : row.rate >= row.goal
        ? ' met'
        : ' not met';
  return `${thousands(row.reference)}${goal}${verdict}`;
}

function formatServers(row: ReportRow): string {
  if (row.kafkaCpuPct === undefined && row.s3CpuPct === undefined) return '';
  const pct = (n?: number) => (n === undefined ? '—' : `${Math.round(n)} %`);
  return `${pct(row.kafkaCpuPct)} / ${pct(row.s3CpuPct)}`;
}

export const REPORT_HEADER =
  '| bench | scenario | rate | p50 ms | p99 ms | errors | peak RSS MiB | ratio to same-run baseline | reference; goal | platform CPU µs/op | Kafka / S3 CPU, of a core | on the stand-ins |\n' +
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |';

/**
 * One markdown table of every row, in the order given (each bench's rows stay together). `standIns` maps
 * `bench|scenario` to the figure the same scenario had on the earlier stand-ins for Kafka and S3.
 */
export function formatReportTable(
  rows: readonly ReportRow[],
  standIns: Readonly<Record<string, string>> = {},
): string {
  const lines = rows.map((r) =>
    [
      r.bench ?? '',
      cell(r.scenario),
      r.rate === undefined ? '' : `${thousands(r.rate)} ${r.unit}`,
      r.p50Ms === undefined ? '' : ms(r.p50Ms),
      r.p99Ms === undefined ? '' : ms(r.p99Ms),
      r.errors === undefined ? '' : String(r.errors),
      r.peakRssMiB === undefined ? '' : thousands(r.peakRssMiB),
      formatRatio(r),
      formatReference(r),
      r.platformCpuUsPerOp === undefined ? '' : thousands(r.platformCpuUsPerOp),
      formatServers(r),
      cell(standIns[`${r.bench ?? ''}|${r.scenario}`] ?? ''),
    ].join(' | '),
  );
  return [REPORT_HEADER, ...lines.map((l) => `| ${l} |`)].join('\n');
}
