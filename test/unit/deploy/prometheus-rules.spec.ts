// The alerting rules of k8s/monitoring: each alert has a severity, a summary and a runbook that exists, and
// every metric it reads is one the apps export (registered by name in their code), so a renamed metric
// cannot leave an alert that never fires.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './platform';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; runbook_url: string };
}

const document = parse(
  readFileSync(join(REPO_ROOT, 'k8s', 'monitoring', 'prometheus-rules.yaml'), 'utf8'),
) as { apiVersion: string; kind: string; spec: { groups: { name: string; rules: Rule[] }[] } };
const rules = document.spec.groups.flatMap((g) => g.rules);

/** Every `.ts` file under `dir`, tests aside. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(name) ? [path] : [];
  });
}

/** Metric names the apps' and libs' code registers: snake_case string literals of three words or more. */
const registered = new Set(
  ['apps', 'libs']
    .flatMap((dir) => sources(join(REPO_ROOT, dir)))
    .flatMap((file) => [
      ...readFileSync(file, 'utf8').matchAll(/'([a-z][a-z0-9]*(?:_[a-z0-9]+){2,})'/g),
    ])
    .map((m) => m[1]),
);
// Named by a template from the consumer's counter keys (exportConsumerMetrics in @lib/app).
for (const key of ['processed', 'duplicates', 'dead_lettered', 'failed_batches', 'crashes']) {
  registered.add(`events_consumer_${key}_total`);
}

describe('k8s/monitoring/prometheus-rules.yaml', () => {
  it('should be a PrometheusRule of the platform', () => {
    expect(document).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
    });
    expect(rules.length).toBeGreaterThanOrEqual(8);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it.each(rules.map((r) => [r.alert, r] as const))(
    'should give %s a severity, a summary and a runbook that exists',
    (_alert, rule) => {
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      expect(rule.annotations.runbook_url).toMatch(/^docs\/runbooks\/[a-z0-9-]+\.md$/);
      expect(existsSync(join(REPO_ROOT, rule.annotations.runbook_url))).toBe(true);
    },
  );

  it.each(rules.map((r) => [r.alert, r] as const))(
    'should read only metrics the apps export: %s',
    (_alert, rule) => {
      const names = [
        ...rule.expr.matchAll(/\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s*(?=\s*(?:[{[)]|[<>]|==))/g),
      ]
        .map((m) => m[1])
        .filter((n) => !['by', 'rate', 'increase', 'sum', 'max'].includes(n))
        // A histogram's series: its name with _count, _sum or _bucket.
        .map((n) => n.replace(/_(count|sum|bucket)$/, ''));
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !registered.has(n))).toEqual([]);
    },
  );

  it('should list every runbook in the runbooks index', () => {
    const index = readFileSync(join(REPO_ROOT, 'docs', 'runbooks', 'README.md'), 'utf8');
    const pages = readdirSync(join(REPO_ROOT, 'docs', 'runbooks')).filter((f) => f !== 'README.md');
    expect(pages.filter((page) => !index.includes(`(${page})`))).toEqual([]);
  });
});
