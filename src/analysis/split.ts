/**
 * The split: where each endpoint's client latency went, from one run, each figure labelled with
 * where it was measured.
 *
 *   client latency        load generator
 *   server time           service, Server-Timing `total`
 *   pool wait             service, Server-Timing `pool`
 *   DB round trip         service, Server-Timing `db` (send → last row, summed over statements)
 *   DB execution          database, pg_stat_statements (statement means × calls per request)
 *   network + protocol  = DB round trip − DB execution          (means only: see below; it also
 *                         holds the pg driver's parsing and any wait in the service's event loop
 *                         between a result arriving and the service reading it — on a busy
 *                         service that wait dominates)
 *   app overhead        = server − DB round trip − pool wait    (per request)
 *   client / transport  = client − server                       (per request)
 *
 * The five parts — DB execution, network + protocol, pool wait, app overhead, client / transport —
 * add up to the client latency. For means this holds exactly by construction (each difference is
 * taken over the same responses), so the residual shows only clamping and rounding. Percentiles do
 * not add (the p99 of a sum is not the sum of p99s); they are given per component where a per-
 * request distribution exists. pg_stat_statements keeps no per-call distribution, so DB execution
 * has a mean and stddev only, and network + protocol (which needs it) a mean only.
 *
 * pg_stat_statements counts statements, not requests: the calls each endpoint makes per request
 * come from `statementsPerRequest` (the store knows them), or — when a single endpoint ran — from
 * the window's calls divided by its requests.
 */
import * as ss from 'simple-statistics';
import type { EncodedHistogram } from '../load/histogram.ts';
import type { EndpointRecord } from '../load/latency-recorder.ts';
import type { StatementWindow } from '../observe/statement-stats.ts';

export type SplitComponent = 'client' | 'server' | 'poolWait' | 'dbRoundTrip' | 'dbExecution' | 'networkProtocol' | 'appOverhead' | 'clientTransport';

export interface SplitRow {
  component: SplitComponent;
  label: string;
  /** Where (and how) the figure was measured. */
  measuredAt: string;
  kind: 'measured' | 'derived';
  /** One of the disjoint parts that add up to the client latency. */
  part: boolean;
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
  /** The statements counted as this endpoint's DB execution. */
  statements: Array<StatementUse & { meanExecMs: number | null; source: 'given' | 'reported by the service' | 'derived from a single-endpoint run' }>;
  warnings: string[];
}

export interface SplitResult {
  endpoints: EndpointSplit[];
  notes: string[];
}

export interface SplitInput {
  /** The engine's per-endpoint records over the measured window. */
  endpoints: Readonly<Record<string, EndpointRecord>>;
  /** pg_stat_statements windows of the nodes (primary, replica). */
  statements?: readonly StatementWindow[];
  /** Statements each endpoint runs per request. */
  statementsPerRequest?: Readonly<Record<string, readonly StatementUse[]>>;
  /** Where the client latency was measured (engine label). */
  clientMeasuredAt?: string;
  /** A part more negative than this (ms) is reported as inconsistent. Default 0.05 ms. */
  toleranceMs?: number;
}

const LABELS: Record<SplitComponent, { label: string; measuredAt: string; kind: 'measured' | 'derived'; part: boolean }> = {
  client: { label: 'client latency', measuredAt: 'load generator', kind: 'measured', part: false },
  server: { label: 'server time', measuredAt: 'service: Server-Timing total (request received → response ready)', kind: 'measured', part: false },
  poolWait: { label: 'pool wait', measuredAt: 'service: Server-Timing pool (waiting for a pooled connection)', kind: 'measured', part: true },
  dbRoundTrip: { label: 'DB round trip', measuredAt: 'service: Server-Timing db (statement send → last row, summed)', kind: 'measured', part: false },
  dbExecution: { label: 'DB execution', measuredAt: 'database: pg_stat_statements mean exec time × calls per request', kind: 'measured', part: true },
  networkProtocol: {
    label: 'network + protocol',
    measuredAt: "derived: DB round trip − DB execution (means): network, wire protocol, pg driver, and waits in the service's event loop",
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
      if (s.calls > 0) uses.push({ node: w.node, statement: s.name, callsPerRequest: s.calls / requests });
    }
  }
  return uses;
}

