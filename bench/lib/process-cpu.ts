import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 10 ms. */
const TICK_MS = 10;

/** User + system CPU time of a process in ms, or undefined once it exited. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 14th
    // field of the line, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

const summed = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + (cpuMsOf(pid) ?? 0), 0);

/**
 * The servers a bench's platform runs on besides its own apps (Kafka brokers, the S3 server), by name: each
 * load run reports the share of a core they took, since they are real servers whose cost is a fact to
 * report, not the platform's.
 */
const infrastructure = new Map<string, readonly number[]>();

export function watchInfrastructure(name: string, pids: readonly number[]): void {
  infrastructure.set(name, pids);
}

export interface CpuWindow {
  /** Platform CPU (the processes serving the load) per operation, in µs. */
  platformUsPerOp?: number;
  /** Each watched server's CPU as a share of one core during the window, in %. */
  infrastructurePct: Record<string, number>;
}

/** Starts measuring CPU; `end(operations)` gives the window's figures. */
export function startCpuWindow(platformPids: readonly number[]): {
  end(operations: number): CpuWindow;
} {
  const started = performance.now();
  const platformBefore = summed(platformPids);
  const before = new Map([...infrastructure].map(([name, pids]) => [name, summed(pids)]));
  return {
    end(operations) {
      const elapsedMs = performance.now() - started;
      const infrastructurePct: Record<string, number> = {};
      for (const [name, pids] of infrastructure) {
        infrastructurePct[name] = ((summed(pids) - (before.get(name) ?? 0)) / elapsedMs) * 100;
      }
      const platformMs = summed(platformPids) - platformBefore;
      return {
        platformUsPerOp:
          platformPids.length > 0 && operations > 0 ? (platformMs * 1000) / operations : undefined,
        infrastructurePct,
      };
    },
  };
}
