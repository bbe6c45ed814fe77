import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

/** The pid of the process listening on a TCP port of this machine (Linux /proc), or throws. */
export function pidListeningOn(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; column 9 is the socket inode.
      if (cols.length > 9 && cols[1].endsWith(`:${hexPort}`) && cols[3] === '0A')
        inodes.add(cols[9]);
    }
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      } catch {
        /* closed meanwhile */
      }
    }
  }
  throw new Error(`no process listens on port ${port}`);
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) * 1024;
}

/** Resident memory now, in bytes. */
export const rssOf = (pid: number) => statusField(pid, 'VmRSS');

/** Peak resident memory since start or since `resetPeakRss`, in bytes. */
export const peakRssOf = (pid: number) => statusField(pid, 'VmHWM');

/** Resets the process's peak RSS to its current RSS (Linux `clear_refs` 5). */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/**
 * The processes serving each origin under load, so that `runLoad` (bench/lib/load.ts) can report their
 * peak RSS during a run: registered once per origin (e.g. every app of the platform for each app's URL,
 * since a gateway request is served by several of them; a baseline server's own process for its URL).
 */
const servingPids = new Map<string, number[]>();

export function watchServingProcesses(origin: string, pids: number[]): void {
  servingPids.set(new URL(origin).origin, pids);
}

/** Registers every app of a running platform (its `urls`) as serving each of those URLs. */
export function watchPlatform(urls: Record<string, string>): number[] {
  const pids = Object.values(urls).map((u) => pidListeningOn(Number(new URL(u).port)));
  for (const url of Object.values(urls)) watchServingProcesses(url, pids);
  return pids;
}

export function processesServing(origin: string): number[] {
  return servingPids.get(new URL(origin).origin) ?? [];
}

/** Resets the peak RSS of each process (ones that exited meanwhile are skipped). */
export function resetPeakRssOfAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      resetPeakRss(pid);
    } catch {
      /* exited */
    }
  }
}

/** The sum of the processes' peak RSS in bytes (since start or reset), or undefined for none. */
export function summedPeakRss(pids: readonly number[]): number | undefined {
  let sum = 0;
  let seen = 0;
  for (const pid of pids) {
    try {
      const peak = peakRssOf(pid);
      if (!Number.isNaN(peak)) {
        sum += peak;
        seen++;
      }
    } catch {
      /* exited */
    }
  }
  return seen === 0 ? undefined : sum;
}
