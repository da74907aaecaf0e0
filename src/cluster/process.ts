import { readProcStat } from '../core/proc.ts';

/**
 * A killed postmaster whose parent (pg_ctl, gone) was reparented to an init that does not reap
 * stays a zombie: kill(pid, 0) still succeeds. Linux tells us through /proc; elsewhere we trust kill.
 */
export function isZombie(pid: number): boolean {
  return readProcStat(pid)?.state === 'Z';
}

/** The process exists and is not a zombie (a killed process nobody reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

