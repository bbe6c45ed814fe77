import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatRatioValue,
  formatReportTable,
  loadRow,
  parseReport,
  rateRatio,
  report,
  REPORT_HEADER,
} from './report';

const result = (perSecond: number) => ({
  requests: perSecond * 10,
  errors: 1,
  perSecond,
  p50Ms: 1.234,
  p99Ms: 123.4,
  maxMs: 200,
  peakRssBytes: 300 * 2 ** 20,
  cpu: { platformUsPerOp: 812.5, infrastructurePct: { kafka: 12.5, s3: 40 } },
});

describe(rateRatio.name, () => {
  it('should divide the rate by the baseline rate when both are given', () => {
    expect(rateRatio(50, 200)).toBe(0.25);
  });

  it('should give no ratio when the baseline is missing or zero', () => {
    expect(rateRatio(50, undefined)).toBeUndefined();
    expect(rateRatio(50, 0)).toBeUndefined();
    expect(rateRatio(undefined, 10)).toBeUndefined();
  });
});

describe(formatRatioValue.name, () => {
  it('should keep two significant digits when the ratio is below 0.1', () => {
    expect(formatRatioValue(0.003612)).toBe('0.0036');
    expect(formatRatioValue(0.05)).toBe('0.050');
  });

  it('should use two decimals from 0.1 and one from 10', () => {
    expect(formatRatioValue(0.256)).toBe('0.26');
    expect(formatRatioValue(120.64)).toBe('120.6');
    expect(formatRatioValue(0)).toBe('0.00');
  });
});

describe(loadRow.name, () => {
  it('should carry the rate, latencies, errors, peak RSS in MiB, CPU figures and the ratio to the baseline', () => {
    const row = loadRow('get', result(100), { scenario: 'bare', result: result(400) });

    expect(row).toEqual({
      scenario: 'get',
      unit: 'req/s',
      rate: 100,
      p50Ms: 1.234,
      p99Ms: 123.4,
      errors: 1,
      peakRssMiB: 300,
      baseline: 'bare',
      ratio: 0.25,
      platformCpuUsPerOp: 812.5,
      kafkaCpuPct: 12.5,
      s3CpuPct: 40,
    });
  });

  it('should have no ratio when there is no baseline', () => {
    const row = loadRow('bare', result(400));

    expect(row.baseline).toBeUndefined();
    expect(row.ratio).toBeUndefined();
  });
});

describe(formatReportTable.name, () => {
  it('should print one row per report, with units, ratio, reference, goal verdict, CPU and stand-in figures', () => {
    const table = formatReportTable(
      [
        {
          bench: 'reference',
          scenario: 'bare',
          unit: 'req/s',
          rate: 4507.4,
          p50Ms: 1.23,
          p99Ms: 12.2,
        },
        {
          bench: 'reference',
          scenario: 'download URL `GET /v1/objects/{id}/download`',
          unit: 'req/s',
          rate: 3500,
          p50Ms: 2.5,
          p99Ms: 1234.5,
          errors: 0,
          peakRssMiB: 704.4,
          baseline: 'bare',
          ratio: 0.7765,
          reference: 1649,
          goal: 3298,
          platformCpuUsPerOp: 812.4,
          kafkaCpuPct: 0.4,
          s3CpuPct: 38.6,
        },
        {
          bench: 'usage',
          scenario: 'aggregator',
          unit: 'events/s',
          rate: 14800,
          ratio: 0.14,
          baseline: 'raw',
          kafkaCpuPct: 61,
        },
      ],
      { 'usage|aggregator': '16,648 events/s' },
    );

    expect(table.split('\n')).toEqual([
      ...REPORT_HEADER.split('\n'),
      '| reference | bare | 4,507 req/s | 1.2 | 12.2 |  |  |  |  |  |  |  |',
      '| reference | download URL `GET /v1/objects/{id}/download` | 3,500 req/s | 2.5 | 1,235 | 0 | 704 | 0.78 × bare | 1,649; goal 3,298 met | 812 | 0 % / 39 % |  |',
      '| usage | aggregator | 14,800 events/s |  |  |  |  | 0.14 × raw |  |  | 61 % / — | 16,648 events/s |',
    ]);
  });

  it('should say not met when the rate is below the goal', () => {
    const table = formatReportTable([
      { scenario: 'upload', unit: 'req/s', rate: 12, reference: 274, goal: 548 },
    ]);

    expect(table).toContain('| 274; goal 548 not met |');
  });

  it('should escape pipes in scenario names when a name holds one', () => {
    const table = formatReportTable([{ scenario: 'type=attachment|inline', unit: 'req/s' }]);

    expect(table).toContain('type=attachment\\|inline');
  });
});

describe(report.name, () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('should append JSON lines named by BENCH_NAME when BENCH_REPORT is set', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'report-')), 'rows.jsonl');
    process.env.BENCH_REPORT = file;
    process.env.BENCH_NAME = 'objects';

    report({ scenario: 'a', unit: 'req/s', rate: 1 });
    report({ bench: 'own', scenario: 'b', unit: 'req/s', rate: 2 });

    expect(parseReport(readFileSync(file, 'utf8'))).toEqual([
      { bench: 'objects', scenario: 'a', unit: 'req/s', rate: 1 },
      { bench: 'own', scenario: 'b', unit: 'req/s', rate: 2 },
    ]);
  });
});
