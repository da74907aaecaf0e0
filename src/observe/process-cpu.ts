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
import { listPids, readProcStat } from '../core/proc.ts';

/**
 * /proc reports these times in clock ticks of USER_HZ, which the kernel fixes at 100 per second
 * for user space on every Linux architecture (what `getconf CLK_TCK` prints), whatever the
 * kernel's internal HZ is.
 */
const USER_HZ = 100;

export { parseProcStat, type ProcStat } from '../core/proc.ts';

/**
 * CPU seconds (user + system) used so far by `rootPid`, its live direct children, and its
 * children that have exited and been reaped. Null when not on Linux or when the root's
 * /proc/<pid>/stat cannot be read (no such process). Reads every /proc/<pid>/stat once: cheap
 * enough for a sample every few seconds, not for a tight loop.
 */
export function processTreeCpuSeconds(rootPid: number): number | null {
  if (process.platform !== 'linux' || !Number.isInteger(rootPid) || rootPid <= 0) return null;
  const root = readProcStat(rootPid);
  if (root === null) return null;
  let ticks = root.selfTicks + root.reapedChildrenTicks;
  for (const pid of listPids()) {
    if (pid === rootPid) continue;
    const s = readProcStat(pid);
    if (s !== null && s.ppid === rootPid) ticks += s.selfTicks;
  }
  return ticks / USER_HZ;
}
