/**
 * Observing a measured window on every node at once: a pg_stat_statements snapshot at the start,
 * a sampler per node while it runs, and a second snapshot at the end. `esbench run` starts one
 * when the engine's measured window begins (onPhase 'measure') and stops it once the engine has
 * drained, so the statement window covers every request of the load window.
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
  /** Sampling interval, ms (default 250). */
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
  const watched: Watched[] = [];
  try {
    for (const node of nodes) {
      const client = await connectObserver(node.url);
      try {
        if (options.resetStatements) await resetStatements(client);
        const before = await snapshotStatements(client, { node: node.node });
        const sampler = await startSampler({ url: node.url, node: node.node, ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}) });
        watched.push({ node, client, before, sampler });
      } catch (e) {
        await client.end().catch(() => {});
        throw e;
      }
    }
  } catch (e) {
    // Leave nothing running behind a failed start.
    for (const w of watched) {
      await w.sampler.stop().catch(() => undefined);
      await w.client.end().catch(() => {});
    }
    throw e;
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
