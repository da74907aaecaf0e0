/**
 * Observing a measured window on every node at once: a sampler per node, then a pg_stat_statements
 * snapshot (the window's start: the sampler's set-up stays out of it), and a second snapshot at the
 * end. `esbench run` starts one when the engine's measured window begins (onPhase 'measure') and
 * stops it once the engine has drained, so the statement window covers every request of the load
 * window (less the few ms the samplers take to start).
 */
import type pg from 'pg';
import { connectObserver } from './observer-client.ts';
import { startSampler, type Sampler, type SamplerResult } from './sampler.ts';
import { diffStatements, resetStatements, snapshotStatements, type StatementSnapshot, type StatementWindow } from './statement-stats.ts';

export interface ObservedNode {
  /** 'primary' / 'replica': the label statement windows and samples carry. */
  node: string;
  url: string;
}

export interface ObservationOptions {
  nodes: readonly ObservedNode[];
  /** Sampling interval, ms (default DEFAULT_SAMPLE_INTERVAL_MS in sampler.ts). */
  intervalMs?: number;
  /** Reset pg_stat_statements on each node first, so window stddevs are exact. Default false. */
  resetStatements?: boolean;
}

export interface ObservationResult {
  samplers: SamplerResult[];
  statements: StatementWindow[];
  /** Nodes whose closing pg_stat_statements snapshot failed (e.g. down at the end of the run). */
  errors: Array<{ node: string; message: string }>;
}

export interface Observation {
  stop(): Promise<ObservationResult>;
}

interface Watched {
  node: ObservedNode;
  client: pg.Client;
  before: StatementSnapshot;
  sampler: Sampler;
}

export async function startObservation(options: ObservationOptions): Promise<Observation> {
  // One node given twice (an external primary without a replica URL) is observed once.
  const nodes = options.nodes.filter((n, i, all) => all.findIndex((m) => m.url === n.url) === i);
  // Each node's sampler is started (connected, probed, its statements planned) before that node's
  // opening snapshot, so those one-off costs fall before the window instead of inside it; the
  // nodes start side by side, which keeps the delay to the window's start to one node's set-up.
  const startNode = async (node: ObservedNode): Promise<Watched> => {
    const client = await connectObserver(node.url);
    let sampler: Sampler | undefined;
    try {
      if (options.resetStatements) await resetStatements(client);
      sampler = await startSampler({ url: node.url, node: node.node, ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}) });
      const before = await snapshotStatements(client, { node: node.node });
      return { node, client, before, sampler };
    } catch (e) {
      await sampler?.stop().catch(() => undefined);
      await client.end().catch(() => {});
      throw e;
    }
  };
  const started = await Promise.allSettled(nodes.map(startNode));
  const watched = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Leave nothing running behind a failed start.
    for (const w of watched) {
      await w.sampler.stop().catch(() => undefined);
      await w.client.end().catch(() => {});
    }
    throw failed.reason;
  }
  return {
    stop: async () => {
      const samplers: SamplerResult[] = [];
      const statements: StatementWindow[] = [];
      const errors: ObservationResult['errors'] = [];
      for (const w of watched) {
        try {
          statements.push(diffStatements(w.before, await snapshotStatements(w.client, { node: w.node.node })));
        } catch (e) {
          // A node that is down when the window closes loses its statement window, not the run:
          // what the generator and the other node measured is still worth keeping.
          errors.push({ node: w.node.node, message: (e as Error).message });
        } finally {
          samplers.push(await w.sampler.stop());
          await w.client.end().catch(() => {});
        }
      }
      return { samplers, statements, errors };
    },
  };
}
