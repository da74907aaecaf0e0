/**
 * `npm run bench [-- --quick] [-- --only NAME]`: every benchmark on a private embedded cluster
 * (a temporary directory, removed afterwards), results saved as JSON before they are printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseArgs } from 'node:util';
import { EmbeddedCluster, urlFor } from '../src/cluster/embedded-cluster.ts';
import { seedLibrary } from '../src/domain/seed.ts';
import { createRunDir, writeJson } from '../src/report/results-dir.ts';
import { applySchema } from '../src/store/schema.ts';
import { appendRace } from './append-race.ts';
import { decisionCost } from './decision-cost.ts';
import { driverReference } from './driver-reference.ts';
import { generatorCost, generatorWorkers } from './generator-workers.ts';
import { appendLatency, appendThroughput, generatorAccuracy, serverOverhead } from './load-benches.ts';
import type { BenchContext, BenchResult } from './bench-context.ts';

const BENCHES: Record<string, (ctx: BenchContext) => Promise<BenchResult>> = {
  'append-race': appendRace,
  'decision-cost': decisionCost,
  'generator-accuracy': generatorAccuracy,
  'server-overhead': serverOverhead,
  'append-throughput': appendThroughput,
  'append-latency': appendLatency,
  'generator-workers': generatorWorkers,
  'driver-reference': driverReference,
  'generator-cost': generatorCost,
};

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, results: { type: 'string', default: 'results' } } });
const names = values.only ? values.only.split(',') : Object.keys(BENCHES);
for (const n of names) if (!BENCHES[n]) throw new Error(`unknown bench '${n}' (have: ${Object.keys(BENCHES).join(', ')})`);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-bench-'));
fs.chmodSync(dataDir, 0o755);
const cluster = new EmbeddedCluster({ dataDir: path.join(dataDir, 'cluster'), tuningDir: path.resolve('tuning'), onProgress: (l) => console.error(`cluster: ${l}`) });
const stop = async () => cluster.destroy().finally(() => fs.rmSync(dataDir, { recursive: true, force: true }));
process.once('SIGINT', () => void stop().then(() => process.exit(130)));
try {
  const state = await cluster.up();
  const primaryUrl = urlFor(state.ports.primary);
  const ctx: BenchContext = {
    primaryUrl,
    replicaUrl: urlFor(state.ports.replica),
    embedded: cluster,
    quick: values.quick ?? false,
    progress: (l) => console.error(l),
    async reseed(events, options = {}) {
      const client = new pg.Client({ connectionString: primaryUrl });
      await client.connect();
      try {
        await applySchema(client, { ginFastupdate: true });
        const r = await seedLibrary(client, { events, books: 1000, readers: 100, seed: 1, reset: true, snapshots: options.snapshots ?? false });
        console.error(`seeded ${events} events in ${r.copySeconds.toFixed(1)} s${options.snapshots ? ' (with snapshots)' : ''}`);
      } finally {
        await client.end();
      }
    },
  };
  const run = createRunDir(values.results ?? 'results', 'bench');
  const results: BenchResult[] = [];
  for (const name of names) {
    const result = await BENCHES[name]!(ctx);
    results.push(result);
    writeJson(path.join(run.dir, 'bench.json'), { at: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) }, node: process.version, results });
    console.log(`\n## ${result.name}\nmeasured: ${result.measured}\n\n${result.table}\n`);
  }
  console.log(`saved: ${path.join(run.dir, 'bench.json')}`);
} finally {
  await stop();
}
