/**
 * The results directory: `<root>/<id>/*.json`. esbench only writes into a root it created (marked
 * by `.esbench-results`) or an empty/new one, so a typo cannot scatter files into someone's folder.
 * JSON is written atomically (temp file + rename): a result is whole or absent.
 */
import fs from 'node:fs';
import { writeJsonAtomic } from '../core/atomic-file.ts';
import path from 'node:path';
import { EsbenchError } from '../core/errors.ts';

const MARKER = '.esbench-results';

export function openResultsRoot(root: string): string {
  const abs = path.resolve(root);
  if (fs.existsSync(abs)) {
    if (!fs.statSync(abs).isDirectory()) throw new EsbenchError('RESULTS_DIR_INVALID', `${abs} is not a directory`);
    const entries = fs.readdirSync(abs);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new EsbenchError('RESULTS_DIR_INVALID', `${abs} is not an esbench results directory (no ${MARKER}); choose another --results`);
    }
  }
  fs.mkdirSync(abs, { recursive: true });
  const marker = path.join(abs, MARKER);
  if (!fs.existsSync(marker)) fs.writeFileSync(marker, 'esbench results directory\n');
  return abs;
}

/** A new run directory named `<UTC timestamp>-<kind>`; never reuses an existing one. */
export function createRunDir(root: string, kind: string, now: Date = new Date()): { id: string; dir: string } {
  const base = openResultsRoot(root);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let n = 0; ; n++) {
    const id = `${stamp}-${kind}${n === 0 ? '' : `-${n}`}`;
    const dir = path.join(base, id);
    try {
      fs.mkdirSync(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

export function writeJson(file: string, value: unknown): void {
  writeJsonAtomic(file, value);
}
