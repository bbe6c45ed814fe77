import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 10 ms. */
const TICK_MS = 10;

/** User + system CPU time in ms from the text of a /proc/<pid>/stat. */
export function cpuMsOfStat(stat: string): number {
  // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 14th
  // field of the line, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** User + system CPU time of a process in ms, or undefined once it exited. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    return cpuMsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The processes of this machine whose command name (/proc/<pid>/comm) is `name`, e.g. every `postgres`. */
export function pidsNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
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

/**
 * CPU of named groups of processes over a window, in ms per group. Each group's pids are looked up at
 * both ends: a process born in the window counts from zero, one gone by the end is not counted.
 */
export function startGroupCpu(groups: Record<string, () => readonly number[]>): {
  end(): Record<string, number>;
} {
  const before = new Map(
    Object.entries(groups).map(([name, pids]) => [
      name,
      new Map(pids().map((pid) => [pid, cpuMsOf(pid) ?? 0])),
    ]),
  );
  return {
    end() {
      return Object.fromEntries(
        Object.entries(groups).map(([name, pids]) => {
          const start = before.get(name) ?? new Map<number, number>();
          const ms = pids().reduce((sum, pid) => {
            const now = cpuMsOf(pid);
            return now === undefined ? sum : sum + now - (start.get(pid) ?? 0);
          }, 0);
          return [name, ms];
        }),
      );
    },
  };
}
