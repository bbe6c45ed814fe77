// Static checks of docker/Dockerfile and .dockerignore: stages, cache-friendly layer order,
// production-only runtime, non-root user, APP-parametrized entry point, and a build context
// that contains what the build copies and nothing it should not.
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { APP_NAMES, REPO_ROOT } from './platform';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): { globalArgs: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\r?\n/g, ' ') // line continuations
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!keyword) throw new Error(`unparsable Dockerfile line: ${line}`);
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_m, v: string) => globalArgs[v] ?? '');
      stages.push({ name: name ?? String(stages.length), from: resolved, instructions: [] });
    } else if (stages.length === 0) {
      if (upper !== 'ARG') throw new Error(`${upper} before the first FROM`);
      const [key, value = ''] = args.split('=');
      globalArgs[key] = value;
    } else {
      stages[stages.length - 1].instructions.push({ keyword: upper, args: args.trim() });
    }
  }
  return { globalArgs, stages };
}

/** `.dockerignore` semantics: the last matching rule wins; a rule also matches a path's parents. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      const source = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => {
          if (part === '**/') return '(?:.*/)?';
          if (part === '**') return '.*';
          if (part === '*') return '[^/]*';
          if (part === '?') return '[^/]';
          return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return (path: string) => {
    const parts = path.split('/');
    const candidates = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.regex.test(c))) excluded = !rule.negate;
    }
    return excluded;
  };
}

const { stages } = parseDockerfile(readFileSync(join(REPO_ROOT, 'docker', 'Dockerfile'), 'utf8'));
const isIgnored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));

const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage named ${name}`);
  return found;
};
const runtime = stages[stages.length - 1];
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const copies = (s: Stage) => s.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);

/** Build-context paths a COPY reads (none for COPY --from=<stage>). */
function contextSources(copyArgs: string): string[] {
  if (/--from=/.test(copyArgs)) return [];
  const paths = copyArgs
    .replace(/--\S+\s+/g, '')
    .split(/\s+/)
    .slice(0, -1);
  return paths.map((p) => p.replace(/^\.\//, ''));
}

/** The stage chain a stage builds on (itself first). */
function lineage(s: Stage): Stage[] {
  const parent = stages.find((p) => p.name === s.from);
  return parent ? [s, ...lineage(parent)] : [s];
}

describe('docker/Dockerfile', () => {
  it('should build every stage on node:24-bookworm-slim, the active LTS line', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    for (const s of stages) {
      const root = lineage(s).at(-1);
      expect({ stage: s.name, base: root?.from }).toEqual({
        stage: s.name,
        base: 'node:24-bookworm-slim',
      });
    }
  });

  it('should install dependencies from the lockfile before copying sources', () => {
    const installs = stages.filter((s) => runs(s).some((r) => /\bnpm (install|ci)\b/.test(r)));
    // `npm ci`: exactly the lock file, never a rewrite of it.
    expect(installs.flatMap(runs).filter((r) => /\bnpm install\b/.test(r))).toEqual([]);
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const s of installs) {
      const index = s.instructions.findIndex(
        (i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args),
      );
      const before = s.instructions.slice(0, index).filter((i) => i.keyword === 'COPY');
      expect({ stage: s.name, copied: before.map((i) => i.args) }).toEqual({
        stage: s.name,
        copied: ['package.json package-lock.json ./'],
      });
    }
  });

  it('should compile in a build stage that has every source folder', () => {
    const build = stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
    expect(build).toBeDefined();
    const copied = lineage(build as Stage)
      .flatMap(copies)
      .flatMap(contextSources);
    expect(copied).toEqual(
      expect.arrayContaining([
        'tsconfig.json',
        'tsconfig.build.json',
        '.swcrc',
        'apps',
        'libs',
        'tools',
      ]),
    );
  });

  it('should ship only production dependencies and the compiled output', () => {
    const fromStages = copies(runtime)
      .map((c) => /^--from=(\S+)\s+(\S+)/.exec(c))
      .filter((m) => m !== null)
      .map((m) => ({ stage: stage(m[1]), path: m[2] }));
    const nodeModules = fromStages.find((c) => c.path === '/app/node_modules');
    expect(runs(nodeModules?.stage as Stage).join(' ')).toMatch(/npm ci --omit=dev/);
    const dist = fromStages.find((c) => c.path === '/app/dist');
    expect(
      lineage(dist?.stage as Stage)
        .flatMap(runs)
        .join(' '),
    ).toMatch(/npm run build/);
    expect(runs(runtime).join(' ')).not.toMatch(/\bnpm (ci|install)\b/);
  });

  it('should run as the unprivileged node user in production mode', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.at(-1)).toBe('node');
    const env = runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    expect(env).toContain('NODE_ENV=production');
  });

  it('should start dist/apps/${APP}/src/main.js, APP being a build arg and an env var', () => {
    const keywords = runtime.instructions.map((i) => `${i.keyword} ${i.args}`);
    expect(keywords).toContain('ARG APP=gateway');
    expect(keywords).toContain('ENV APP=${APP}');
    const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '';
    const argv = JSON.parse(cmd) as string[];
    expect(argv.join(' ')).toContain('exec node dist/apps/${APP}/src/main.js');
    // A PID 1 that forwards SIGTERM, so the app shuts down gracefully.
    const entrypoint = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
    expect(JSON.parse(entrypoint?.args ?? '[]')).toEqual(['/usr/bin/tini', '--']);
  });

  it('should expose every app port', () => {
    const exposed = runtime.instructions
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/).map(Number));
    expect(exposed).toEqual([3000, 3001, 3002, 3003, 3004]);
    expect(APP_NAMES).toHaveLength(exposed.length);
  });
});

describe('.dockerignore', () => {
  it('should send every file the Dockerfile copies', () => {
    const sources = stages.flatMap(copies).flatMap(contextSources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: existsSync(join(REPO_ROOT, source)) }).toEqual({
        source,
        exists: true,
      });
    }
    const sample = [
      ...sources,
      'apps/gateway/src/main.ts',
      'libs/config/src/index.ts',
      'tools/cli/main.ts',
    ];
    expect(sample.filter(isIgnored)).toEqual([]);
  });

  it('should keep the test and local-run code out of the image', () => {
    const kept = [
      'libs/testing/src/test-platform.ts',
      'tools/local/start.ts',
      'tools/local-servers/kafka/kafka-cluster.ts',
      'tools/local-servers/s3/pom.xml',
    ].filter((path) => !isIgnored(path));
    expect(kept).toEqual([]);
  });

  it('should keep local state, secrets and tests out of the build context', () => {
    const kept = [
      '.git/HEAD',
      '.env',
      'apps/gateway/.env.local',
      '.local/kafka/broker.log',
      'node_modules/yaml/package.json',
      'dist/apps/gateway/src/main.js',
      'coverage/lcov.info',
      'k8s/base/secret.yaml',
      'test/unit/deploy/compose.spec.ts',
      'apps/gateway/src/app.controller.spec.ts',
      'apps/storage/test/storage.int-spec.ts',
    ].filter((path) => !isIgnored(path));
    expect(kept).toEqual([]);
  });
});
