/**
 * The split: where each endpoint's client latency went, from one run, each figure labelled with
 * where it was measured.
 *
 *   client latency        load generator
 *   server time           service, Server-Timing `total`
 *   pool wait             service, Server-Timing `pool`
 *   DB round trip         service, Server-Timing `db` (send → last result, summed over round trips)
 *   DB execution          database, pg_stat_statements: this endpoint's own statements (tagged
 *                         `name@endpoint`), mean × calls per request
 *   DB planning           database, pg_stat_statements (track_planning), the same way
 *   wire + wake-ups       service probe: the window's mean round trip of a trivial statement on
 *                         the primary pool − its own execution and planning, × round trips per
 *                         request
 *   decode                service, driver: first result message → result, per statement
 *   unexplained        =  DB round trip − the four above (per means; the service's event-loop
 *                         waits beyond the probe's, overlaps). Negative: measurement noise, shown
 *                         with its magnitude, never clamped.
 *   app overhead       =  server − DB round trip − pool wait    (per request)
 *   client / transport =  client − server                       (per request)
 *
 * The parts add up to the client latency. For means this holds exactly by construction (each
 * difference is taken over the same responses), so the residual shows only rounding. Percentiles do
 * not add (the p99 of a sum is not the sum of p99s); they are given per component where a per-
 * request distribution exists. pg_stat_statements keeps no per-call distribution, so DB execution
 * and planning have means only.
 *
 * pg_stat_statements counts statements, not requests: the calls each endpoint makes per request
 * come from the service (Server-Timing db desc, `pool.name@endpoint:n`), from `statementsPerRequest`,
 * or — when a single endpoint ran — from the window's calls divided by its requests.
 */
import * as ss from 'simple-statistics';
import type { EncodedHistogram } from '../load/histogram.ts';
import type { EndpointRecord, ProbeSample } from '../load/latency-recorder.ts';
import { PROBE_STATEMENT } from '../store/pool-probe.ts';
import type { StatementWindow } from '../observe/statement-stats.ts';

export type SplitComponent =
  | 'client'
  | 'server'
  | 'poolWait'
  | 'dbRoundTrip'
  | 'dbExecution'
  | 'dbPlanning'
  | 'wire'
  | 'decode'
  | 'dbUnexplained'
  | 'appOverhead'
  | 'clientTransport';

