/**
 * PostgreSQL refuses to run as root. When esbench itself runs as root, its postgres processes run
 * as an unprivileged user (spawn's uid/gid) that owns the data directories.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { EsbenchError } from '../core/errors.ts';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

function lookup(name: string): OsUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** undefined = run postgres as the current user (not root). */
export function resolveRunAs(configured: string | undefined): OsUser | undefined {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) return undefined;
  if (configured) {
    const user = lookup(configured);
    if (!user) throw new EsbenchError('BAD_CONFIG', `run-as user '${configured}' does not exist`);
    if (user.uid === 0) throw new EsbenchError('BAD_CONFIG', 'PostgreSQL cannot run as root: choose an unprivileged --run-as user');
    return user;
  }
  const user = lookup('postgres') ?? lookup('nobody');
  if (!user) throw new EsbenchError('BAD_CONFIG', "running as root, and neither a 'postgres' nor a 'nobody' user exists: pass --run-as USER");
  return user;
}

/** Can `user` read and execute this file (all parent directories traversable)? */
export function canExecute(user: OsUser | undefined, file: string): boolean {
  if (!user) return true;
  const r = spawnSync(file, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return r.status === 0;
}

/** Can `user` create files in this directory? */
export function canWrite(user: OsUser | undefined, dir: string): boolean {
  if (!user) return true;
  const r = spawnSync('test', ['-w', dir, '-a', '-x', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return r.status === 0;
}
