/**
 * CPU time of a process tree, read from Linux /proc: the process itself, its live direct
 * children, and the children it has already reaped.
 *
 * Made for a PostgreSQL postmaster: every backend and auxiliary process (checkpointer, walwriter,
 * autovacuum workers, walsender / walreceiver, ...) is a direct child of it, and the backends of
 * closed connections exit and are reaped by it. Sampled twice, the difference is the CPU the
 * whole server used in between, wherever it was spent.
 *
 * Per process, /proc/<pid>/stat gives (1-based fields, man 5 proc):
 *   2 comm (in parentheses; may itself contain spaces and ')'),  4 ppid,
 *   14 utime, 15 stime    CPU of the process (all its threads) so far,
 *   16 cutime, 17 cstime  CPU of the children it has waited for (exited and reaped).
 * The tree's CPU = utime + stime of the root and of each live child + cutime + cstime of the root.
 * A child's CPU moves from the live sum into the root's cutime when it is reaped, so the total
 * keeps growing smoothly. A child that exits during a scan may be missed or counted twice for
 * that one reading (the scan is not atomic); the error is at most that child's CPU, once.
 *
 * Linux only; elsewhere (no /proc) the answer is null.
 */
import fs from 'node:fs';

/**
 * /proc reports these times in clock ticks of USER_HZ, which the kernel fixes at 100 per second
 * for user space on every Linux architecture (what `getconf CLK_TCK` prints), whatever the
 * kernel's internal HZ is.
 */
const USER_HZ = 100;

export interface ProcStat {
  ppid: number;
  /** utime + stime, ticks. */
  selfTicks: number;
  /** cutime + cstime, ticks. */
  reapedChildrenTicks: number;
}

/**
 * Parses one /proc/<pid>/stat line. comm can hold anything, ')' included, so the fields after it
 * are found from the LAST ')' of the line; null for anything that does not look like a stat line.
 */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  // After ") ": field 3 (state) is rest[0], so field n is rest[n - 3].
  const rest = line.slice(close + 1).trim().split(/\s+/);
  const field = (n: number): number => Number(rest[n - 3]);
  const ppid = field(4);
  const utime = field(14);
  const stime = field(15);
  const cutime = field(16);
  const cstime = field(17);
  if (![ppid, utime, stime, cutime, cstime].every(Number.isFinite)) return null;
  return { ppid, selfTicks: utime + stime, reapedChildrenTicks: cutime + cstime };
}

function readStat(pid: number | string): ProcStat | null {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    // Gone between the directory listing and the read, or not readable: not counted.
    return null;
  }
}

/**
 * CPU seconds (user + system) used so far by `rootPid`, its live direct children, and its
 * children that have exited and been reaped. Null when not on Linux or when the root's
 * /proc/<pid>/stat cannot be read (no such process). Reads every /proc/<pid>/stat once: cheap
 * enough for a sample every few seconds, not for a tight loop.
 */
export function processTreeCpuSeconds(rootPid: number): number | null {
  if (process.platform !== 'linux' || !Number.isInteger(rootPid) || rootPid <= 0) return null;
  const root = readStat(rootPid);
  if (root === null) return null;
  let ticks = root.selfTicks + root.reapedChildrenTicks;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return null;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === rootPid) continue;
    const s = readStat(e);
    if (s !== null && s.ppid === rootPid) ticks += s.selfTicks;
  }
  return ticks / USER_HZ;
}