export function computeSplit(input: SplitInput): SplitResult {
  const tolerance = input.toleranceMs ?? 0.05;
  const windows = input.statements ?? [];
  const active = Object.entries(input.endpoints).filter(([, r]) => r.counters.sent > 0 || r.latency.count > 0);
  const single = active.length === 1;
  const notes: string[] = [
    'means of the parts add up to the mean client latency; percentiles are per component and do not add',
    'DB execution comes from pg_stat_statements, which keeps means and stddevs, not per-call distributions',
  ];
  const clientMeasuredAt = input.clientMeasuredAt ?? LABELS.client.measuredAt;

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
      return { endpoint, requests: 0, rows, sumOfPartsMs: null, clientMeanMs: rec.latency.mean, residualMs: null, statements: [], warnings };
    }
    rows.push(row('server', rec.server.total), row('poolWait', rec.server.pool), row('dbRoundTrip', rec.server.db));

    // DB execution: statement means × calls per request.
    let uses: EndpointSplit['statements'] = [];
    const given = input.statementsPerRequest?.[endpoint];
    const reported = rec.statementCalls;
    if (given) uses = given.map((u) => ({ ...u, meanExecMs: null, source: 'given' as const }));
    else if (reported && reported.responses > 0 && windows.length > 0) {
      // The service said which statements each response ran (Server-Timing db desc): exact per endpoint.
      uses = Object.entries(reported.calls).map(([key, calls]) => {
        const [node = '', statement = ''] = key.split('.');
        return { node, statement, callsPerRequest: calls / reported.responses, meanExecMs: null, source: 'reported by the service' as const };
      });
    } else if (single && windows.length > 0) {
      uses = deriveUses(rec.counters.sent, windows).map((u) => ({ ...u, meanExecMs: null, source: 'derived from a single-endpoint run' as const }));
    }
    let execMean: number | null = null;
    let execVar = 0;
    if (uses.length > 0) {
      const terms: number[] = [];
      for (const u of uses) {
        const s = windows.find((w) => w.node === u.node)?.byName[u.statement];
        u.meanExecMs = s?.meanExecMs ?? null;
        if (!s || s.meanExecMs === null) {
          warnings.push(`statement ${u.node}:${u.statement} did not run in the window: DB execution unknown`);
          terms.length = 0;
          break;
        }
        terms.push(u.callsPerRequest * s.meanExecMs);
        // Variance of a sum of k independent executions: k · σ².
        execVar += u.callsPerRequest * (s.stddevExecMs ?? 0) ** 2;
      }
      if (terms.length === uses.length) execMean = ss.sum(terms);
    } else if (windows.length > 0) {
      warnings.push('DB execution not split out: give statementsPerRequest for this endpoint (several endpoints ran)');
    }
    const roundTrip = rec.server.db.mean ?? 0;
    const parts: number[] = [];
    if (execMean !== null) {
      const network = roundTrip - execMean;
      if (network < -tolerance) {
        warnings.push(`DB execution (${execMean.toFixed(3)} ms) exceeds the DB round trip (${roundTrip.toFixed(3)} ms): check the statement mapping`);
      }
      rows.push(
        meansOnly('dbExecution', execMean, uses.length === 1 && uses[0]!.callsPerRequest === 1 ? Math.sqrt(execVar) : null, null),
        meansOnly('networkProtocol', network, null, null),
      );
      parts.push(execMean, network);
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
      if (r.part && r.mean !== null && r.mean < -tolerance) warnings.push(`${r.label} is negative (${r.mean.toFixed(3)} ms)`);
    }
    return { endpoint, requests: timed, rows, sumOfPartsMs: sum, clientMeanMs: clientMean, residualMs: sum - clientMean, statements: uses, warnings };
  });

  return { endpoints, notes };
}
