/**
 * Is a node's postgres running, and which processes belong to it? postmaster.pid alone cannot say:
 * after an unclean stop the file stays behind and its pid may since belong to another process, and
 * backends of a killed postmaster live on. /proc (src/core/proc.ts) tells them apart on Linux.
 */
import fs from 'node:fs';
import path from 'node:path';
import { listPids, procCwd, procExeName } from '../core/proc.ts';
import { isZombie } from './process.ts';

/** The pid recorded in the data directory's postmaster.pid (alive or not), or null. */
export function recordedPid(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Does `pid` run in the data directory `dir`? Every postgres process (postmaster and children)
 * has its data directory as working directory. true / false from /proc; undefined where that
 * cannot be read (no /proc, no permission): callers then keep trusting the pid file.
 */
export function attachedTo(pid: number, dir: string): boolean | undefined {
  const cwd = procCwd(pid);
  if (cwd === undefined) return undefined;
  try {
    return cwd === fs.realpathSync(dir);
  } catch {
    return false;
  }
}

/** A postgres binary (so a shell someone left in the data directory is never taken for one). */
function isPostgres(pid: number): boolean {
  return procExeName(pid) === 'postgres';
}

/**
 * The pid in postmaster.pid when that process is alive and is this data directory's postgres,
 * else null. Pids are reused (from 1 again after a container restart): trusting kill(pid, 0) alone
 * made `cluster up` skip the start and `cluster down` signal a stranger.
 */
export function postmasterPid(dataDir: string): number | null {
  const pid = recordedPid(dataDir);
  if (pid === null) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  if (isZombie(pid)) return null;
  return attachedTo(pid, dataDir) === false ? null : pid;
}

/**
 * Postgres processes still attached to the data directory although its postmaster is gone:
 * backends of a postmaster killed with SIGKILL live on until their statement ends, and PostgreSQL
 * refuses to start while they hold the old shared memory. Linux only; elsewhere the list is empty.
 */
export function orphanedBackends(dataDir: string): number[] {
  if (postmasterPid(dataDir) !== null) return [];
  return listPids().filter(
    (pid) => pid !== process.pid && attachedTo(pid, dataDir) === true && isPostgres(pid) && !isZombie(pid),
  );
}
