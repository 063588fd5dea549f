import { readdirSync, readFileSync } from 'node:fs';

/** Linux's clock ticks per second for /proc times (USER_HZ; 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of a process (ms) from /proc; 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** `pid` and every process below it (e.g. a PostgreSQL postmaster and its backends). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* gone meanwhile */
    }
  }
  const tree: number[] = [];
  for (const queue = [pid]; queue.length;) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** CPU ms per process id, per group. */
export type CpuSnapshot = Record<string, Map<number, number>>;

/**
 * CPU time spent by named groups of processes over a stretch of a benchmark: CPU per unit of
 * work stays meaningful on a shared machine, where wall-clock throughput does not. Groups are
 * re-read at each snapshot; a process that exits in between loses what it spent since the
 * first snapshot (pools keep their connections, so this is small), and one that appears counts
 * whole.
 */
export class CpuMeter {
  constructor(private readonly groups: Record<string, () => number[]>) {}

  snapshot(): CpuSnapshot {
    const out: CpuSnapshot = {};
    for (const [name, pids] of Object.entries(this.groups))
      out[name] = new Map(pids().map((pid) => [pid, processCpuMs(pid)]));
    return out;
  }

  /** CPU ms each group spent between two snapshots. */
  static since(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(after)) {
      let total = 0;
      for (const [pid, ms] of pids) total += Math.max(0, ms - (before[name]?.get(pid) ?? 0));
      out[name] = total;
    }
    return out;
  }
}
