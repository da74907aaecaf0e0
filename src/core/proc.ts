/**
 * Linux /proc, read in one place: process status and CPU ticks (/proc/<pid>/stat), working
 * directory and executable (/proc/<pid>/cwd, /exe), and the list of pids. Every reader answers
 * null / undefined / [] where /proc is missing or the process is gone or not readable.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  /** utime + stime, ticks. */
  selfTicks: number;
  /** cutime + cstime, ticks. */
  reapedChildrenTicks: number;
}

/**
 * Parses one /proc/<pid>/stat line (man 5 proc; 1-based fields: 2 comm, 3 state, 4 ppid, 14 utime,
 * 15 stime, 16 cutime, 17 cstime). comm can hold anything, ')' included, so the fields after it
 * are found from the LAST ')' of the line; null for anything that does not look like a stat line.
 */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  // After ") ": field 3 (state) is rest[0], so field n is rest[n - 3].
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number): number => Number(rest[n - 3]);
  const ppid = field(4);
  const utime = field(14);
  const stime = field(15);
  const cutime = field(16);
  const cstime = field(17);
  if (![ppid, utime, stime, cutime, cstime].every(Number.isFinite)) return null;
  return { state: rest[0] ?? '', ppid, selfTicks: utime + stime, reapedChildrenTicks: cutime + cstime };
}

export function readProcStat(pid: number | string): ProcStat | null {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    // Gone between the directory listing and the read, or not readable.
    return null;
  }
}

/** Every pid in /proc ([] without /proc). */
export function listPids(): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number);
  } catch {
    return [];
  }
}

/** The process's working directory, or undefined when /proc cannot tell (no /proc, no permission, gone). */
export function procCwd(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The file name of the process's executable ("(deleted)" suffix removed: replaced while running). */
export function procExeName(pid: number): string | undefined {
  try {
    return path.basename(fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, ''));
  } catch {
    return undefined;
  }
}

/** Whether this system has a /proc to read. */
export function hasProc(): boolean {
  return fs.existsSync('/proc/self/cwd');
}
