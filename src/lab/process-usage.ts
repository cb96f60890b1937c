/** Resident memory and CPU time of a running process, from /proc (proc(5): status VmRSS, stat utime/stime). */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat times (sysconf(_SC_CLK_TCK); 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  readonly pid: number;
  /** Resident set size in KiB. */
  readonly rssKiB: number;
  /** User plus system CPU time of all threads, in seconds. */
  readonly cpuSeconds: number;
}

export class ProcessUsageError extends Error {
  override readonly name = 'ProcessUsageError';
}

/** Reads the usage of `pid` now. Throws ProcessUsageError when the process is gone. */
export function readProcessUsage(pid: number): ProcessUsage {
  let status: string;
  let stat: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    throw new ProcessUsageError(`process usage: PID ${pid} has no /proc entry; the process exited before it could be measured`);
  }
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  // Fields after the command name (which may contain spaces and parentheses) start at field 3;
  // utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (rss === null || !Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new ProcessUsageError(`process usage: /proc/${pid}/status or /proc/${pid}/stat has an unexpected format (no VmRSS, utime or stime)`);
  }
  return { pid, rssKiB: Number(rss[1]), cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_SECOND };
}
