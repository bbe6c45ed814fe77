import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMsOfStat } from './process-cpu';

/**
 * What wrk sends: `paths` in turn, each with the same headers and body. `{n}` in a path or the body is the
 * request's number in the run (1, 2, ...): a unique name per request when the caller makes the rest of
 * the name unique per run.
 */
export interface WrkLoad {
  method: 'GET' | 'POST';
  paths: readonly string[];
  headers?: Record<string, string>;
  body?: string;
}

export interface WrkResult {
  requests: number;
  /** Answers outside 2xx/3xx, timeouts and socket errors. */
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** wrk's own CPU (user + system) over its whole run, from its /proc/self/stat at the end, in ms. */
  cpuMs: number;
}

/** A Lua string literal of any text (every byte outside printable ASCII as a decimal escape). */
function lua(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text)) {
    const c = String.fromCharCode(byte);
    out += byte < 32 || byte > 126 || c === '"' || c === '\\' ? `\\${byte}` : c;
  }
  return `${out}"`;
}

/**
 * The Lua script: one request per call from the load's paths, and at the end one line of figures for
 * `runWrk` (latencies in µs, errors of every kind, wrk's own /proc/self/stat).
 */
function script(load: WrkLoad): string {
  const headers = Object.entries(load.headers ?? {})
    .map(([name, value]) => `[${lua(name)}] = ${lua(value)}`)
    .join(', ');
  return `local paths = { ${load.paths.map(lua).join(', ')} }
local headers = { ${headers} }
local body = ${load.body === undefined ? 'nil' : lua(load.body)}
local n = 0
local function fill(s) return s and (s:gsub("{n}", n)) end
request = function()
  n = n + 1
  return wrk.format(${lua(load.method)}, fill(paths[(n - 1) % #paths + 1]), headers, fill(body))
end
done = function(summary, latency, requests)
  local e = summary.errors
  local f = io.open("/proc/self/stat")
  local stat = f:read("*l")
  f:close()
  io.write(string.format("WRK %d %d %d %d %d %s\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),
    latency:percentile(99), stat))
end
`;
}

/**
 * Runs `wrk -t1 -c<connections> -d<seconds>` against `url` with the load as a Lua script (one thread, so
 * that `{n}` is unique in the run), and resolves when wrk has exited.
 */
export async function runWrk(opts: {
  url: string;
  connections: number;
  durationMs: number;
  load: WrkLoad;
}): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wrk-'));
  const file = join(dir, 'load.lua');
  writeFileSync(file, script(opts.load));
  try {
    const args = [
      '-t1',
      `-c${opts.connections}`,
      `-d${opts.durationMs / 1000}s`,
      '--timeout',
      '10s',
    ];
    const child = spawn('wrk', [...args, '-s', file, opts.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    const line = /^WRK (\d+) (\d+) (\d+) (\d+) (\d+) (.*)$/m.exec(out);
    if (code !== 0 || !line) throw new Error(`wrk exited with ${code}:\n${out}`);
    const [requests, durationUs, errors, p50Us, p99Us] = line.slice(1, 6).map(Number);
    return {
      requests,
      errors,
      perSecond: (requests / durationUs) * 1e6,
      p50Ms: p50Us / 1000,
      p99Ms: p99Us / 1000,
      cpuMs: cpuMsOfStat(line[6]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
