/**
 * Samples one node every 500 ms (configurable) during a run: backends by state and by application
 * (which pool), wait events, vacuum / analyze workers and their tables, checkpoints, GIN pending
 * lists, WAL position, replication lag, cache hits, dead tuples. PostgreSQL 15 to 18.
 *
 * The loop only: the statement of a sample is sample-sql.ts, the run's summary node-summary.ts,
 * the events events.ts. One round trip per sample on a fixed tick grid (a slow sample skips ticks);
 * its connection is `esbench_observer` and its SQL is tagged, so neither backend counts nor
 * statement statistics include it; what each sample cost (round trip, ms) is reported.
 */
import { APPLICATION_NAMES } from '../core/application-names.ts';
import type pg from 'pg';
import * as ss from 'simple-statistics';
import { deriveEvents, type TimelineEvent } from './events.ts';
import { summarize, type NodeSummary } from './node-summary.ts';
import type { Sample } from './sample.ts';
import { buildSampleSql, TARGETS_SQL, toSample, type RawSample, type SampleSqlOptions } from './sample-sql.ts';
import { OBSERVER_APPLICATION_NAME, observerSql, connectObserver, nodeInfo } from './observer-client.ts';

/**
 * Backends, waits, vacuum progress, WAL and replication twice a second; the detailed parts once a
 * second (DETAIL_EVERY_MS). At 250 ms the light samples were half of the observer's database time
 * (see README); the spike analysis works per second and still gets two samples of each.
 */
export const DEFAULT_SAMPLE_INTERVAL_MS = 500;
export const POOL_APPLICATION_NAMES = [APPLICATION_NAMES.primaryPool, APPLICATION_NAMES.replicaPool] as const;

export interface SamplerResult {
  node: string;
  serverVersionNum: number;
  inRecovery: boolean;
  intervalMs: number;
  startedAt: number;
  stoppedAt: number;
  samples: Sample[];
  /** Ticks skipped because the previous sample was still running. */
  missedTicks: number;
  errors: Array<{ at: number; message: string }>;
  /** What could not be observed on this node, and why. */
  notes: string[];
  /** What sampling cost: round trip per sample, and its share of the interval. */
  cost: { meanMs: number; p99Ms: number; maxMs: number; fractionOfInterval: number } | null;
  events: TimelineEvent[];
  summary: NodeSummary;
  /**
   * Settings that give maintenance its rhythm and GIN its flush point, read once at start
   * (name → setting with its unit, e.g. autovacuum_naptime → '120s'): the spike analysis lays a
   * spike period next to them. Absent in runs saved before it was added.
   */
  settings?: Record<string, string>;
}

/** The settings recorded in SamplerResult.settings. */
export const RHYTHM_SETTINGS = ['autovacuum', 'autovacuum_naptime', 'autovacuum_analyze_scale_factor', 'autovacuum_analyze_threshold', 'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_insert_threshold', 'gin_pending_list_limit', 'checkpoint_timeout'] as const;

async function readSettings(client: pg.ClientBase): Promise<Record<string, string>> {
  const r = await client.query<{ name: string; setting: string; unit: string | null }>(
    observerSql('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])'),
    [RHYTHM_SETTINGS],
  );
  return Object.fromEntries(r.rows.map((x) => [x.name, `${x.setting}${x.unit ?? ''}`]));
}

export interface SamplerOptions {
  url: string;
  /** Label for results: 'primary' / 'replica'. */
  node: string;
  intervalMs?: number;
  /** Stops the sampler too (stop() still returns the result). */
  signal?: AbortSignal;
  onSample?: (sample: Sample) => void;
}

export interface Sampler {
  readonly node: string;
  /** Stops sampling (waits for a sample in progress) and returns everything. */
  stop(): Promise<SamplerResult>;
}

const TARGETS_REFRESH = 40;

/** How often a sample reads the slow-moving parts (see Sample.detail). */
export const DETAIL_EVERY_MS = 1000;

interface Targets {
  tables: string[];
  gin: string[];
}

async function findTargets(client: pg.ClientBase): Promise<Targets> {
  // Named: planned once per connection (it was planned on every refresh, ~3 ms each under load).
  const r = await client.query<Targets>({ name: 'esbench_observer_targets', text: TARGETS_SQL });
  return { tables: r.rows[0]?.tables ?? [], gin: r.rows[0]?.gin ?? [] };
}