export interface SplitRow {
  component: SplitComponent;
  label: string;
  /** Where (and how) the figure was measured. */
  measuredAt: string;
  kind: 'measured' | 'derived';
  /** One of the disjoint parts that add up to the client latency. */
  part: boolean;
  /** A derived part below zero: measurement noise of that magnitude, not a time anything took. */
  noise?: boolean;
  count: number | null;
  mean: number | null;
  stddev: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** One statement an endpoint runs, and how many times per request. */
export interface StatementUse {
  node: string;
  statement: string;
  callsPerRequest: number;
}

export type StatementSource =
  | 'given'
  | 'reported by the service'
  | 'shared between endpoints'
  | 'derived from a single-endpoint run';

export interface EndpointSplit {
  endpoint: string;
  /** Responses that carried Server-Timing (the split covers these). */
  requests: number;
  rows: SplitRow[];
  /** Sum of the parts' means, ms. */
  sumOfPartsMs: number | null;
  /** Mean client latency of the same responses, ms. */
  clientMeanMs: number | null;
  /** sumOfParts − clientMean. */
  residualMs: number | null;
  /** The statements counted as this endpoint's DB time. */
  statements: Array<StatementUse & { meanExecMs: number | null; meanPlanMs: number | null; source: StatementSource }>;
  /** What the service's driver received per request (Server-Timing decode). */
  driver: { roundTripsPerRequest: number; rowsPerRequest: number; bytesPerRequest: number } | null;
  warnings: string[];
}

export interface SplitResult {
  endpoints: EndpointSplit[];
  /** The calibration probe over the window (null without readings). */
  probe: { readings: number; roundTripMeanMs: number; dbMeanMs: number | null; wireMeanMs: number | null } | null;
  notes: string[];
}

export interface SplitInput {
  /** The engine's per-endpoint records over the measured window. */
  endpoints: Readonly<Record<string, EndpointRecord>>;
  /** pg_stat_statements windows of the nodes (primary, replica). */
  statements?: readonly StatementWindow[];
  /** Statements each endpoint runs per request. */
  statementsPerRequest?: Readonly<Record<string, readonly StatementUse[]>>;
  /** The service's calibration probe readings in the window (Server-Timing probe). */
  probes?: readonly ProbeSample[];
  /** Where the client latency was measured (engine label). */
  clientMeasuredAt?: string;
  /** A part more negative than this (ms) is reported as inconsistent. Default 0.05 ms. */
  toleranceMs?: number;
}

const LABELS: Record<SplitComponent, { label: string; measuredAt: string; kind: 'measured' | 'derived'; part: boolean }> = {
  client: { label: 'client latency', measuredAt: 'load generator', kind: 'measured', part: false },
  server: { label: 'server time', measuredAt: 'service: Server-Timing total (request received → response ready)', kind: 'measured', part: false },
  poolWait: { label: 'pool wait', measuredAt: 'service: Server-Timing pool (waiting for a pooled connection)', kind: 'measured', part: true },
  dbRoundTrip: { label: 'DB round trip', measuredAt: 'service: Server-Timing db (statement send → last result, summed)', kind: 'measured', part: false },
  dbExecution: { label: 'DB execution', measuredAt: "database: pg_stat_statements, this endpoint's statements, mean exec time × calls per request", kind: 'measured', part: true },
  dbPlanning: { label: 'DB planning', measuredAt: "database: pg_stat_statements (track_planning), this endpoint's statements, mean plan time × calls per request", kind: 'measured', part: true },
  wire: {
    label: 'wire + wake-ups',
    measuredAt: 'service probe: mean round trip of SELECT 1 on the primary pool in the window − its DB time, × round trips per request',
    kind: 'derived',
    part: true,
  },
  decode: { label: 'decode (driver)', measuredAt: 'service: Server-Timing decode (first result message → result, per statement)', kind: 'measured', part: true },
  dbUnexplained: {
    label: 'unexplained DB round trip',
    measuredAt: "derived: DB round trip − execution − planning − wire − decode (means): the service's event-loop waits beyond the probe's, and overlaps",
    kind: 'derived',
    part: true,
  },
  appOverhead: { label: 'app overhead', measuredAt: 'derived per request: server time − DB round trip − pool wait', kind: 'derived', part: true },
  clientTransport: { label: 'client / transport', measuredAt: 'derived per request: client latency − server time (network, HTTP, client)', kind: 'derived', part: true },
};
function row(component: SplitComponent, h: EncodedHistogram | null, overrides: Partial<SplitRow> = {}): SplitRow {
  return {
    component,
    ...LABELS[component],
    count: h ? h.count : null,
    mean: h ? h.mean : null,
    stddev: h ? h.stddev : null,
    p50: h ? h.p50 : null,
    p90: h ? h.p90 : null,
    p99: h ? h.p99 : null,
    max: h ? h.max : null,
    ...overrides,
  };
}

function meansOnly(component: SplitComponent, mean: number | null, stddev: number | null, count: number | null): SplitRow {
  return row(component, null, { mean, stddev, count });
}

/** Calls per request of every tagged statement, when exactly one endpoint ran. */
function deriveUses(requests: number, windows: readonly StatementWindow[]): StatementUse[] {
  if (requests <= 0) return [];
  const uses: StatementUse[] = [];
  for (const w of windows) {
    for (const s of Object.values(w.byName)) {
      if (s.calls > 0 && s.name !== PROBE_STATEMENT) uses.push({ node: w.node, statement: s.name, callsPerRequest: s.calls / requests });
    }
  }
  return uses;
}

/** `query@lend-book-copy` → `query`. */
const baseName = (tag: string): string => tag.split('@')[0] ?? tag;

interface Found {
  calls: number;
  meanExecMs: number | null;
  meanPlanMs: number | null;
  shared: boolean;
}

/**
 * The window's figures of one statement tag. The exact tag first; else (a utility statement such
 * as BEGIN or COMMIT, whose queryid ignores the comment on PG 16+, so pg_stat_statements keeps the
 * first endpoint's tag for all of them) every entry of the same statement name, flagged shared.
 */
function lookup(window: StatementWindow | undefined, tag: string, reportedCalls: ReadonlyMap<string, number>): Found | null {
  if (!window) return null;
  const exact = window.byName[tag];
  const node = window.node;
  if (exact && exact.meanExecMs !== null) {
    // More calls than every endpoint reported for this tag: other endpoints' calls landed here too.
    const reported = reportedCalls.get(`${node}.${tag}`) ?? 0;
    const shared = tag.includes('@') && reported > 0 && exact.calls > 1.5 * reported + 10;
    return { calls: exact.calls, meanExecMs: exact.meanExecMs, meanPlanMs: exact.meanPlanMs, shared };
  }
  const name = baseName(tag);
  let calls = 0;
  let exec = 0;
  let plan = 0;
  for (const e of Object.values(window.byName)) {
    if (baseName(e.name) !== name) continue;
    calls += e.calls;
    exec += e.totalExecMs;
    plan += e.totalPlanMs;
  }
  if (calls === 0) return null;
  return { calls, meanExecMs: exec / calls, meanPlanMs: plan / calls, shared: true };
}

export function computeSplit(input: SplitInput): SplitResult {
  const tolerance = input.toleranceMs ?? 0.05;
  const windows = input.statements ?? [];
  const active = Object.entries(input.endpoints).filter(([, r]) => r.counters.sent > 0 || r.latency.count > 0);
  const single = active.length === 1;
  const notes: string[] = [
    'means of the parts add up to the mean client latency; percentiles are per component and do not add',
    'DB execution and planning come from pg_stat_statements, which keeps means, not per-call distributions',
  ];
  for (const w of windows) {
    if (w.planning !== 'tracked') notes.push(`${w.node}: planning time is not in pg_stat_statements (${w.planning}): it stays in the unexplained part`);
  }
  const clientMeasuredAt = input.clientMeasuredAt ?? LABELS.client.measuredAt;

  // Calls every endpoint reported per tag, to tell an endpoint's own entry from a shared one.
  const reportedCalls = new Map<string, number>();
  for (const [, rec] of active) {
    for (const [k, n] of Object.entries(rec.statementCalls?.calls ?? {})) reportedCalls.set(k, (reportedCalls.get(k) ?? 0) + n);
  }

  // The probe: its round trip in the window, less what the database spent on it.
  const probes = input.probes ?? [];
  let probe: SplitResult['probe'] = null;
  if (probes.length > 0) {
    const roundTripMeanMs = ss.mean(probes.map((p) => p.ms));
    const entry = windows.find((w) => w.node === 'primary')?.byName[PROBE_STATEMENT];
    const dbMeanMs = entry && entry.meanExecMs !== null ? entry.meanExecMs + (entry.meanPlanMs ?? 0) : null;
    probe = { readings: probes.length, roundTripMeanMs, dbMeanMs, wireMeanMs: dbMeanMs === null ? null : roundTripMeanMs - dbMeanMs };
    if (probes.length < 10) notes.push(`only ${probes.length} probe reading(s) in the window: wire + wake-ups is a rough figure`);
  } else {
    notes.push('no calibration probe readings (service without a probe, or an external one): wire, decode and the service\'s waits stay together');
  }

  const endpoints = active.map(([endpoint, rec]): EndpointSplit => {
    const warnings: string[] = [];
    const timed = rec.server.total.count;
    if (rec.serverTimingMissing > 0) {
      warnings.push(`${rec.serverTimingMissing} response(s) had no Server-Timing header: the split covers the ${timed} that had one`);
    }
    if (rec.negativeTransport > 0) {
      warnings.push(`${rec.negativeTransport} response(s) had a client latency below their server time (clock granularity); counted as 0`);
    }
    const rows: SplitRow[] = [row('client', rec.latency, { measuredAt: clientMeasuredAt })];
    if (timed === 0) {
      warnings.push('no response carried Server-Timing: only the client latency is known');
      return { endpoint, requests: 0, rows, sumOfPartsMs: null, clientMeanMs: rec.latency.mean, residualMs: null, statements: [], driver: null, warnings };
    }
    rows.push(row('server', rec.server.total), row('poolWait', rec.server.pool), row('dbRoundTrip', rec.server.db));

    // DB execution and planning: statement means × calls per request.
    let uses: EndpointSplit['statements'] = [];
    const given = input.statementsPerRequest?.[endpoint];
    const reported = rec.statementCalls;
    if (given) uses = given.map((u) => ({ ...u, meanExecMs: null, meanPlanMs: null, source: 'given' as const }));
    else if (reported && reported.responses > 0 && windows.length > 0) {
      // The service said which statements each response ran (Server-Timing db desc): exact per endpoint.
      uses = Object.entries(reported.calls).map(([key, calls]) => {
        const dot = key.indexOf('.');
        return {
          node: key.slice(0, dot),
          statement: key.slice(dot + 1),
          callsPerRequest: calls / reported.responses,
          meanExecMs: null,
          meanPlanMs: null,
          source: 'reported by the service' as const,
        };
      });
    } else if (single && windows.length > 0) {
      uses = deriveUses(rec.counters.sent, windows).map((u) => ({ ...u, meanExecMs: null, meanPlanMs: null, source: 'derived from a single-endpoint run' as const }));
    }
    let execMean: number | null = null;
    let planMean: number | null = null;
    let execVar = 0;
    if (uses.length > 0) {
      let exec = 0;
      let plan = 0;
      let complete = true;
      for (const u of uses) {
        const found = lookup(windows.find((w) => w.node === u.node), u.statement, reportedCalls);
        if (!found || found.meanExecMs === null) {
          warnings.push(`statement ${u.node}:${u.statement} did not run in the window: DB execution unknown`);
          complete = false;
          break;
        }
        u.meanExecMs = found.meanExecMs;
        u.meanPlanMs = found.meanPlanMs;
        if (found.shared && u.source !== 'given' && u.source !== 'derived from a single-endpoint run') u.source = 'shared between endpoints';
        exec += u.callsPerRequest * found.meanExecMs;
        plan += u.callsPerRequest * (found.meanPlanMs ?? 0);
        const s = windows.find((w) => w.node === u.node)?.byName[u.statement];
        // Variance of a sum of k independent executions: k · σ².
        execVar += u.callsPerRequest * (s?.stddevExecMs ?? 0) ** 2;
      }
      if (complete) {
        execMean = exec;
        planMean = plan;
      }
      const shared = uses.filter((u) => u.source === 'shared between endpoints').map((u) => `${u.node}:${baseName(u.statement)}`);
      if (shared.length > 0) notes.push(`${endpoint}: ${[...new Set(shared)].join(', ')} share one pg_stat_statements entry with other endpoints (utility statements; their mean is all endpoints' mean)`);
    } else if (windows.length > 0) {
      warnings.push('DB execution not split out: give statementsPerRequest for this endpoint (several endpoints ran)');
    }

    const driverRec = rec.driver;
    const driver =
      driverRec && driverRec.responses > 0
        ? {
            roundTripsPerRequest: driverRec.roundTrips / driverRec.responses,
            rowsPerRequest: driverRec.rows / driverRec.responses,
            bytesPerRequest: driverRec.bytes / driverRec.responses,
          }
        : null;
    const roundTrip = rec.server.db.mean ?? 0;
    const parts: number[] = [];
    if (execMean !== null) {
      if (execMean > roundTrip + tolerance) {
        warnings.push(`DB execution (${execMean.toFixed(3)} ms) exceeds the DB round trip (${roundTrip.toFixed(3)} ms): check the statement mapping`);
      }
      rows.push(meansOnly('dbExecution', execMean, uses.length === 1 && uses[0]!.callsPerRequest === 1 ? Math.sqrt(execVar) : null, null));
      parts.push(execMean);
      const planningTracked = uses.every((u) => windows.find((w) => w.node === u.node)?.planning === 'tracked');
      if (planningTracked && planMean !== null) {
        rows.push(meansOnly('dbPlanning', planMean, null, null));
        parts.push(planMean);
      }
      let rest = roundTrip - execMean - (planningTracked ? planMean ?? 0 : 0);
      if (probe?.wireMeanMs != null && driver) {
        const wire = probe.wireMeanMs * driver.roundTripsPerRequest;
        rows.push(meansOnly('wire', wire, null, null));
        parts.push(wire);
        rest -= wire;
      }
      if (driverRec && driverRec.responses > 0) {
        // Decode is measured on the responses that reported it; its mean stands for all of them.
        rows.push(row('decode', driverRec.decode));
        parts.push(driverRec.decode.mean ?? 0);
        rest -= driverRec.decode.mean ?? 0;
      }
      const unexplained = meansOnly('dbUnexplained', rest, null, null);
      if (rest < -tolerance) {
        unexplained.noise = true;
        unexplained.label = `measurement noise (${rest.toFixed(3)} ms: the parts above overlap or err by that much)`;
      }
      rows.push(unexplained);
      parts.push(rest);
    } else {
      // Without DB execution the round trip stands as one part.
      const rt = rows.find((r) => r.component === 'dbRoundTrip')!;
      rt.part = true;
      parts.push(roundTrip);
    }
    rows.push(row('appOverhead', rec.appDerived), row('clientTransport', rec.transport));
    parts.push(rec.server.pool.mean ?? 0, rec.appDerived.mean ?? 0, rec.transport.mean ?? 0);

    // The client mean of the same responses: transport and total are both per timed response.
    const clientMean = (rec.transport.mean ?? 0) + (rec.server.total.mean ?? 0);
    const sum = ss.sum(parts);
    for (const r of rows) {
      if (r.part && !r.noise && r.mean !== null && r.mean < -tolerance) warnings.push(`${r.label} is negative (${r.mean.toFixed(3)} ms)`);
    }
    return { endpoint, requests: timed, rows, sumOfPartsMs: sum, clientMeanMs: clientMean, residualMs: sum - clientMean, statements: uses, driver, warnings };
  });

  return { endpoints, probe, notes };
}
