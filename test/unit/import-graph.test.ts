/**
 * The layering of src/ (README "Layout"): lower layers never import higher ones, and no module
 * imports itself through others. eslint's import-x/no-cycle skips `import type`, so type-only
 * cycles (which still tie two files together for a reader) are caught here.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Layer rank per top-level directory of src/; a module may import its own rank or lower. */
const LAYER: Readonly<Record<string, number>> = {
  core: 0,
  cluster: 1,
  store: 2,
  domain: 3,
  service: 4,
  load: 5,
  observe: 5,
  analysis: 6,
  tuner: 7,
  study: 8,
  report: 9,
  cli: 10,
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative import of every file, type-only ones included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((ref) => ref.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.resolve(path.dirname(file), spec));
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan), or a file importing itself. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const rel = (file: string): string => path.relative(SRC, file);
const layerOf = (file: string): string => rel(file).split(path.sep)[0] ?? '';

describe('import graph of src/', () => {
  const graph = importGraph();

  it('finds the files and their imports', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get(path.join(SRC, 'cli/main.ts'))?.length).toBeGreaterThan(0);
  });

  it('has no import cycle, type-only imports included', () => {
    const found = cycles(graph).map((c) => c.map(rel).join(' '));
    expect(found).toEqual([]);
  });

  it('never imports a higher layer', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const target of targets) {
        const to = layerOf(target);
        const fromRank = LAYER[from];
        const toRank = LAYER[to];
        if (fromRank === undefined || toRank === undefined) {
          upward.push(`${rel(file)} -> ${rel(target)}: layer not in the table`);
        } else if (toRank > fromRank) {
          upward.push(`${rel(file)} -> ${rel(target)}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it('the cycle finder sees a cycle (so an empty answer means something)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
  });
});
