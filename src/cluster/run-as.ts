/**
 * PostgreSQL refuses to run as root: when esbench is root, its programs run as an unprivileged
 * OS user (src/cluster/os-user.ts picks it), and the files they need are handed over to that user.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { binPath, type PgBinaries } from './binaries.ts';
import type { OsUser } from './os-user.ts';

export type PgProgram = 'initdb' | 'pg_ctl' | 'postgres';

/** Runs a PostgreSQL program as `user` (or as we are, when undefined); rejects with its output on failure. */
export function runPgProgram(
  bins: PgBinaries,
  user: OsUser | undefined,
  program: PgProgram,
  args: string[],
  options: { cwd: string; timeoutMs?: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binPath(bins, program), args, {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      cwd: options.cwd,
      // pg_ctl's postmaster must outlive us; it detaches by itself, we only wait for pg_ctl.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${program} ${args.join(' ')} exited with ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
    });
  });
}

/** Gives `target` and everything under it to `user` (nothing to do when we run as ourselves). */
export function chownTree(user: OsUser | undefined, target: string): void {
  if (!user) return;
  fs.chownSync(target, user.uid, user.gid);
  if (fs.statSync(target).isDirectory()) {
    for (const entry of fs.readdirSync(target)) chownTree(user, path.join(target, entry));
  }
}