async function probe(client: pg.ClientBase, sql: string): Promise<string | null> {
  try {
    await client.query(observerSql(`${sql}`));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

async function pgstattupleSchema(client: pg.ClientBase): Promise<string | null> {
  const r = await client.query<{ schema: string }>(
    observerSql(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgstattuple'`),
  );
  const schema = r.rows[0]?.schema;
  // A schema name cannot be a bound parameter; it comes from the catalog and is quoted.
  return schema === undefined ? null : client.escapeIdentifier(schema);
}

export async function startSampler(options: SamplerOptions): Promise<Sampler> {
  const intervalMs = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  if (!(intervalMs >= 10)) throw new RangeError('the sample interval must be at least 10 ms');
  let client = await connectObserver(options.url);
  const info = await nodeInfo(client);
  // Optional parts are probed once: a missing extension or privilege must not fail every sample.
  const notes: string[] = [];
  let ginSchema = await pgstattupleSchema(client);
  if (ginSchema === null) notes.push('pgstattuple is not installed in this database: GIN pending lists are not sampled');
  else {
    const denied = await probe(client, `SELECT ${ginSchema}.pgstatginindex(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam AND am.amname = 'gin' LIMIT 1`);
    if (denied !== null) {
      notes.push(`pgstatginindex failed (${denied}): GIN pending lists are not sampled`);
      ginSchema = null;
    }
  }
  const settings = await readSettings(client).catch((e: unknown) => {
    notes.push(`pg_settings could not be read (${(e as Error).message}): periods are not compared with settings`);
    return {};
  });
  const controlDenied = await probe(client, 'SELECT checkpoint_time FROM pg_control_checkpoint()');
  if (controlDenied !== null) {
    notes.push(`pg_control_checkpoint() failed (${controlDenied}): checkpoints are detected from counters only, without their time`);
  }
  const sqlOptions: SampleSqlOptions = {
    serverVersionNum: info.serverVersionNum,
    inRecovery: info.inRecovery,
    pgstattupleSchema: ginSchema,
    controlFile: controlDenied === null,
  };
  const sqlDetail = buildSampleSql(sqlOptions);
  const sqlLight = buildSampleSql({ ...sqlOptions, detail: false });
  const samples: Sample[] = [];
  const errors: SamplerResult['errors'] = [];
  let missedTicks = 0;
  let targets: Targets | undefined;
  // The slow-moving parts (table counters, GIN pending lists, checkpoint counters and the control
  // file, database counters) once per DETAIL_EVERY_MS; backends, waits, vacuum progress, WAL and
  // replication lag every sample. The first sample and a closing one (at stop) carry them.
  let lastDetailAt = Number.NEGATIVE_INFINITY;
  const detailDue = (at: number): boolean => {
    if (at - lastDetailAt >= DETAIL_EVERY_MS - intervalMs / 2) {
      lastDetailAt = at;
      return true;
    }
    return false;
  };
  let samplesSinceTargets = 0;
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const startedAt = Date.now();
  let origin = performance.now();
  let tickIndex = 0;
  const light = (): pg.QueryConfig => ({ name: 'esbench_observer_sample_light', text: sqlLight, values: [OBSERVER_APPLICATION_NAME] });
  const detailed = (t: Targets): pg.QueryConfig => ({ name: 'esbench_observer_sample', text: sqlDetail, values: [OBSERVER_APPLICATION_NAME, t.tables, t.gin] });

  const sampleOnce = async (): Promise<void> => {
    const at = Date.now();
    const t0 = performance.now();
    try {
      // A named (prepared) statement: the big catalog query is planned once per connection, not
      // on every sample (planning it costs more than running it).
      if (targets === undefined || samplesSinceTargets >= TARGETS_REFRESH) {
        targets = await findTargets(client);
        samplesSinceTargets = 0;
      }
      samplesSinceTargets += 1;
      const r = await client.query<{ sample: RawSample }>(detailDue(at) ? detailed(targets) : light());
      const raw = r.rows[0]?.sample;
      if (!raw) return;
      const sample = toSample(raw, at, performance.now() - t0);
      samples.push(sample);
      options.onSample?.(sample);
    } catch (e) {
      errors.push({ at, message: (e as Error).message });
      targets = undefined;
      // A broken connection (node restarted): open a new one for the next tick.
      try {
        await client.end();
      } catch {
        /* already closed */
      }
      if (!stopped) {
        try {
          client = await connectObserver(options.url);
        } catch (e2) {
          errors.push({ at: Date.now(), message: `reconnect: ${(e2 as Error).message}` });
        }
      }
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    tickIndex += 1;
    const due = origin + tickIndex * intervalMs;
    timer = setTimeout(tick, Math.max(0, due - performance.now()));
  };

  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    // Fixed ticks: a slow sample skips ticks instead of drifting the sampling grid.
    const behind = Math.floor((performance.now() - origin) / intervalMs) - tickIndex;
    if (behind > 0) {
      missedTicks += behind;
      tickIndex += behind;
    }
    running = sampleOnce().finally(() => {
      running = undefined;
      schedule();
    });
  };

  const stop = async (): Promise<SamplerResult> => {
    if (!stopped) {
      stopped = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      await running;
      // A closing sample with the slow-moving parts, so the window's counters end at its end.
      if (samples.at(-1)?.detail === false) {
        lastDetailAt = Number.NEGATIVE_INFINITY;
        await sampleOnce();
      }
      try {
        await client.end();
      } catch {
        /* closing a broken connection */
      }
    }
    const costs = samples.map((s) => s.costMs);
    const events = deriveEvents(samples, options.node, info.inRecovery);
    return {
      node: options.node,
      serverVersionNum: info.serverVersionNum,
      inRecovery: info.inRecovery,
      intervalMs,
      startedAt,
      stoppedAt: Date.now(),
      samples,
      missedTicks,
      errors,
      notes,
      cost:
        costs.length > 0
          ? { meanMs: ss.mean(costs), p99Ms: ss.quantile(costs, 0.99), maxMs: ss.max(costs), fractionOfInterval: ss.mean(costs) / intervalMs }
          : null,
      events,
      summary: summarize(samples, events),
      settings,
    };
  };
  const onAbort = (): void => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  // Everything that costs the node once happens here, before startSampler returns: the probes
  // above, the targets, and the planning of both sample statements (the light one is run once and
  // its result dropped; the first sample is a detailed one). A caller that takes its opening
  // pg_stat_statements snapshot after this (observation.ts) keeps that one-off cost — planning is
  // ~4-8 ms per statement on an idle node, tens of ms on a busy one — out of the window it measures.
  try {
    targets = await findTargets(client);
    await client.query(light());
  } catch (e) {
    // The first sample below reports (and recovers from) whatever failed here.
    targets = undefined;
    errors.push({ at: Date.now(), message: `warm-up: ${(e as Error).message}` });
  }
  // The first sample right away, so the window starts with a baseline (stop() waits for it).
  running = sampleOnce().finally(() => {
    running = undefined;
  });
  await running;
  origin = performance.now();
  schedule();
  return { node: options.node, stop };
}
