/**
 * `--only generator-workers`: how far the paced engine goes with one and with two generator
 * processes (`--workers`), against a no-op HTTP server (test/helpers/delay-server.ts: its own
 * worker thread in the bench process, no delay). Achieved/target and schedule lag are measured by
 * the engine itself (client side); on a small machine the no-op server and the generator share the
 * cores, so a missed rate can be the server's or the machine's as much as the generator's (the
 * table gives the generators' CPU next to it).
 */
import { runPaced, type PacedRunResult } from '../src/load/paced-engine.ts';
import { runPacedWorkers } from '../src/load/paced-workers.ts';
import { createWorkload, WORKLOAD_PRESETS } from '../src/load/workload.ts';
import { startDelayServer } from '../test/helpers/delay-server.ts';
import type { BenchContext, BenchResult } from './bench-context.ts';

export async function generatorWorkers(ctx: BenchContext): Promise<BenchResult> {
  const server = await startDelayServer({});
  const spec = WORKLOAD_PRESETS['raw-query'];
  const durationMs = ctx.quick ? 3000 : 6000;
  const rows = [];
  try {
    for (const rate of [1000, 5000, 20_000]) {
      for (const workers of [1, 2]) {
        ctx.progress(`generator-workers: ${rate} req/s, ${workers} worker(s)`);
        const common = { url: server.url, rate, durationMs, warmupMs: 1000, seed: 1, keepSeconds: true };
        const r: PacedRunResult =
          workers === 1 ? await runPaced({ ...common, workload: createWorkload(spec) }) : await runPacedWorkers({ ...common, workers, spec });
        rows.push({
          rate,
          workers,
          achieved: r.achievedRate,
          ratio: (r.achievedRate ?? 0) / rate,
          scheduleLagP99Ms: r.scheduleLag.p99,
          scheduleLagMaxMs: r.scheduleLag.max,
          latencyP99Ms: r.latency.p99,
          sent: r.counters.sent,
          dropped: r.counters.dropped,
          timeouts: r.counters.timeouts,
          generatorCpuMean: r.client.cpuMean,
          warnings: r.warnings.map((w) => w.message),
        });
      }
    }
  } finally {
    await server.close();
  }
  const f = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? '-' : n.toFixed(d));
  return {
    name: 'generator-workers',
    measured: `client side: the paced engine (${durationMs / 1000} s window, 1 s warm-up, even arrivals) against a local no-op HTTP server in a worker thread of the bench process; CPU = the generator processes' cores (sum over workers)`,
    data: rows,
    table: [
      'target/s | workers | achieved/s | achieved/target | schedule lag p99 / max ms | latency p99 ms | dropped | timeouts | generator CPU (cores) | warnings',
      '--- | --- | --- | --- | --- | --- | --- | --- | --- | ---',
      ...rows.map(
        (r) =>
          `${r.rate} | ${r.workers} | ${f(r.achieved, 1)} | ${f(r.ratio, 4)} | ${f(r.scheduleLagP99Ms)} / ${f(r.scheduleLagMaxMs)} | ${f(r.latencyP99Ms)} | ${r.dropped} | ${r.timeouts} | ${f(r.generatorCpuMean)} | ${r.warnings.length}`,
      ),
    ].join('\n'),
  };
}
